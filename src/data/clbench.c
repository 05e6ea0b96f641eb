/* clbench.c: the continual-learning benchmarks and scenarios
 * (clbench.h): which examples each task takes, how they are transformed
 * (permuted, rotated), and which output each is trained and scored on. */
#include "forgetlab/data/clbench.h"

#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const BENCH_NAMES[FL_CL_NBENCH] = {"split-mnist", "split-fashion", "permuted-mnist",
                                                      "rotated-mnist"};
static const char *const SCENARIO_NAMES[FL_CL_NSCENARIO] = {"task", "domain", "class"};

const char *fl_cl_benchmark_name(fl_cl_benchmark b) { return b >= 0 && b < FL_CL_NBENCH ? BENCH_NAMES[b] : "?"; }
const char *fl_cl_scenario_name(fl_cl_scenario s) { return s >= 0 && s < FL_CL_NSCENARIO ? SCENARIO_NAMES[s] : "?"; }

int fl_cl_benchmark_parse(const char *s, fl_cl_benchmark *out) {
    for (int i = 0; i < FL_CL_NBENCH; i++)
        if (strcmp(s, BENCH_NAMES[i]) == 0) return *out = (fl_cl_benchmark)i, 0;
    return fl_error_set("unknown benchmark '%s' (expected split-mnist, split-fashion, permuted-mnist or rotated-mnist)",
                        s);
}

int fl_cl_scenario_parse(const char *s, fl_cl_scenario *out) {
    for (int i = 0; i < FL_CL_NSCENARIO; i++)
        if (strcmp(s, SCENARIO_NAMES[i]) == 0) return *out = (fl_cl_scenario)i, 0;
    return fl_error_set("unknown scenario '%s' (expected task, domain or class)", s);
}

void fl_rotate_image(float *out, const float *in, int rows, int cols, double deg) {
    const double a = deg * (3.14159265358979323846 / 180.0), c = cos(a), s = sin(a);
    const double cy = (rows - 1) / 2.0, cx = (cols - 1) / 2.0;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++) {
            /* The source of output pixel (r, q): the inverse rotation. With
             * rows growing downwards, a counter-clockwise turn on screen. */
            const double dy = r - cy, dx = q - cx;
            const double sx = c * dx - s * dy + cx, sy = s * dx + c * dy + cy;
            const int x0 = (int)floor(sx), y0 = (int)floor(sy);
            const double fx = sx - x0, fy = sy - y0;
            double v = 0;
            for (int k = 0; k < 4; k++) {
                const int yy = y0 + (k >> 1), xx = x0 + (k & 1);
                if (yy < 0 || yy >= rows || xx < 0 || xx >= cols) continue;
                v += (k & 1 ? fx : 1 - fx) * (k >> 1 ? fy : 1 - fy) * in[yy * cols + xx];
            }
            out[r * cols + q] = (float)v;
        }
}

/* The images of one split of the benchmark's dataset. */
static int load_images(fl_cl_benchmark bench, const char *data_dir, const char *split, fl_images *im) {
    const char *dir = fl_data_dir(data_dir);
    return bench == FL_CL_SPLIT_FASHION ? fl_fashion_load(dir, split, im) : fl_mnist_load(dir, split, im);
}

/* Task t's examples of one split into set: its classes (split
 * benchmarks) or all (the others), at most cap of them (0: all; a seeded
 * shuffle picks them), transformed and labelled for the scenario. */
static int build_set(fl_cl_set *set, const fl_cl_bench *b, const fl_images *im, int t, int cap, const int *perm,
                     fl_rng *pick) {
    const int split = b->bench == FL_CL_SPLIT_MNIST || b->bench == FL_CL_SPLIT_FASHION;
    int *idx = malloc(sizeof(int) * (size_t)im->n), n = 0;
    if (!idx) return fl_error_set("out of memory");
    for (int i = 0; i < im->n; i++)
        if (!split || im->label[i] / 2 == t) idx[n++] = i;
    if (cap > 0 && n > cap) {
        fl_rng_shuffle(pick, idx, n);
        n = cap;
    }
    set->n = n;
    set->x = malloc(sizeof(float) * (size_t)n * FL_CL_DIM), set->y = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!set->x || !set->y) {
        free(idx);
        return fl_error_set("out of memory for %d examples", n);
    }
    for (int k = 0; k < n; k++) {
        const float *src = im->x + (size_t)idx[k] * FL_CL_DIM;
        float *dst = set->x + (size_t)k * FL_CL_DIM;
        if (b->bench == FL_CL_PERMUTED_MNIST)
            for (int p = 0; p < FL_CL_DIM; p++) dst[p] = src[perm[p]];
        else if (b->bench == FL_CL_ROTATED_MNIST)
            fl_rotate_image(dst, src, 28, 28, t * 180.0 / b->ntasks);
        else
            memcpy(dst, src, sizeof(float) * FL_CL_DIM);
        const int cls = im->label[idx[k]];
        if (split) set->y[k] = b->scenario == FL_CL_DOMAIN_IL ? cls % 2 : cls;
        else set->y[k] = b->scenario == FL_CL_DOMAIN_IL ? cls : 10 * t + cls;
    }
    free(idx);
    return 0;
}

