/* stats.c: least-squares fits, ranks and correlations: the statistics that
 * turn a sweep into the paper's numbers (intervals in bootstrap.c,
 * frontiers in frontier.c). */
#include "forgetlab/measure/stats.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Solves the 3x3 system A c = b by Gaussian elimination with partial
 * pivoting; returns -1 if singular. */
static int solve3(double A[3][3], double b[3], double c[3]) {
    for (int k = 0; k < 3; k++) {
        int p = k;
        for (int i = k + 1; i < 3; i++)
            if (fabs(A[i][k]) > fabs(A[p][k])) p = i;
        if (fabs(A[p][k]) < 1e-300) return -1;
        for (int j = 0; j < 3; j++) {
            double t = A[k][j];
            A[k][j] = A[p][j];
            A[p][j] = t;
        }
        double t = b[k];
        b[k] = b[p];
        b[p] = t;
        for (int i = k + 1; i < 3; i++) {
            double f = A[i][k] / A[k][k];
            for (int j = k; j < 3; j++) A[i][j] -= f * A[k][j];
            b[i] -= f * b[k];
        }
    }
    for (int k = 2; k >= 0; k--) {
        double s = b[k];
        for (int j = k + 1; j < 3; j++) s -= A[k][j] * c[j];
        c[k] = s / A[k][k];
    }
    return 0;
}

