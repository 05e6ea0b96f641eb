/* razor_rank.c: which predictor explains forgetting best, as a claim with
 * an interval: each new-side predictor's held-out R^2 against the leading
 * one's, both fitted on the same resampled runs (the points where both
 * and forgetting are measured), so the interval is the difference's own;
 * two predictors' intervals set side by side overlap far more often than
 * their paired difference reaches 0. */
#include "forgetlab/report/razor.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { REPS = 1000, BOOT_SEED = 1 };

/* The score compare ranks by: held out by method when the study has it. */
static double score_of(const fl_predictor_fit *f, int lomo) { return lomo ? f->lomo.r2 : f->ci.r2; }

typedef struct {
    const double *a, *b, *y; /* the leading predictor, the other, forgetting */
    const int *group;        /* each point's method (leave-one-method-out) */
    int lomo;
} pair_ctx;

static double r2_on(const double *x, const double *y, const int *group, int lomo, const int *idx, int m) {
    return lomo ? fl_poly2_r2_lomo(x, y, group, idx, m) : fl_poly2_fit(x, y, idx, m, NULL);
}

/* The other predictor's score minus the leading one's on one resample. */
static double diff_stat(const int *idx, int m, void *ctx) {
    const pair_ctx *c = ctx;
    return r2_on(c->b, c->y, c->group, c->lomo, idx, m) - r2_on(c->a, c->y, c->group, c->lomo, idx, m);
}

/* Predictor k's column, and the leading one's and forgetting, on the points
 * where all three are finite, with their runs, seeds and methods. */
static int paired_points(const fl_razor_analysis *a, int fa, int fb, int ff, double *xa, double *xb, double *y,
                         int *run, int *seed, int *g) {
    int m = 0;
    for (int i = 0; i < a->pts.n; i++) {
        const double *v = a->pts.vals[i];
        if (!isfinite(v[fa]) || !isfinite(v[fb]) || !isfinite(v[ff])) continue;
        xa[m] = v[fa], xb[m] = v[fb], y[m] = v[ff];
        run[m] = a->pts.run[i], seed[m] = a->pts.seed[i], g[m] = a->group[i], m++;
    }
    return m;
}

int fl_razor_vs_best(fl_razor_analysis *a) {
    int lomo = 0, best = -1;
    for (int k = 0; k < a->npred; k++) {
        a->pred[k].vs_best = (fl_estimate){NAN, NAN, NAN};
        lomo |= strcmp(a->pred[k].side, "new") == 0 && isfinite(a->pred[k].lomo.r2);
    }
    for (int k = 0; k < a->npred; k++) {
        const double s = score_of(&a->pred[k], lomo);
        if (strcmp(a->pred[k].side, "new") == 0 && isfinite(s) && (best < 0 || s > score_of(&a->pred[best], lomo)))
            best = k;
    }
    a->best_pred = best;
    if (best < 0) return 0;
    const size_t sz = (size_t)(a->pts.n > 0 ? a->pts.n : 1);
    double *xa = malloc(sizeof(double) * sz * 3), *xb = xa ? xa + sz : NULL, *y = xa ? xa + 2 * sz : NULL;
    int *run = malloc(sizeof(int) * sz * 3), *seed = run ? run + sz : NULL, *g = run ? run + 2 * sz : NULL;
    const int fa = fl_points_field(&a->pts, a->pred[best].name), ff = fl_points_field(&a->pts, "forgetting");
    int rc = xa && run ? 0 : fl_error_set("out of memory");
    for (int k = 0; rc == 0 && k < a->npred; k++) {
        fl_predictor_fit *f = &a->pred[k];
        if (k == best || strcmp(f->side, "new") != 0 || !isfinite(score_of(f, lomo))) continue;
        const int m = paired_points(a, fa, fl_points_field(&a->pts, f->name), ff, xa, xb, y, run, seed, g);
        const pair_ctx c = {xa, xb, y, g, lomo};
        f->vs_best.v = m >= 3 ? diff_stat(NULL, m, (void *)&c) : NAN;
        if (isnan(f->vs_best.v)) continue;
        fl_clusters cl;
        if ((rc = fl_clusters_init(&cl, run, seed, m))) break;
        if (fl_bootstrap_ci(&cl, REPS, BOOT_SEED, diff_stat, (void *)&c, &f->vs_best.lo, &f->vs_best.hi) < 0) rc = -1;
        fl_clusters_free(&cl);
    }
    free(xa), free(run);
    return rc;
}
