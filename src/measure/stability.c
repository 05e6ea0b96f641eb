/* stability.c: circuit stability from per-example attribution scores:
 * circuit vectors, their Spearman matrix and mean, classes of equivalent
 * circuits, the random-split baseline, and within-subtask corruption
 * partners (see stability.h). */
#include "forgetlab/measure/stability.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/measure/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Group means of the rows idx[...] of scores (idx NULL: in order), row by
 * row so memory is read contiguously; acc is scratch [c]. */
static void group_means(const float *scores, int c, const int *idx, const int *count, int k, float *vec,
                        double *acc) {
    size_t at = 0;
    for (int s = 0; s < k; s++) {
        for (int j = 0; j < c; j++) acc[j] = 0;
        for (int e = 0; e < count[s]; e++, at++) {
            const float *row = scores + (size_t)(idx ? idx[at] : (int)at) * c;
            for (int j = 0; j < c; j++) acc[j] += row[j];
        }
        float *v = vec + (size_t)s * c;
        for (int j = 0; j < c; j++) v[j] = count[s] ? (float)(acc[j] / count[s]) : NAN;
    }
}

void fl_cs_group_means(const float *scores, int c, const int *count, int k, float *vec) {
    double *acc = malloc(sizeof(double) * (size_t)(c > 0 ? c : 1));
    if (!acc) {
        for (size_t i = 0; i < (size_t)k * c; i++) vec[i] = NAN;
        return;
    }
    group_means(scores, c, NULL, count, k, vec, acc);
    free(acc);
}

/* Average ranks (1-based, ties share the mean of their ranks) of the
 * floats x[n] into r, by an LSD radix sort of the floats' order-preserving
 * bit patterns: circuit stability ranks many vectors of a few hundred
 * values (its random-split baseline, at every checkpoint of a study), where
 * comparison sorts cost several times more. tmp: scratch of 4n uint32. */
static void rank_floats(const float *x, int n, double *r, uint32_t *tmp) {
    uint32_t *key = tmp, *idx = tmp + n, *key2 = tmp + 2 * (size_t)n, *idx2 = tmp + 3 * (size_t)n;
    for (int i = 0; i < n; i++) {
        float v = x[i] == 0.0f ? 0.0f : x[i]; /* -0 and +0 are one value */
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        key[i] = u & 0x80000000u ? ~u : u | 0x80000000u;
        idx[i] = (uint32_t)i;
    }
    for (int shift = 0; shift < 32; shift += 8) {
        size_t cnt[257] = {0};
        for (int i = 0; i < n; i++) cnt[((key[i] >> shift) & 255) + 1]++;
        for (int b = 0; b < 256; b++) cnt[b + 1] += cnt[b];
        for (int i = 0; i < n; i++) {
            const size_t at = cnt[(key[i] >> shift) & 255]++;
            key2[at] = key[i], idx2[at] = idx[i];
        }
        uint32_t *t = key;
        key = key2, key2 = t, t = idx, idx = idx2, idx2 = t;
    }
    for (int s = 0; s < n;) {
        int e = s;
        while (e + 1 < n && key[e + 1] == key[s]) e++;
        for (int j = s; j <= e; j++) r[idx[j]] = 0.5 * (s + e) + 1.0;
        s = e + 1;
    }
}

/* Spearman matrix from vectors ranked once each: Spearman is the Pearson
 * correlation of average ranks, so k vectors need k rankings, not k^2. */
static int cs_matrix(const float *vec, int k, int c, double *rho) {
    uint32_t *tmp = malloc(sizeof(uint32_t) * 4 * (size_t)(c > 0 ? c : 1));
    double *r = malloc(sizeof(double) * (size_t)k * (c > 0 ? c : 1));
    if (!tmp || !r) {
        free(tmp), free(r);
        for (int i = 0; i < k * k; i++) rho[i] = NAN;
        return fl_error_set("circuit stability: out of memory for %d x %d ranks", k, c);
    }
    for (int i = 0; i < k; i++) rank_floats(vec + (size_t)i * c, c, r + (size_t)i * c, tmp);
    for (int i = 0; i < k; i++)
        for (int j = i; j < k; j++) rho[i * k + j] = rho[j * k + i] = fl_pearson(r + (size_t)i * c, r + (size_t)j * c, c);
    free(tmp), free(r);
    return 0;
}

void fl_cs_matrix(const float *vec, int k, int c, double *rho) { cs_matrix(vec, k, c, rho); }

double fl_cs_mean(const double *rho, int k) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            if (i != j && isfinite(rho[i * k + j])) {
                s += rho[i * k + j];
                n++;
            }
    return n ? s / n : NAN;
}

