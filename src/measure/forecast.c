/* forecast.c: the forgetting forecast (forecast.h): a monotone curve of
 * forgetting on forward KL, its scale, split-conformal quantiles with whole
 * runs held out, the held-out runs' errors and coverage, and the budget a
 * forgetting limit becomes. */
#include "forgetlab/measure/forecast.h"

#include "forgetlab/core/error.h"
#include "forgetlab/measure/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double FL_FORECAST_LEVELS[FL_FORECAST_NLEVELS] = {0.80, 0.90, 0.95};

/* A piecewise-linear function on knots fx (ascending), held constant
 * outside them. */
static double interp(const double *fx, const double *fy, int m, double t) {
    if (t <= fx[0]) return fy[0];
    if (t >= fx[m - 1]) return fy[m - 1];
    int lo = 0, hi = m - 1; /* fx[lo] < t < fx[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (fx[mid] <= t) lo = mid;
        else hi = mid;
    }
    return fy[lo] + (fy[hi] - fy[lo]) * (t - fx[lo]) / (fx[hi] - fx[lo]);
}

typedef struct {
    int n, nruns;
    int *ord;          /* valid points by ascending x */
    int *rid;          /* each point's run, 0..nruns-1 (-1: not valid) */
    double *w;         /* each point's weight: 1 / its run's count */
    double *bx, *by, *fx, *fy; /* scratch for one fit */
} work;

typedef struct {
    double v;
    int i;
} keyed;
static int by_value(const void *a, const void *b) {
    const keyed *p = a, *q = b;
    const int c = (p->v > q->v) - (p->v < q->v);
    return c ? c : (p->i > q->i) - (p->i < q->i);
}

/* idx[0..m) reordered by ascending v[idx[j]] (ties by index). */
static int sort_by(int *idx, int m, const double *v) {
    keyed *kk = malloc((size_t)(m > 0 ? m : 1) * sizeof *kk);
    if (!kk) return fl_error_set("forecast: out of memory for %d points", m);
    for (int j = 0; j < m; j++) kk[j] = (keyed){v[idx[j]], idx[j]};
    qsort(kk, (size_t)m, sizeof *kk, by_value);
    for (int j = 0; j < m; j++) idx[j] = kk[j].i;
    free(kk);
    return 0;
}

/* The valid points in x order, runs renumbered, weights. */
static int work_init(work *k, const double *x, const double *y, const int *run, int n) {
    memset(k, 0, sizeof *k);
    const size_t sz = (size_t)(n > 0 ? n : 1);
    k->ord = malloc(sz * sizeof(int)), k->rid = malloc(sz * sizeof(int)), k->w = malloc(sz * sizeof(double));
    k->bx = malloc(sz * sizeof(double)), k->by = malloc(sz * sizeof(double));
    k->fx = malloc(sz * sizeof(double)), k->fy = malloc(sz * sizeof(double));
    if (!k->ord || !k->rid || !k->w || !k->bx || !k->by || !k->fx || !k->fy)
        return fl_error_set("forecast: out of memory for %d points", n);
    int *label = malloc(sz * sizeof(int)), *count = calloc(sz, sizeof(int));
    if (!label || !count) {
        free(label), free(count);
        return fl_error_set("forecast: out of memory for %d points", n);
    }
    for (int i = 0; i < n; i++) {
        k->rid[i] = -1;
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        int r = 0;
        while (r < k->nruns && label[r] != run[i]) r++;
        if (r == k->nruns) label[k->nruns++] = run[i];
        k->rid[i] = r, count[r]++;
        k->ord[k->n++] = i;
    }
    for (int i = 0; i < n; i++) k->w[i] = k->rid[i] >= 0 ? 1.0 / count[k->rid[i]] : 0;
    free(label), free(count);
    return sort_by(k->ord, k->n, x);
}

static void work_free(work *k) {
    free(k->ord), free(k->rid), free(k->w), free(k->bx), free(k->by), free(k->fx), free(k->fy);
}

/* The non-decreasing fit of v on x over the valid points not of run skip
 * (-1: none skipped), into k->fx, k->fy; returns its knots. */
