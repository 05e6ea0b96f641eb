/* stats.h: the statistics of the study: how well a predictor explains
 * forgetting (degree-2 polynomial least squares, R^2, pooled and
 * leave-one-method-out, with intervals that resample whole runs and
 * seeds), Spearman rank correlation, and each method's frontier of
 * (new-task accuracy, prior-task accuracy): empirical (isotonic) and the
 * paper's exponential, with a test of whether the latter is identifiable.
 * Fits and ranks in stats.c, resampling in bootstrap.c, frontiers in
 * frontier.c, the monotone fit both frontiers and forecasts use in
 * isotonic.c. */
#ifndef FORGETLAB_STATS_H
#define FORGETLAB_STATS_H

#include <stdint.h>

struct fl_rng;

/* Least-squares fit y ~ c[0] + c[1] x + c[2] x^2 (c may be NULL); returns
 * R^2 = 1 - SS_res / SS_tot (NaN when y is constant or n < 3). x is
 * standardised internally, so tiny KLs fit as well as large ones. */
double fl_poly2_r2(const double *x, const double *y, int n, double *c);
/* The same on the points idx[0..n) (idx NULL: 0..n), repeats allowed. */
double fl_poly2_fit(const double *x, const double *y, const int *idx, int n, double *c);

/* How a study's points were drawn, for resampling: point i belongs to a
 * run, each run to a seed (its base model). Checkpoints of one run are
 * strongly correlated and runs of one seed share a base, so an interval
 * resamples seeds (when there are several), then runs within each drawn
 * seed, and takes every point of each drawn run: a two-stage cluster
 * bootstrap. Labels are any ints; a run's seed is its first point's. */
typedef struct {
    int n, nruns, nseeds, cap;
    int *pt, *rs;   /* run r's points: pt[rs[r] .. rs[r + 1]) */
    int *run, *ss;  /* seed s's runs: run[ss[s] .. ss[s + 1]) */
} fl_clusters;
/* run NULL: every point its own run (the point-level bootstrap); seed
 * NULL: one seed. -1 (error set) when out of memory. */
int fl_clusters_init(fl_clusters *c, const int *run, const int *seed, int n);
void fl_clusters_free(fl_clusters *c);
/* One resample's point indices into idx (room for c->cap); returns how many. */
int fl_clusters_draw(const fl_clusters *c, struct fl_rng *rng, int *idx);

/* A statistic of the points idx[0..m) (NaN: undefined on that resample). */
typedef double (*fl_statistic)(const int *idx, int m, void *ctx);
/* The 2.5% and 97.5% quantiles of stat over reps cluster resamples (stream
 * FL_STREAM_BOOTSTRAP of seed), skipping resamples where it is NaN;
 * returns the number of finite resamples (lo = hi = NaN when none), or -1. */
int fl_bootstrap_ci(const fl_clusters *c, int reps, uint64_t seed, fl_statistic stat, void *ctx, double *lo,
                    double *hi);

/* R^2 of the degree-2 fit and its bootstrap percentile interval over reps
 * resamples of c (NULL: of the n points one by one). */
typedef struct {
    double r2, lo, hi;
    int n;
} fl_r2_ci;
/* An estimate with its interval (a run bootstrap's, or Student's t). */
typedef struct {
    double v, lo, hi;
} fl_estimate;
/* Student's t quantile at 0.975 with df degrees of freedom (NaN below 1). */
double fl_t975(int df);
/* The mean of the finite x and its 95% t interval, mean +- t975(m - 1)
 * s / sqrt(m), for m independent draws (seeds); NaN bounds below 2. */
fl_estimate fl_mean_ci(const double *x, int n);
int fl_poly2_r2_bootstrap(const double *x, const double *y, int n, const fl_clusters *c, int reps,
                          uint64_t seed, fl_r2_ci *out);