double fl_poly2_fit(const double *x, const double *y, const int *idx, int n, double *coef) {
    if (n < 3) return NAN;
    double mx = 0, sx = 0, my = 0;
    for (int k = 0; k < n; k++) {
        int i = idx ? idx[k] : k;
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    for (int k = 0; k < n; k++) {
        int i = idx ? idx[k] : k;
        sx += (x[i] - mx) * (x[i] - mx);
    }
    sx = sqrt(sx / n);
    if (sx == 0) sx = 1;
    double A[3][3] = {{0}}, b[3] = {0}, c[3], sst = 0;
    for (int k = 0; k < n; k++) {
        int i = idx ? idx[k] : k;
        double u = (x[i] - mx) / sx, f[3] = {1, u, u * u};
        for (int r = 0; r < 3; r++) {
            b[r] += f[r] * y[i];
            for (int s = 0; s < 3; s++) A[r][s] += f[r] * f[s];
        }
        sst += (y[i] - my) * (y[i] - my);
    }
    if (sst == 0 || solve3(A, b, c)) return NAN;
    double ssr = 0;
    for (int k = 0; k < n; k++) {
        int i = idx ? idx[k] : k;
        double u = (x[i] - mx) / sx, e = y[i] - (c[0] + c[1] * u + c[2] * u * u);
        ssr += e * e;
    }
    if (coef) { /* back to the unstandardised x */
        coef[0] = c[0] - c[1] * mx / sx + c[2] * mx * mx / (sx * sx);
        coef[1] = c[1] / sx - 2 * c[2] * mx / (sx * sx);
        coef[2] = c[2] / (sx * sx);
    }
    return 1.0 - ssr / sst;
}

double fl_poly2_r2(const double *x, const double *y, int n, double *c) { return fl_poly2_fit(x, y, NULL, n, c); }

typedef struct {
    double v;
    int i;
} keyed;


/* Sorts k[n] by value: insertion sort of runs of 16, then bottom-up
 * merges through tmp[n]. The comparison is inline, not a callback: circuit
 * stability ranks many vectors of a few hundred values (its random-split
 * baseline, at every checkpoint of a study), and qsort's calls dominated. */
static void sort_keyed(keyed *k, keyed *tmp, int n) {
    enum { RUN = 16 };
    for (int s = 0; s < n; s += RUN) {
        const int e = s + RUN < n ? s + RUN : n;
        for (int i = s + 1; i < e; i++) {
            keyed x = k[i];
            int j = i - 1;
            while (j >= s && k[j].v > x.v) k[j + 1] = k[j], j--;
            k[j + 1] = x;
        }
    }
    keyed *a = k, *b = tmp;
    for (int w = RUN; w < n; w *= 2) {
        for (int s = 0; s < n; s += 2 * w) {
            const int m = s + w < n ? s + w : n, e = s + 2 * w < n ? s + 2 * w : n;
            int i = s, j = m, o = s;
            while (i < m && j < e) b[o++] = a[j].v < a[i].v ? a[j++] : a[i++];
            while (i < m) b[o++] = a[i++];
            while (j < e) b[o++] = a[j++];
        }
        keyed *t = a;
        a = b, b = t;
    }
    if (a != k) memcpy(k, a, sizeof *k * (size_t)n);
}

int fl_ranks(const double *x, int n, double *r) {
    keyed *k = malloc(2 * (size_t)(n > 0 ? n : 1) * sizeof *k);
    if (!k) return fl_error_set("ranks: out of memory for %d values", n);
    for (int i = 0; i < n; i++) k[i] = (keyed){x[i], i};
    sort_keyed(k, k + n, n);
    for (int s = 0; s < n;) {
        int e = s;
        while (e + 1 < n && k[e + 1].v == k[s].v) e++;
        double avg = 0.5 * (s + e) + 1.0; /* ties share the mean of their ranks */
        for (int j = s; j <= e; j++) r[k[j].i] = avg;
        s = e + 1;
    }
    free(k);
    return 0;
}

double fl_pearson(const double *x, const double *y, int n) {
    if (n < 2) return NAN;
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

double fl_spearman(const double *x, const double *y, int n) {
    double *rx = malloc((size_t)(n > 0 ? n : 1) * sizeof(double)), *ry = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    double rho = NAN;
    if (rx && ry && n >= 2 && fl_ranks(x, n, rx) == 0 && fl_ranks(y, n, ry) == 0) rho = fl_pearson(rx, ry, n);
    free(rx);
    free(ry);
    return rho;
}

/* Student's t quantiles at 0.975 for 1..30 degrees of freedom; beyond,
 * the Cornish-Fisher expansion around the normal's 1.959964 (three terms)
 * is within 1e-5 of the exact value. */
double fl_t975(int df) {
    static const double T[30] = {12.7062, 4.30265, 3.18245, 2.77645, 2.57058, 2.44691, 2.36462, 2.306, 2.26216,
                                 2.22814, 2.20099, 2.17881, 2.16037, 2.14479, 2.13145, 2.11991, 2.10982, 2.10092,
                                 2.09302, 2.08596, 2.07961, 2.07387, 2.06866, 2.0639, 2.05954, 2.05553, 2.05183,
                                 2.04841, 2.04523, 2.04227};
    if (df < 1) return NAN;
    if (df <= 30) return T[df - 1];
    const double z = 1.959964, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, v = df;
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
           (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

fl_estimate fl_mean_ci(const double *x, int n) {
    fl_estimate e = {NAN, NAN, NAN};
    double s = 0, ss = 0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) s += x[i], m++;
    if (m == 0) return e;
    e.v = s / m;
    if (m < 2) return e;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - e.v) * (x[i] - e.v);
    const double h = fl_t975(m - 1) * sqrt(ss / (m - 1) / m);
    e.lo = e.v - h, e.hi = e.v + h;
    return e;
}

double fl_poly2_r2_partial(const double *x, const double *y, const int *group, const int *idx, int n) {
    if (n < 3) return NAN;
    int ng = 0;
    for (int k = 0; k < n; k++) {
        const int g = group[idx ? idx[k] : k];
        ng = g + 1 > ng ? g + 1 : ng;
    }
    /* Frisch-Waugh: the factor's part comes out by subtracting each
     * group's means of y, x and x^2; x is standardised first (as in the
     * pooled fit) so that its square is well conditioned. */
    double mx = 0, sx = 0;
    for (int k = 0; k < n; k++) mx += x[idx ? idx[k] : k] / n;
    for (int k = 0; k < n; k++) sx += (x[idx ? idx[k] : k] - mx) * (x[idx ? idx[k] : k] - mx) / n;
    sx = sx > 0 ? sqrt(sx) : 1;
    double *m = calloc((size_t)(ng > 0 ? ng : 1) * 4, sizeof(double));
    if (!m) return NAN;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k, g = group[i];
        const double z = (x[i] - mx) / sx;
        m[4 * g] += y[i], m[4 * g + 1] += z, m[4 * g + 2] += z * z, m[4 * g + 3] += 1;
    }
    double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0, syy = 0;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k, g = group[i];
        const double c = m[4 * g + 3], z = (x[i] - mx) / sx;
        const double ry = y[i] - m[4 * g] / c, r1 = z - m[4 * g + 1] / c, r2 = z * z - m[4 * g + 2] / c;
        a11 += r1 * r1, a12 += r1 * r2, a22 += r2 * r2, b1 += r1 * ry, b2 += r2 * ry, syy += ry * ry;
    }
    free(m);
    if (!(syy > 0)) return NAN;
    /* Least squares of the residual y on the residual x and x^2; a
     * dependent pair (x constant within every group, or taking two values)
     * falls back to x alone. */
    const double det = a11 * a22 - a12 * a12;
    double explained;
    if (det > 1e-12 * a11 * a22 && det > 0) explained = (b1 * (a22 * b1 - a12 * b2) + b2 * (a11 * b2 - a12 * b1)) / det;
    else explained = a11 > 0 ? b1 * b1 / a11 : 0;
    return explained / syy;
}
