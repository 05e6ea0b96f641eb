/* frontier.c: each method's frontier of (new-task accuracy, prior-task
 * accuracy) in the study: the points near its non-dominated set, their
 * non-increasing isotonic fit (the empirical frontier the methods are
 * compared by, through the area under it), and the paper's exponential
 * fit with a test of whether its parameters are identifiable. */
#include "forgetlab/measure/stats.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double v;
    int i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    const int c = (x->v > y->v) - (x->v < y->v);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int fl_pareto_keep(const double *a, const double *b, int n, double tol, int *keep) {
    keyed *k = malloc((size_t)(n > 0 ? n : 1) * sizeof *k);
    double *best = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    int kept = 0;
    if (!k || !best) {
        kept = fl_error_set("Pareto frontier: out of memory for %d points", n);
        goto out;
    }
    for (int i = 0; i < n; i++) k[i] = (keyed){a[i], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    /* Sweep from the largest a down: best b among points with a >= a_i,
     * ties in a included. */
    double run = -INFINITY;
    for (int s = n - 1; s >= 0;) {
        int e = s;
        while (e - 1 >= 0 && k[e - 1].v == k[s].v) e--;
        for (int j = e; j <= s; j++) run = fmax(run, b[k[j].i]);
        for (int j = e; j <= s; j++) best[k[j].i] = run;
        s = e - 1;
    }
    for (int i = 0; i < n; i++) kept += keep[i] = b[i] >= best[i] - tol;
out:
    free(k);
    free(best);
    return kept;
}

/* For fixed c: least squares of y on [1, exp(c x)]; returns SSR. */
static double exp_fit_given_c(const double *x, const double *y, int n, double c, double *a, double *b) {
    double s1 = n, se = 0, see = 0, sy = 0, sey = 0;
    for (int i = 0; i < n; i++) {
        double e = exp(c * x[i]);
        se += e;
        see += e * e;
        sy += y[i];
        sey += e * y[i];
    }
    double det = s1 * see - se * se;
    if (fabs(det) < 1e-12 * (s1 * see + 1e-300)) {
        *a = sy / n;
        *b = 0;
    } else {
        *a = (see * sy - se * sey) / det;
        *b = (s1 * sey - se * sy) / det;
    }
    double ssr = 0;
    for (int i = 0; i < n; i++) {
        double r = y[i] - (*a + *b * exp(c * x[i]));
        ssr += r * r;
    }
    return isfinite(ssr) ? ssr : INFINITY;
}

enum { EXP_SCAN_STEPS = 480 };
static const double EXP_SCAN_LO = -60, EXP_SCAN_HI = 60;

double fl_fit_exp(const double *x, const double *y, int n, double *p) {
    /* Scan c over a range wide enough for accuracies in [0, 1], then refine
     * the best bracket by golden-section search. */
    const double lo = EXP_SCAN_LO, hi = EXP_SCAN_HI;
    const int steps = EXP_SCAN_STEPS;
    double a, b, best = INFINITY, bc = 0;
    for (int k = 0; k <= steps; k++) {
        double c = lo + (hi - lo) * k / steps;
        double s = exp_fit_given_c(x, y, n, c, &a, &b);
        if (s < best) {
            best = s;
            bc = c;
        }
    }
    double h = (hi - lo) / steps, l = fmax(lo, bc - h), r = fmin(hi, bc + h);
    const double g = 0.5 * (sqrt(5.0) - 1);
    for (int it = 0; it < 100; it++) {
        double c1 = r - g * (r - l), c2 = l + g * (r - l);
        if (exp_fit_given_c(x, y, n, c1, &a, &b) < exp_fit_given_c(x, y, n, c2, &a, &b))
            r = c2;
        else
            l = c1;
    }
    double c = 0.5 * (l + r);
    double s = exp_fit_given_c(x, y, n, c, &a, &b);
    if (s > best) { /* refinement must not lose to the scan */
        c = bc;
        s = exp_fit_given_c(x, y, n, c, &a, &b);
    }
    p[0] = a;
    p[1] = b;
    p[2] = c;
    return s;
}

int fl_fit_exp_identifiable(const double *x, const double *y, int n, const double *p, double rss) {
    if (n < 5 || !isfinite(rss) || !isfinite(p[2])) return 0;
    /* At the edge of the scan, c is not estimated: the fit wants more. */
    const double h = (EXP_SCAN_HI - EXP_SCAN_LO) / EXP_SCAN_STEPS;
    if (p[2] <= EXP_SCAN_LO + h || p[2] >= EXP_SCAN_HI - h) return 0;
    /* The constant and the least-squares line, by their normal equations. */
    double mx = 0, mean = 0, sxx = 0, sxy = 0, ss0 = 0, ss1;
    for (int i = 0; i < n; i++) mx += x[i] / n, mean += y[i] / n;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - mean);
        ss0 += (y[i] - mean) * (y[i] - mean);
    }
    ss1 = sxx > 0 ? ss0 - sxy * sxy / sxx : ss0;
    /* A perfect fit has no AIC; a tiny floor keeps the comparison defined. */
    const double floor = 1e-300;
    const double aic3 = n * log(fmax(rss, floor) / n) + 6, aic1 = n * log(fmax(ss0, floor) / n) + 2,
                 aic2 = n * log(fmax(ss1, floor) / n) + 4;
    if (!(aic3 < aic1 && aic3 < aic2)) return 0;
    /* And it describes the data: between the smallest and largest x it
     * stays within the y range of the points (give or take 0.02). */
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n; i++)
        xlo = fmin(xlo, x[i]), xhi = fmax(xhi, x[i]), ylo = fmin(ylo, y[i]), yhi = fmax(yhi, y[i]);
    for (int k = 0; k <= 100; k++) {
        const double t = xlo + (xhi - xlo) * k / 100, f = p[0] + p[1] * exp(p[2] * t);
        if (!(f >= ylo - 0.02 && f <= yhi + 0.02)) return 0;
    }
    return 1;
}