int fl_cs_classes(const double *rho, int k, double thr, int *cls) {
    for (int i = 0; i < k; i++) cls[i] = -1;
    int ncls = 0;
    /* Flood fill from each unlabelled vertex in index order, so classes are
     * numbered by their smallest member. NaN never makes an edge. */
    int *stack = malloc((size_t)(k > 0 ? k : 1) * sizeof(int));
    if (!stack) return fl_error_set("circuit classes: out of memory");
    for (int s = 0; s < k; s++) {
        if (cls[s] >= 0) continue;
        int top = 0;
        stack[top++] = s;
        cls[s] = ncls;
        while (top) {
            int u = stack[--top];
            for (int v = 0; v < k; v++)
                if (cls[v] < 0 && rho[u * k + v] >= thr) {
                    cls[v] = ncls;
                    stack[top++] = v;
                }
        }
        ncls++;
    }
    free(stack);
    return ncls;
}

/* Quantile q of sorted x[n], linear between order statistics. */
static double quantile(const double *x, int n, double q) {
    double at = q * (n - 1);
    int i = (int)floor(at);
    if (i >= n - 1) return x[n - 1];
    return x[i] + (at - i) * (x[i + 1] - x[i]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int fl_cs_random_baseline(const float *scores, int c, const int *count, int k, int draws, uint64_t seed,
                          fl_cs_baseline *out) {
    int n = 0, rc = -1;
    for (int s = 0; s < k; s++) n += count[s];
    out->mean = out->lo = out->hi = NAN;
    out->draws = 0;
    int *perm = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    float *vec = malloc(sizeof(float) * (size_t)k * c);
    double *acc = malloc(sizeof(double) * (size_t)(c > 0 ? c : 1));
    double *rho = malloc(sizeof(double) * (size_t)k * k), *cs = malloc(sizeof(double) * (size_t)(draws > 0 ? draws : 1));
    if (!perm || !vec || !acc || !rho || !cs) {
        fl_error_set("circuit stability baseline: out of memory for %d x %d scores", n, c);
        goto out;
    }
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_BASELINE);
    for (int i = 0; i < n; i++) perm[i] = i;
    int used = 0;
    double sum = 0;
    for (int d = 0; d < draws; d++) {
        fl_rng_shuffle(&r, perm, n);
        group_means(scores, c, perm, count, k, vec, acc);
        if (cs_matrix(vec, k, c, rho)) goto out;
        double v = fl_cs_mean(rho, k);
        if (isfinite(v)) cs[used++] = v, sum += v;
    }
    if (used) {
        qsort(cs, (size_t)used, sizeof(double), cmp_double);
        out->mean = sum / used;
        out->lo = quantile(cs, used, 0.025);
        out->hi = quantile(cs, used, 0.975);
    }
    out->draws = used;
    rc = 0;
out:
    free(perm), free(vec), free(acc), free(rho), free(cs);
    return rc;
}

int fl_cs_compute(const float *scores, int c, const int *count, int k, int draws, uint64_t seed, float *vec,
                  double *rho, fl_cs_stats *st) {
    float *v = vec ? vec : malloc(sizeof(float) * (size_t)k * c);
    double *r = rho ? rho : malloc(sizeof(double) * (size_t)k * k);
    int rc = -1;
    st->cs = NAN;
    st->random = (fl_cs_baseline){NAN, NAN, NAN, 0};
    if (!v || !r) {
        fl_error_set("circuit stability: out of memory");
        goto out;
    }
    fl_cs_group_means(scores, c, count, k, v);
    if (cs_matrix(v, k, c, r)) goto out;
    st->cs = fl_cs_mean(r, k);
    rc = draws > 0 ? fl_cs_random_baseline(scores, c, count, k, draws, seed, &st->random) : 0;
out:
    if (v != vec) free(v);
    if (r != rho) free(r);
    return rc;
}

int fl_within_partners(const int *count, int k, uint64_t seed, int *partner) {
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_CORRUPT);
    int at = 0, cap = 0;
    for (int s = 0; s < k; s++) cap = count[s] > cap ? count[s] : cap;
    int *order = malloc(sizeof(int) * (size_t)(cap > 0 ? cap : 1));
    if (!order) return fl_error_set("within-subtask partners: out of memory");
    for (int s = 0; s < k; s++) {
        const int c = count[s];
        if (c < 2) {
            free(order);
            fl_error_set("--corrupt within: subtask %d has %d example%s; within-subtask corruption needs at least "
                         "two per subtask",
                         s, c, c == 1 ? "" : "s");
            return FL_BAD_REQUEST;
        }
        for (int i = 0; i < c; i++) order[i] = at + i;
        fl_rng_shuffle(&r, order, c);
        for (int i = 0; i < c; i++) partner[order[i]] = order[(i + 1) % c];
        at += c;
    }
    free(order);
    return 0;
}
