/* bootstrap.c: intervals that respect how a study's data were drawn. The
 * checkpoints of one run are strongly correlated and the runs of one seed
 * share its base model, so resampling checkpoints one by one would
 * pretend to far more data than there is: a resample draws seeds, then
 * runs within each drawn seed, and takes every checkpoint of each drawn
 * run. Also the statistics resampled that way: pooled R^2, leave-one-
 * method-out R^2, and the gap between one method's points and another's
 * curve. */
#include "forgetlab/measure/stats.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int key, i;
} labelled;

static int cmp_labelled(const void *a, const void *b) {
    const labelled *x = a, *y = b;
    const int c = (x->key > y->key) - (x->key < y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Groups items 0..n) by key: order[] lists them group by group (in order
 * of key, items in order), start[g] where group g begins (start[ng] = n).
 * Returns the number of groups. */
static int group_by(const int *key, int n, labelled *tmp, int *order, int *start) {
    for (int i = 0; i < n; i++) tmp[i] = (labelled){key[i], i};
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_labelled);
    int ng = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || tmp[i].key != tmp[i - 1].key) start[ng++] = i;
        order[i] = tmp[i].i;
    }
    start[ng] = n;
    return ng;
}

int fl_clusters_init(fl_clusters *c, const int *run, const int *seed, int n) {
    memset(c, 0, sizeof *c);
    const size_t sz = (size_t)(n > 0 ? n : 1) + 1;
    labelled *tmp = malloc(sz * sizeof *tmp);
    int *runkey = malloc(sz * sizeof(int)), *seedkey = malloc(sz * sizeof(int));
    c->pt = malloc(sz * sizeof(int));
    c->rs = malloc(sz * sizeof(int));
    c->run = malloc(sz * sizeof(int));
    c->ss = malloc(sz * sizeof(int));
    if (!tmp || !runkey || !seedkey || !c->pt || !c->rs || !c->run || !c->ss) {
        free(tmp), free(runkey), free(seedkey);
        fl_clusters_free(c);
        return fl_error_set("bootstrap: out of memory for %d points", n);
    }
    c->n = n;
    for (int i = 0; i < n; i++) runkey[i] = run ? run[i] : i;
    c->nruns = group_by(runkey, n, tmp, c->pt, c->rs);
    /* Each run's seed is its first point's. */
    for (int r = 0; r < c->nruns; r++) seedkey[r] = seed ? seed[c->pt[c->rs[r]]] : 0;
    c->nseeds = group_by(seedkey, c->nruns, tmp, c->run, c->ss);
    int longest = 0, most = 0;
    for (int r = 0; r < c->nruns; r++)
        if (c->rs[r + 1] - c->rs[r] > longest) longest = c->rs[r + 1] - c->rs[r];
    for (int s = 0; s < c->nseeds; s++)
        if (c->ss[s + 1] - c->ss[s] > most) most = c->ss[s + 1] - c->ss[s];
    c->cap = c->nseeds * most * longest;
    free(tmp), free(runkey), free(seedkey);
    return 0;
}

void fl_clusters_free(fl_clusters *c) {
    free(c->pt), free(c->rs), free(c->run), free(c->ss);
    memset(c, 0, sizeof *c);
}

