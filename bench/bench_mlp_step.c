/* bench_mlp_step.c: wall time of one full training step of the 785-512-256-10
 * MLP (zero grads, forward, cross-entropy, backward, AdamW step), the unit of
 * work every pretraining and fine-tuning run repeats.
 *
 *   build/bench_mlp_step [--batch N] [--steps K] [--warmup W] [--threads T]
 *
 * Prints one JSON line with the median, p10 and p90 of the per-step times in
 * milliseconds; bench/torch_mlp_step.py prints the same line for PyTorch and
 * bench/mlp_step.sh sets the two side by side. The median, not the mean, so
 * one step delayed by the OS does not move the number. */
#include "bench.h"

#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC "785-512-256-10"

int main(int argc, char **argv) {
    int batch = 32, steps = 200, warmup = 20, threads = 0;
    const bench_opt opts[] = {
        {"--batch", &batch, 1}, {"--steps", &steps, 1}, {"--warmup", &warmup, 0}, {"--threads", &threads, 0}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof *opts))) return 2;
    threads = fl_set_threads(threads);

    fl_mlp m;
    fl_classifier_step s;
    if (fl_mlp_create_from_spec(&m, SPEC) || fl_classifier_step_alloc(&s, &m, batch)) {
        fprintf(stderr, "bench_mlp_step: %s\n", fl_error_msg());
        return 1;
    }
    fl_rng rng;
    fl_rng_init(&rng, 1, FL_STREAM_INIT);
    fl_mlp_init(&m, &rng);

    /* One fixed batch of MNIST-shaped data: pixel-like values in [0, 1) and
     * uniform labels. The step's cost does not depend on the values, and a
     * fixed batch keeps data gathering out of the measurement. */
    const int in = m.dims[0], V = m.dims[m.nlayers];
    float *x = malloc((size_t)batch * in * sizeof(float));
    int *y = malloc((size_t)batch * sizeof(int));
    double *times = malloc((size_t)steps * sizeof(double));
    if (!x || !y || !times) {
        fprintf(stderr, "bench_mlp_step: out of memory\n");
        return 1;
    }
    fl_rng_init(&rng, 1, FL_STREAM_DATA);
    for (long i = 0; i < (long)batch * in; i++) x[i] = fl_rng_float(&rng);
    for (int i = 0; i < batch; i++) y[i] = (int)fl_rng_below(&rng, (uint32_t)V);

    fl_optim opt;
    fl_optim_adamw(&opt, 0.9f, 0.999f, 1e-8f, 0.01f);
    float loss = 0.0f;
    for (int t = 0; t < warmup + steps; t++) {
        double t0 = fl_now();
        fl_blob_zero_grads(&m.blob);
        loss = fl_classifier_ce_step(&m, &s, x, y, NULL, batch);
        fl_optim_step(&opt, &m.blob, 1e-3f);
        double dt = fl_now() - t0;
        if (t >= warmup) times[t - warmup] = 1e3 * dt;
    }
    /* A non-finite loss would mean the steps measured were not real ones. */
    if (!isfinite(loss)) {
        fprintf(stderr, "bench_mlp_step: loss became %g\n", (double)loss);
        return 1;
    }

    qsort(times, (size_t)steps, sizeof *times, cmp_double);
    printf("{\"impl\":\"forgetlab\",\"spec\":\"%s\",\"batch\":%d,\"threads\":%d,"
           "\"steps\":%d,\"warmup\":%d,\"median_ms\":%.4f,\"p10_ms\":%.4f,\"p90_ms\":%.4f,"
           "\"final_loss\":%.6f}\n",
           SPEC, batch, threads, steps, warmup, percentile(times, steps, 50),
           percentile(times, steps, 10), percentile(times, steps, 90), (double)loss);

    free(times);
    free(y);
    free(x);
    fl_classifier_step_free(&s);
    fl_mlp_free(&m);
    return 0;
}
