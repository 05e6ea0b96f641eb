/* bench_continual.c: wall time of a whole Permuted MNIST sequence learnt by
 * naive fine-tuning (continual.h): per task, one epoch of AdamW steps on
 * an MLP 784-400-400-10, then every task's test set scored (the accuracy
 * matrix's row): the loop every continual-learning run repeats.
 *
 *   build/bench_continual [--tasks T] [--per-task N] [--epochs E] [--batch B]
 *                         [--repeats R] [--threads K] [--dump 1]
 *
 * Prints one JSON line with the median, p10 and p90 of the sequence times
 * in milliseconds and the final average accuracy; with --dump 1 it first
 * writes the benchmark's arrays (.npy files in bench-continual-data: every task's
 * training and test inputs and targets) for bench/torch_continual.py, which
 * runs the same loop on the same data. */
#include "bench.h"

#include "forgetlab/data/clbench.h"
#include "forgetlab/core/clock.h"
#include "forgetlab/train/continual.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/core/threads.h"

#include <stdint.h>

static int dump_set(const char *dir, const char *what, int t, const fl_cl_set *s) {
    char path[512];
    const int64_t xs[2] = {s->n, FL_CL_DIM}, ys[1] = {s->n};
    float *y = malloc(sizeof(float) * (size_t)(s->n > 0 ? s->n : 1));
    if (!y) return -1;
    for (int i = 0; i < s->n; i++) y[i] = (float)s->y[i];
    snprintf(path, sizeof path, "%s/%s_x_%d.npy", dir, what, t);
    int rc = fl_npy_write(path, s->x, 2, xs);
    snprintf(path, sizeof path, "%s/%s_y_%d.npy", dir, what, t);
    if (rc == 0) rc = fl_npy_write(path, y, 1, ys);
    free(y);
    return rc;
}

int main(int argc, char **argv) {
    int tasks = 10, per_task = 1000, epochs = 1, batch = 32, repeats = 3, threads = 0, dump = 0;
    const bench_opt opts[] = {{"--tasks", &tasks, 2},     {"--per-task", &per_task, 1}, {"--epochs", &epochs, 1},
                              {"--batch", &batch, 1},     {"--repeats", &repeats, 1},   {"--threads", &threads, 0},
                              {"--dump", &dump, 0}};
    if (parse_opts(argc, argv, opts, (int)(sizeof opts / sizeof *opts))) return 2;
    threads = fl_set_threads(threads);
    fl_cl_bench b;
    if (fl_cl_bench_load(&b, FL_CL_PERMUTED_MNIST, FL_CL_DOMAIN_IL, tasks, per_task, NULL, 1)) {
        fprintf(stderr, "bench_continual: %s\n", fl_error_msg());
        return 1;
    }
    if (dump) {
        const char *dir = "bench-continual-data";
        int rc = fl_mkdirs(dir);
        for (int t = 0; t < tasks && rc == 0; t++) {
            rc = dump_set(dir, "train", t, &b.train[t]);
            if (rc == 0) rc = dump_set(dir, "test", t, &b.test[t]);
        }
        if (rc) {
            fprintf(stderr, "bench_continual: %s\n", fl_error_msg());
            return 1;
        }
    }
    fl_cl_config c;
    fl_cl_defaults(&c);
    c.method = FL_CL_NAIVE, c.epochs = epochs, c.batch = batch, c.seed = 1;
    c.cs_per = 0; /* the PyTorch loop measures no circuit stability */
    double *times = malloc(sizeof(double) * (size_t)repeats), acc = 0;
    fl_cl_result *r = malloc(sizeof *r);
    if (!times || !r) return 1;
    for (int k = 0; k < repeats; k++) {
        const double t0 = fl_now();
        if (fl_cl_run(&c, &b, r)) {
            fprintf(stderr, "bench_continual: %s\n", fl_error_msg());
            return 1;
        }
        times[k] = 1e3 * (fl_now() - t0);
        acc = r->metrics.avg_acc;
    }
    qsort(times, (size_t)repeats, sizeof *times, cmp_double);
    printf("{\"impl\":\"forgetlab\",\"tasks\":%d,\"per_task\":%d,\"epochs\":%d,\"batch\":%d,\"threads\":%d,"
           "\"repeats\":%d,\"median_ms\":%.2f,\"p10_ms\":%.2f,\"p90_ms\":%.2f,\"avg_acc\":%.4f}\n",
           tasks, per_task, epochs, batch, threads, repeats, percentile(times, repeats, 50),
           percentile(times, repeats, 10), percentile(times, repeats, 90), acc);
    free(times), free(r);
    fl_cl_bench_free(&b);
    return 0;
}
