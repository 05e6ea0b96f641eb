/* bench_gpt_step.c: wall time of one training step of the byte-level
 * language model (zero grads, forward, next-byte cross-entropy at every
 * position, backward, AdamW), the unit of work of its pretraining.
 *
 *   build/bench_gpt_step [--batch N] [--ctx T] [--layers L] [--embd C] [--heads H]
 *                        [--steps K] [--warmup W] [--threads T]
 *
 * Prints one JSON line with the median, p10 and p90 step times in ms;
 * bench/torch_gpt_step.py prints the same for PyTorch, and
 * bench/gpt.sh sets them side by side. */
#include "bench.h"

#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/core/threads.h"

#include <string.h>

int main(int argc, char **argv) {
    int batch = 16, ctx = 128, layers = 4, embd = 128, heads = 4, steps = 30, warmup = 5, threads = 0;
    const bench_opt opts[] = {{"--batch", &batch, 1},   {"--ctx", &ctx, 1},       {"--layers", &layers, 1},
                              {"--embd", &embd, 1},     {"--heads", &heads, 1},   {"--steps", &steps, 1},
                              {"--warmup", &warmup, 0}, {"--threads", &threads, 0}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof *opts))) return 2;
    threads = fl_set_threads(threads);
    const fl_gpt_config c = {256, ctx, layers, embd, heads};
    fl_gpt m;
    fl_gpt_acts a;
    if (fl_gpt_create(&m, &c) || fl_gpt_acts_alloc(&a, &m, batch, ctx)) {
        fprintf(stderr, "bench_gpt_step: %s\n", fl_error_msg());
        return 1;
    }
    fl_rng rng;
    fl_rng_init(&rng, 1, FL_STREAM_INIT);
    fl_gpt_init(&m, &rng);
    /* One fixed batch of random bytes: the step's cost does not depend on them. */
    const int N = batch * ctx;
    int *tok = malloc(sizeof(int) * (size_t)N), *tgt = malloc(sizeof(int) * (size_t)N);
    double *times = malloc(sizeof(double) * (size_t)steps);
    if (!tok || !tgt || !times) return 1;
    fl_rng_init(&rng, 1, FL_STREAM_DATA);
    for (int i = 0; i < N; i++) tok[i] = (int)fl_rng_below(&rng, 256), tgt[i] = (int)fl_rng_below(&rng, 256);
    fl_optim opt;
    fl_optim_adamw(&opt, 0.9f, 0.95f, 1e-8f, 0.1f);
    float loss = 0.0f;
    for (int t = 0; t < warmup + steps; t++) {
        const double t0 = fl_now();
        fl_blob_zero_grads(&m.blob);
        loss = fl_gpt_forward(&m, &a, tok, tgt, NULL, batch, ctx);
        fl_gpt_backward(&m, &a);
        fl_optim_step(&opt, &m.blob, 1e-3f);
        if (t >= warmup) times[t - warmup] = 1e3 * (fl_now() - t0);
    }
    if (!isfinite(loss)) {
        fprintf(stderr, "bench_gpt_step: loss became %g\n", (double)loss);
        return 1;
    }
    qsort(times, (size_t)steps, sizeof *times, cmp_double);
    printf("{\"impl\":\"forgetlab\",\"params\":%zu,\"batch\":%d,\"ctx\":%d,\"threads\":%d,\"steps\":%d,"
           "\"median_ms\":%.4f,\"p10_ms\":%.4f,\"p90_ms\":%.4f,\"final_loss\":%.6f}\n",
           m.blob.n, batch, ctx, threads, steps, percentile(times, steps, 50), percentile(times, steps, 10),
           percentile(times, steps, 90), (double)loss);
    free(tok), free(tgt), free(times);
    fl_gpt_acts_free(&a);
    fl_gpt_free(&m);
    return 0;
}