static int fit_without(work *k, const double *x, const double *v, int skip) {
    int m = 0;
    for (int j = 0; j < k->n; j++) {
        const int i = k->ord[j];
        if (k->rid[i] == skip) continue;
        k->bx[m] = x[i], k->by[m] = v[i], m++;
    }
    return fl_isotonic_sorted(k->bx, k->by, m, +1, k->fx, k->fy);
}

/* The conformal quantile at level L of the scores of every run but skip:
 * sorted[] holds the valid points by ascending score. */
static double quantile(const work *k, const int *sorted, const double *score, double L, int skip) {
    const int R = k->nruns - (skip >= 0);
    const double need = ceil(L * (R + 1) - 1e-9);
    if (need > R) return INFINITY;
    double cum = 0;
    for (int j = 0; j < k->n; j++) {
        const int i = sorted[j];
        if (k->rid[i] == skip) continue;
        cum += k->w[i];
        if (cum >= need - 1e-9) return score[i];
    }
    return INFINITY;
}

/* Each valid point's held-out forecast (the curve fitted without its run)
 * into held, its absolute residual into ae. */
static int held_out(work *k, const double *x, const double *y, double *held, double *ae) {
    for (int r = 0; r < k->nruns; r++) {
        const int m = fit_without(k, x, y, r);
        if (m < 0) return -1;
        for (int j = 0; j < k->n; j++) {
            const int i = k->ord[j];
            if (k->rid[i] != r) continue;
            held[i] = m > 0 ? interp(k->fx, k->fy, m, x[i]) : NAN;
            ae[i] = fabs(y[i] - held[i]);
        }
    }
    return 0;
}

/* Drops interior knots where curve and scale are both flat: exact, and a
 * forecast.json of a few hundred knots rather than every distinct KL. */
static int compress(double *x, double *f, double *s, int m) {
    int o = 0;
    for (int i = 0; i < m; i++) {
        const int flat = i > 0 && i + 1 < m && f[i - 1] == f[i] && f[i] == f[i + 1] && s[i - 1] == s[i] &&
                         s[i] == s[i + 1];
        if (flat) continue;
        x[o] = x[i], f[o] = f[i], s[o] = s[i], o++;
    }
    return o;
}

/* The curve and its scale on all runs: knots into fc. */
static int fit_curve(work *k, const double *x, const double *y, const double *ae, fl_forecast *fc) {
    const int m = fit_without(k, x, ae, -1);
    if (m < 1) return -1;
    double mean = 0;
    for (int j = 0; j < k->n; j++) mean += ae[k->ord[j]] / k->n;
    /* The floor keeps a score finite where the held-out residuals were 0. */
    const double floor_s = fmax(1e-4, 0.1 * mean);
    fc->x = malloc((size_t)m * sizeof(double)), fc->f = malloc((size_t)m * sizeof(double));
    fc->s = malloc((size_t)m * sizeof(double));
    if (!fc->x || !fc->f || !fc->s) return fl_error_set("forecast: out of memory");
    for (int i = 0; i < m; i++) fc->s[i] = fmax(floor_s, k->fy[i]);
    if (fit_without(k, x, y, -1) != m) return fl_error_set("forecast: the curve's knots differ from the scale's");
    memcpy(fc->x, k->fx, (size_t)m * sizeof(double));
    memcpy(fc->f, k->fy, (size_t)m * sizeof(double));
    fc->m = compress(fc->x, fc->f, fc->s, m);
    fc->x_min = fc->x[0], fc->x_max = fc->x[fc->m - 1];
    return 0;
}

