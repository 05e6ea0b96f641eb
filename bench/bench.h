/* bench.h: what the C benchmarks share: strict integer options and the
 * percentiles of the per-step times (numpy's default interpolation, so the
 * C and PyTorch sides summarise alike). Header-only. */
#ifndef FORGETLAB_BENCH_H
#define FORGETLAB_BENCH_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int(const char *flag, const char *s, int min, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < min || v > 1000000000) {
        fprintf(stderr, "%s expects an integer >= %d, got '%s'\n", flag, min, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Integer options "--name value" into the variables of a table; 2 (with
 * the usage printed) on an unknown flag, a missing or bad value. */
typedef struct {
    const char *flag; /* "--batch" */
    int *dst;
    int min;
} bench_opt;

static int parse_opts(int argc, char **argv, const bench_opt *opts, int n) {
    for (int i = 1; i < argc; i += 2) {
        const bench_opt *o = NULL;
        for (int k = 0; k < n && !o; k++) o = strcmp(argv[i], opts[k].flag) ? NULL : &opts[k];
        if (!o || i + 1 >= argc) {
            fprintf(stderr, "usage: %s", argv[0]);
            for (int k = 0; k < n; k++) fprintf(stderr, " [%s N]", opts[k].flag);
            fputc('\n', stderr);
            return 2;
        }
        if (parse_int(o->flag, argv[i + 1], o->min, o->dst)) return 2;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentile of sorted values with linear interpolation between ranks. */
static double percentile(const double *sorted, int n, double pct) {
    double pos = pct / 100.0 * (n - 1);
    int lo = (int)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

#endif
