/* stats.h: the statistics of the study: how well a predictor explains
 * forgetting (degree-2 polynomial least squares, R^2, bootstrap interval),
 * Spearman rank correlation, the Pareto frontier of (new-task accuracy,
 * prior-task accuracy), and its exponential fit. */
#ifndef FORGETLAB_STATS_H
#define FORGETLAB_STATS_H

#include <stdint.h>

/* Least-squares fit y ~ c[0] + c[1] x + c[2] x^2 (c may be NULL); returns
 * R^2 = 1 - SS_res / SS_tot (NaN when y is constant or n < 3). x is
 * standardised internally, so tiny KLs fit as well as large ones. */
double fl_poly2_r2(const double *x, const double *y, int n, double *c);

/* R^2 of the degree-2 fit and its bootstrap percentile interval: `reps`
 * resamples of the n points with replacement; lo/hi are the 2.5% and 97.5%
 * quantiles. */
typedef struct {
    double r2, lo, hi;
    int n;
} fl_r2_ci;
void fl_poly2_r2_bootstrap(const double *x, const double *y, int n, int reps, uint64_t seed,
                           fl_r2_ci *out);

/* Pearson's correlation; NaN if either input is constant or n < 2. */
double fl_pearson(const double *x, const double *y, int n);
/* Spearman's rank correlation (ties get average ranks); NaN if either input
 * is constant (or memory ran out). */
double fl_spearman(const double *x, const double *y, int n);
/* Average ranks (1-based) of x into r; -1 (error set) when out of memory. */
int fl_ranks(const double *x, int n, double *r);

/* keep[i] = 1 for the points within tol of the non-dominated frontier of
 * (a, b), both to be maximised: b_i >= F(a_i) - tol, where F(t) is the best
 * b among points with a >= t. Returns the number kept, or -1 (error set)
 * when out of memory. */
int fl_pareto_keep(const double *a, const double *b, int n, double tol, int *keep);

/* Least-squares fit y = p[0] + p[1] exp(p[2] x), by variable projection:
 * for fixed p[2] the fit is linear in p[0], p[1]; p[2] is found by a scan
 * then golden-section refinement. Returns the residual sum of squares. */
double fl_fit_exp(const double *x, const double *y, int n, double *p);

#endif