int fl_forecast_fit(const double *x, const double *y, const int *run, int n, fl_forecast *out, double *held,
                    double (*held_half)[FL_FORECAST_NLEVELS]) {
    memset(out, 0, sizeof *out);
    work k;
    const size_t sz = (size_t)(n > 0 ? n : 1);
    double *hp = malloc(sz * sizeof(double)), *ae = malloc(sz * sizeof(double)), *score = malloc(sz * sizeof(double));
    int *sorted = malloc(sz * sizeof(int)), rc = -1;
    if (work_init(&k, x, y, run, n)) goto out;
    if (!hp || !ae || !score || !sorted) {
        fl_error_set("forecast: out of memory for %d points", n);
        goto out;
    }
    if (k.n < 3 || k.nruns < 2) {
        fl_error_set("forecast: %d checkpoints of %d runs with a KL and a forgetting; it needs 3 of 2 runs at least",
                     k.n, k.nruns);
        goto out;
    }
    for (int i = 0; i < n; i++) hp[i] = ae[i] = score[i] = NAN;
    if (held_out(&k, x, y, hp, ae) || fit_curve(&k, x, y, ae, out)) goto out;
    out->n = k.n, out->nruns = k.nruns;
    for (int j = 0; j < k.n; j++) {
        const int i = k.ord[j];
        score[i] = ae[i] / interp(out->x, out->s, out->m, x[i]);
        sorted[j] = i;
    }
    if (sort_by(sorted, k.n, score)) goto out;
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++) out->q[l] = quantile(&k, sorted, score, FL_FORECAST_LEVELS[l], -1);
    for (int i = 0; i < n; i++) {
        if (held) held[i] = hp[i];
        if (held_half)
            for (int l = 0; l < FL_FORECAST_NLEVELS; l++) held_half[i][l] = NAN;
    }
    for (int r = 0; held_half && r < k.nruns; r++)
        for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
            const double q = quantile(&k, sorted, score, FL_FORECAST_LEVELS[l], r);
            for (int j = 0; j < k.n; j++) {
                const int i = k.ord[j];
                if (k.rid[i] == r) held_half[i][l] = q * interp(out->x, out->s, out->m, x[i]);
            }
        }
    rc = 0;
out:
    if (rc) fl_forecast_free(out);
    work_free(&k);
    free(hp), free(ae), free(score), free(sorted);
    return rc;
}

void fl_forecast_free(fl_forecast *fc) {
    free(fc->x), free(fc->f), free(fc->s);
    memset(fc, 0, sizeof *fc);
}

fl_forecast_score fl_forecast_score_of(const double *y, const double *held,
                                       const double (*held_half)[FL_FORECAST_NLEVELS], const int *group, int want,
                                       int n) {
    fl_forecast_score sc = {0};
    double err = 0, in[FL_FORECAST_NLEVELS] = {0};
    int open[FL_FORECAST_NLEVELS] = {0}; /* a level without a finite interval: no coverage to speak of */
    for (int i = 0; i < n; i++) {
        if ((group && group[i] != want) || !isfinite(held[i]) || !isfinite(y[i])) continue;
        const double e = fabs(y[i] - held[i]);
        err += e;
        for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
            in[l] += e <= held_half[i][l];
            open[l] |= !isfinite(held_half[i][l]);
        }
        sc.n++;
    }
    sc.mae = sc.n ? err / sc.n : NAN;
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++) sc.coverage[l] = sc.n && !open[l] ? in[l] / sc.n : NAN;
    return sc;
}

int fl_forecast_level_index(double level) {
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++)
        if (fabs(level - FL_FORECAST_LEVELS[l]) < 1e-9) return l;
    return -1;
}

double fl_forecast_at(const fl_forecast *fc, double x, int l, double *lo, double *hi) {
    double f = NAN, h = NAN;
    if (fc->m > 0 && x >= 0 && x <= fc->x_max) {
        f = interp(fc->x, fc->f, fc->m, x);
        h = fc->q[l] * interp(fc->x, fc->s, fc->m, x);
    }
    if (lo) *lo = f - h;
    if (hi) *hi = f + h;
    return f;
}

double fl_forecast_budget(const fl_forecast *fc, double F, int l) {
    /* The upper bound f + q s is non-decreasing and linear between knots
     * (both are), constant below the first: the last knot within F, then
     * the crossing on the segment after it. */
    double px = 0, pu = NAN;
    for (int i = 0; i < fc->m; i++) {
        const double u = fc->f[i] + fc->q[l] * fc->s[i];
        if (u > F) {
            if (i == 0) return -1;
            return px + (fc->x[i] - px) * (F - pu) / (u - pu);
        }
        px = fc->x[i], pu = u;
    }
    return fc->m > 0 ? fc->x_max : -1;
}