int fl_cl_bench_load(fl_cl_bench *b, fl_cl_benchmark bench, fl_cl_scenario scenario, int ntasks, int per_task,
                     const char *data_dir, uint64_t seed) {
    memset(b, 0, sizeof *b);
    const int split = bench == FL_CL_SPLIT_MNIST || bench == FL_CL_SPLIT_FASHION;
    if (bench < 0 || bench >= FL_CL_NBENCH) return fl_error_set("unknown benchmark %d", (int)bench);
    if (scenario < 0 || scenario >= FL_CL_NSCENARIO) return fl_error_set("unknown scenario %d", (int)scenario);
    if (ntasks == 0) ntasks = split ? 5 : 10;
    if (split && ntasks != 5) return fl_error_set("%s has 5 tasks (of 2 classes), not %d", fl_cl_benchmark_name(bench), ntasks);
    if (ntasks < 2 || ntasks > FL_CL_MAX_TASKS)
        return fl_error_set("%d tasks: a sequence has 2 to %d", ntasks, FL_CL_MAX_TASKS);
    if (per_task < 0) return fl_error_set("%d training examples per task: at least 1 (0: all)", per_task);
    b->bench = bench, b->scenario = scenario, b->ntasks = ntasks;
    b->nout = split ? (scenario == FL_CL_DOMAIN_IL ? 2 : 10) : (scenario == FL_CL_DOMAIN_IL ? 10 : 10 * ntasks);
    for (int t = 0; t < ntasks; t++) {
        const int own = scenario == FL_CL_TASK_IL;
        b->head_first[t] = own ? (split ? 2 * t : 10 * t) : 0;
        b->head_size[t] = own ? (split ? 2 : 10) : b->nout;
    }
    fl_images tr = {0}, te = {0};
    int rc = load_images(bench, data_dir, "train", &tr);
    if (rc == 0) rc = load_images(bench, data_dir, "test", &te);
    int *perm = malloc(sizeof(int) * FL_CL_DIM);
    if (rc == 0 && !perm) rc = fl_error_set("out of memory");
    fl_rng prng, pick;
    fl_rng_init(&prng, seed, FL_STREAM_DATA);
    fl_rng_init(&pick, seed, FL_STREAM_SPLIT);
    for (int t = 0; t < ntasks && rc == 0; t++) {
        /* Every task of permuted-mnist has its own permutation, the first too. */
        for (int p = 0; p < FL_CL_DIM; p++) perm[p] = p;
        if (bench == FL_CL_PERMUTED_MNIST) fl_rng_shuffle(&prng, perm, FL_CL_DIM);
        rc = build_set(&b->train[t], b, &tr, t, per_task, perm, &pick);
        if (rc == 0) rc = build_set(&b->test[t], b, &te, t, 0, perm, &pick);
    }
    free(perm);
    fl_images_free(&tr), fl_images_free(&te);
    if (rc) fl_cl_bench_free(b);
    return rc;
}

/* The examples of set listed in idx (k of them) into out. */
static int take(fl_cl_set *out, const fl_cl_set *set, const int *idx, int k) {
    out->n = k;
    out->x = malloc(sizeof(float) * (size_t)k * FL_CL_DIM), out->y = malloc(sizeof(int) * (size_t)k);
    if (!out->x || !out->y) return fl_error_set("out of memory for %d examples", k);
    for (int j = 0; j < k; j++) {
        memcpy(out->x + (size_t)j * FL_CL_DIM, set->x + (size_t)idx[j] * FL_CL_DIM, sizeof(float) * FL_CL_DIM);
        out->y[j] = set->y[idx[j]];
    }
    return 0;
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

int fl_cl_bench_hold_out(fl_cl_bench *b, double frac, uint64_t seed) {
    if (!(frac > 0 && frac < 1)) return fl_error_set("validation fraction %g: between 0 and 1", frac);
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_VALIDATION);
    for (int t = 0; t < b->ntasks; t++) {
        fl_cl_set *tr = &b->train[t], val = {0}, rest = {0};
        const int n = tr->n, k = (int)ceil(frac * n);
        if (k < 1 || n - k < 1)
            return fl_error_set("task %d: %d training examples cannot spare %g of them for validation", t, n, frac);
        int *idx = malloc(sizeof(int) * (size_t)n);
        if (!idx) return fl_error_set("out of memory");
        for (int i = 0; i < n; i++) idx[i] = i;
        fl_rng_shuffle(&r, idx, n);
        qsort(idx, (size_t)k, sizeof *idx, cmp_int), qsort(idx + k, (size_t)(n - k), sizeof *idx, cmp_int);
        int rc = take(&val, tr, idx, k);
        if (rc == 0) rc = take(&rest, tr, idx + k, n - k);
        free(idx);
        if (rc) {
            free(val.x), free(val.y), free(rest.x), free(rest.y);
            return -1;
        }
        free(tr->x), free(tr->y), free(b->test[t].x), free(b->test[t].y);
        *tr = rest, b->test[t] = val;
    }
    return 0;
}

void fl_cl_bench_free(fl_cl_bench *b) {
    for (int t = 0; t < FL_CL_MAX_TASKS; t++) {
        free(b->train[t].x), free(b->train[t].y), free(b->test[t].x), free(b->test[t].y);
    }
    memset(b, 0, sizeof *b);
}
