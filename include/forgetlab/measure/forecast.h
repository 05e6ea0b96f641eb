/* forecast.h: forgetting forecast from the forward KL on the new task's
 * inputs alone (docs/budget.md). A study's checkpoints give a monotone
 * curve of forgetting on KL and, by split-conformal prediction with whole
 * runs held out, an interval for a NEW run's checkpoint at 80, 90 and
 * 95%; the same held-out runs say how honest it is (mean absolute error,
 * coverage). A forgetting budget F becomes the largest KL whose upper
 * bound stays <= F: a guard that reads no prior-task data.
 *
 * The curve: non-decreasing isotonic fit of forgetting y on KL x over
 * every checkpoint. Its scale s(x): the non-decreasing isotonic fit of the
 * held-out absolute residuals, floored (forgetting varies more where KL is
 * large; a constant width would promise nothing at small budgets).
 * Scores |y - f_{-r}(x)| / s(x), where f_{-r} is the curve fitted without
 * run r; each run weighs 1 (its checkpoints 1/n_r each), so a run of many
 * checkpoints does not calibrate more than another; q at level L is the
 * smallest score whose run-weighted count reaches ceil(L (R + 1)) of R
 * runs (infinite when that exceeds R: too few runs for the level). */
#ifndef FORGETLAB_FORECAST_H
#define FORGETLAB_FORECAST_H

#define FL_FORECAST_NLEVELS 3
extern const double FL_FORECAST_LEVELS[FL_FORECAST_NLEVELS]; /* 0.80, 0.90, 0.95 */

typedef struct {
    int m;               /* knots: the curve and its scale, linear between them */
    double *x, *f, *s;
    double q[FL_FORECAST_NLEVELS];
    int n, nruns;        /* checkpoints and runs it was fitted on */
    double x_min, x_max; /* the KL range seen */
} fl_forecast;

/* Honesty of the forecast on held-out runs: each run's checkpoints
 * forecast by the curve and quantile fitted without that run. */
typedef struct {
    int n;
    double mae;
    double coverage[FL_FORECAST_NLEVELS];
} fl_forecast_score;

/* Fits on the points with finite x and y; run[i] labels point i's run
 * (any ints). held (optional, n entries) receives each point's held-out
 * forecast, held_half (optional) its half-widths at each level (NaN for a
 * skipped point). -1 (error set) with fewer than 3 points or 2 runs. */
int fl_forecast_fit(const double *x, const double *y, const int *run, int n, fl_forecast *out, double *held,
                    double (*held_half)[FL_FORECAST_NLEVELS]);
void fl_forecast_free(fl_forecast *fc);
/* The held-out MAE and coverage over the points with group[i] == want
 * (group NULL: all of them). */
fl_forecast_score fl_forecast_score_of(const double *y, const double *held,
                                       const double (*held_half)[FL_FORECAST_NLEVELS], const int *group, int want,
                                       int n);
/* Index of a level in FL_FORECAST_LEVELS, or -1. */
int fl_forecast_level_index(double level);
/* The forecast at x and its interval at level index l: NaN beyond x_max
 * (the study saw no such KL) or for x < 0; below x_min, the value at
 * x_min (forgetting does not fall as KL falls). */
double fl_forecast_at(const fl_forecast *fc, double x, int l, double *lo, double *hi);
/* The largest KL in [0, x_max] whose upper bound at level l stays <= F,
 * or -1 when even the smallest KL seen has a higher bound. */
double fl_forecast_budget(const fl_forecast *fc, double F, int l);

#endif