int fl_frontier_fit(const double *a, const double *b, const int *idx, int n, double tol, double *fx, double *fy) {
    double *pa = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1)), *pb = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int *keep = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    keyed *k = malloc(sizeof *k * (size_t)(n > 0 ? n : 1));
    double *w = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int m = -1;
    if (!pa || !pb || !keep || !k || !w) {
        fl_error_set("frontier: out of memory for %d points", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int j = idx ? idx[i] : i;
        pa[i] = a[j], pb[i] = b[j];
    }
    if (fl_pareto_keep(pa, pb, n, tol, keep) < 0) goto out;
    int nk = 0;
    for (int i = 0; i < n; i++)
        if (keep[i]) k[nk++] = (keyed){pa[i], i};
    qsort(k, (size_t)nk, sizeof *k, cmp_keyed);
    for (int i = 0; i < nk; i++) pa[i] = k[i].v, keep[i] = k[i].i;
    for (int i = 0; i < nk; i++) w[i] = pb[keep[i]];
    m = fl_isotonic_sorted(pa, w, nk, -1, fx, fy);
out:
    free(pa), free(pb), free(keep), free(k), free(w);
    return m;
}

double fl_frontier_at(const double *fx, const double *fy, int m, double t) {
    if (m <= 0 || t > fx[m - 1]) return NAN;
    if (t <= fx[0]) return fy[0];
    int lo = 0, hi = m - 1; /* fx[lo] < t <= fx[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (fx[mid] < t) lo = mid;
        else hi = mid;
    }
    return fy[lo] + (fy[hi] - fy[lo]) * (t - fx[lo]) / (fx[hi] - fx[lo]);
}

double fl_frontier_area(const double *fx, const double *fy, int m, double lo, double hi) {
    if (m <= 0 || !(hi >= lo)) return NAN;
    /* Trapezoids between the breakpoints inside [lo, hi]: exact for the
     * piecewise-linear frontier. */
    double area = 0, t0 = lo, f0 = fl_frontier_at(fx, fy, m, lo);
    if (isnan(f0)) f0 = fy[m - 1];
    for (int i = 0; i <= m; i++) {
        double t1 = i < m ? fx[i] : hi;
        if (t1 <= t0) continue;
        if (t1 > hi) t1 = hi;
        double f1 = fl_frontier_at(fx, fy, m, t1);
        if (isnan(f1)) f1 = fy[m - 1];
        area += 0.5 * (f0 + f1) * (t1 - t0);
        t0 = t1, f0 = f1;
        if (t0 >= hi) break;
    }
    return area;
}