int fl_clusters_draw(const fl_clusters *c, fl_rng *rng, int *idx) {
    int m = 0;
    for (int k = 0; k < c->nseeds; k++) {
        /* One seed is not resampled: there is nothing to draw it against. */
        const int s = c->nseeds > 1 ? (int)fl_rng_below(rng, (uint32_t)c->nseeds) : k;
        const int nr = c->ss[s + 1] - c->ss[s];
        for (int j = 0; j < nr; j++) {
            const int r = c->run[c->ss[s] + (int)fl_rng_below(rng, (uint32_t)nr)];
            for (int q = c->rs[r]; q < c->rs[r + 1]; q++) idx[m++] = c->pt[q];
        }
    }
    return m;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear-interpolated quantile of sorted v[0..n-1]. */
static double quantile(const double *v, int n, double q) {
    double pos = q * (n - 1);
    int i = (int)pos;
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

int fl_bootstrap_ci(const fl_clusters *c, int reps, uint64_t seed, fl_statistic stat, void *ctx, double *lo,
                    double *hi) {
    *lo = *hi = NAN;
    int *idx = malloc(sizeof(int) * (size_t)(c->cap > 0 ? c->cap : 1));
    double *r = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
    if (!idx || !r) {
        free(idx), free(r);
        return fl_error_set("bootstrap: out of memory");
    }
    fl_rng rng;
    fl_rng_init(&rng, seed, FL_STREAM_BOOTSTRAP);
    int m = 0;
    for (int k = 0; k < reps && c->n > 0; k++) {
        const int np = fl_clusters_draw(c, &rng, idx);
        const double v = stat(idx, np, ctx);
        if (!isnan(v)) r[m++] = v;
    }
    if (m > 0) {
        qsort(r, (size_t)m, sizeof *r, cmp_double);
        *lo = quantile(r, m, 0.025);
        *hi = quantile(r, m, 0.975);
    }
    free(idx), free(r);
    return m;
}

typedef struct {
    const double *x, *y;
} xy;

static double r2_stat(const int *idx, int m, void *ctx) {
    const xy *d = ctx;
    return fl_poly2_fit(d->x, d->y, idx, m, NULL);
}

int fl_poly2_r2_bootstrap(const double *x, const double *y, int n, const fl_clusters *c, int reps,
                          uint64_t seed, fl_r2_ci *out) {
    out->n = n;
    out->r2 = fl_poly2_fit(x, y, NULL, n, NULL);
    out->lo = out->hi = NAN;
    fl_clusters points;
    if (!c && fl_clusters_init(&points, NULL, NULL, n)) return -1;
    xy d = {x, y};
    int rc = fl_bootstrap_ci(c ? c : &points, reps, seed, r2_stat, &d, &out->lo, &out->hi);
    if (!c) fl_clusters_free(&points);
    return rc < 0 ? -1 : 0;
}

/* The degree-2 fit on the points of idx[0..n) whose group is (in) or is
 * not (!in) g; 0 on success, with the x range of those points. */
static int fit_group(const double *x, const double *y, const int *group, const int *idx, int n, int g, int in,
                     int *buf, double *coef, double *xlo, double *xhi) {
    int m = 0;
    *xlo = INFINITY, *xhi = -INFINITY;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k;
        if ((group[i] == g) == in) {
            buf[m++] = i;
            *xlo = fmin(*xlo, x[i]), *xhi = fmax(*xhi, x[i]);
        }
    }
    /* A flat group (R^2 NaN) still has a fitted curve: its mean. */
    if (m < 3) return -1;
    if (isnan(fl_poly2_fit(x, y, buf, m, coef))) {
        double s = 0;
        for (int k = 0; k < m; k++) s += y[buf[k]];
        coef[0] = s / m, coef[1] = coef[2] = 0;
    }
    return 0;
}

static double poly2_at(const double *c, double x) { return c[0] + c[1] * x + c[2] * x * x; }

double fl_poly2_r2_lomo(const double *x, const double *y, const int *group, const int *idx, int n) {
    int *buf = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1)), *seen = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    double r2 = NAN;
    if (!buf || !seen || n < 3) goto out;
    int ng = 0;
    double mean = 0, sst = 0, sse = 0;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k;
        mean += y[i] / n;
        int found = 0;
        for (int j = 0; j < ng && !found; j++) found = seen[j] == group[i];
        if (!found) seen[ng++] = group[i];
    }
    if (ng < 2) goto out;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k;
        sst += (y[i] - mean) * (y[i] - mean);
    }
    for (int j = 0; j < ng; j++) {
        double coef[3], lo, hi;
        if (fit_group(x, y, group, idx, n, seen[j], 0, buf, coef, &lo, &hi)) goto out;
        for (int k = 0; k < n; k++) {
            const int i = idx ? idx[k] : k;
            if (group[i] == seen[j]) sse += (y[i] - poly2_at(coef, x[i])) * (y[i] - poly2_at(coef, x[i]));
        }
    }
    if (sst > 0) r2 = 1 - sse / sst;
out:
    free(buf), free(seen);
    return r2;
}

double fl_curve_gap(const double *x, const double *y, const int *group, int a, int b, const int *idx, int n) {
    int *buf = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    double coef[3], lo, hi, gap = NAN;
    /* a < 0: every group but b (fit_group's "not b"). */
    if (buf && fit_group(x, y, group, idx, n, a < 0 ? b : a, a >= 0, buf, coef, &lo, &hi) == 0) {
        double s = 0;
        int m = 0;
        for (int k = 0; k < n; k++) {
            const int i = idx ? idx[k] : k;
            /* Only inside a's range: a quadratic says nothing beyond its data. */
            if (group[i] == b && x[i] >= lo && x[i] <= hi) s += y[i] - poly2_at(coef, x[i]), m++;
        }
        if (m > 0) gap = s / m;
    }
    free(buf);
    return gap;
}