/* Leave-one-group-out R^2 on the points idx[0..n) (idx NULL: all): for each
 * group, the degree-2 fit on the other groups' points predicts its points;
 * R^2 = 1 - (sum of those squared errors) / SS_tot over every point. It
 * asks whether one curve explains every method, which pooled R^2 does not.
 * NaN with fewer than two groups or a fit that fails. */
double fl_poly2_r2_lomo(const double *x, const double *y, const int *group, const int *idx, int n);

/* Partial R^2 of the degree-2 curve once a factor is accounted for: with
 * y ~ factor (each group its own mean) as the reduced model and y ~
 * factor + x + x^2 as the full one, 1 - RSS_full / RSS_reduced, over the
 * points idx[0..n) (idx NULL: all; repeats count). How much of what the
 * groups (a study's learning rates) leave unexplained the predictor
 * explains. NaN when nothing is left or n < 3. */
double fl_poly2_r2_partial(const double *x, const double *y, const int *group, const int *idx, int n);

/* How far group b's points lie above group a's curve: the mean of
 * y - f_a(x) over b's points inside the x range of a's, f_a the degree-2
 * fit on a's points (a < 0: on every group but b). NaN when a has fewer
 * than 3 points or b none in that range. */
double fl_curve_gap(const double *x, const double *y, const int *group, int a, int b, const int *idx, int n);

/* Pearson's correlation; NaN if either input is constant or n < 2. */
double fl_pearson(const double *x, const double *y, int n);
/* Spearman's rank correlation (ties get average ranks); NaN if either input
 * is constant (or memory ran out). */
double fl_spearman(const double *x, const double *y, int n);
/* Average ranks (1-based) of x into r; -1 (error set) when out of memory. */
int fl_ranks(const double *x, int n, double *r);

/* The least-squares monotone fit of y on x, x ascending (n points):
 * non-decreasing for dir > 0, non-increasing for dir < 0 (pool-adjacent-
 * violators, equal x pooled first). fx (distinct x, ascending) and fy
 * receive it, room for n; returns its number of points, or -1 (error set).
 * (isotonic.c) */
int fl_isotonic_sorted(const double *x, const double *y, int n, int dir, double *fx, double *fy);

/* keep[i] = 1 for the points within tol of the non-dominated frontier of
 * (a, b), both to be maximised: b_i >= F(a_i) - tol, where F(t) is the best
 * b among points with a >= t. Returns the number kept, or -1 (error set)
 * when out of memory. */
int fl_pareto_keep(const double *a, const double *b, int n, double tol, int *keep);

/* The empirical frontier of the points idx[0..n) (idx NULL: all) of
 * (a, b): those within tol of the non-dominated set (fl_pareto_keep), then
 * the non-increasing isotonic fit of b on a (pool-adjacent-violators, equal
 * a pooled first). fx (ascending, distinct) and fy receive the fit, room
 * for n; returns its number of points, or -1 (error set). */
int fl_frontier_fit(const double *a, const double *b, const int *idx, int n, double tol, double *fx, double *fy);
/* The frontier at t: linear between its points, fy[0] left of them (a
 * point reaching further on a does at least as well), NaN right of them. */
double fl_frontier_at(const double *fx, const double *fy, int m, double t);
/* Its integral over [lo, hi], hi <= fx[m - 1] (beyond: held at fy[m - 1]). */
double fl_frontier_area(const double *fx, const double *fy, int m, double lo, double hi);

/* Least-squares fit y = p[0] + p[1] exp(p[2] x), by variable projection:
 * for fixed p[2] the fit is linear in p[0], p[1]; p[2] is found by a scan
 * of [-60, 60] then golden-section refinement. Returns the residual sum of
 * squares. */
double fl_fit_exp(const double *x, const double *y, int n, double *p);
/* Whether that fit means something: p[2] inside its scan range (not at an
 * edge), a lower AIC (n ln(RSS/n) + 2k) than a constant (k = 1) and a line
 * (k = 2), with k = 3, and a curve that stays within the points' y range
 * (+-0.02) over their x range; at least 5 points. */
int fl_fit_exp_identifiable(const double *x, const double *y, int n, const double *p, double rss);

#endif
