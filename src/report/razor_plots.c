/* razor_plots.c: the figures of a razor study (prior- vs new-task accuracy
 * with each method's fitted frontier; forgetting vs forward KL with the
 * pooled quadratic fit; R^2 per predictor with its interval; circuit
 * stability vs forgetting over its random-split baseline), then index.html. */
#include "forgetlab/report.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CURVE = 100 };

/* Columns x and y of the points of one method (all methods if NULL). */
static int method_xy(const fl_points *p, const char *method, int fx, int fy, double *x, double *y) {
    int n = 0;
    for (int i = 0; i < p->n; i++)
        if (!method || strcmp(p->method[i], method) == 0) {
            x[n] = p->vals[i][fx];
            y[n] = p->vals[i][fy];
            n++;
        }
    return n;
}

static int save(const fl_plot *pl, const char *dir, const char *name) {
    char *path = fl_path_join(dir, name);
    int rc = path ? fl_plot_save(pl, path) : fl_error_set("out of memory");
    free(path);
    return rc;
}

/* Prior- vs new-task accuracy: each method's checkpoints and its fitted
 * frontier prior = a + b exp(c new), drawn over the range of its kept points. */
static int plot_frontier(const char *dir, const fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    int fn = fl_field_index("new_acc"), fp = fl_field_index("prior_acc"), rc = -1;
    double *x = malloc((size_t)p->n * sizeof(double)), *y = malloc((size_t)p->n * sizeof(double));
    double (*cx)[CURVE] = malloc(sizeof(double[FL_MAX_METHODS][CURVE]));
    double (*cy)[CURVE] = malloc(sizeof(double[FL_MAX_METHODS][CURVE]));
    fl_series s[2 * FL_MAX_METHODS];
    int ns = 0, off = 0;
    if (!x || !y || !cx || !cy) goto out;
    for (int m = 0; m < a->nfront; m++) {
        const fl_frontier_fit *f = &a->front[m];
        int n = method_xy(p, f->method, fn, fp, x + off, y + off);
        s[ns++] = (fl_series){f->method, x + off, y + off, n, FL_MARK_POINTS, m, NULL};
        /* The fit describes the frontier: draw it where the frontier is. */
        const double lo = f->lo, hi = f->hi;
        if (isfinite(f->p[2]) && hi > lo) {
            for (int k = 0; k < CURVE; k++) {
                cx[m][k] = lo + (hi - lo) * k / (CURVE - 1);
                cy[m][k] = f->p[0] + f->p[1] * exp(f->p[2] * cx[m][k]);
            }
            s[ns++] = (fl_series){NULL, cx[m], cy[m], CURVE, FL_MARK_LINE, m, NULL};
        }
        off += n;
    }
    fl_plot pl = {.title = "Prior-task vs new-task accuracy (lines: fitted frontiers)",
                  .xlabel = "new-task accuracy (ParityMNIST)", .ylabel = "prior-task accuracy (FashionMNIST)",
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns};
    rc = save(&pl, dir, "frontier");
out:
    free(x);
    free(y);
    free(cx);
    free(cy);
    return rc;
}

/* Forgetting vs forward KL on the new task, coloured by method, with the
 * pooled degree-2 fit. */
static int plot_forgetting_kl(const char *dir, const fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    const fl_predictor_fit *fit = NULL;
    for (int k = 0; k < a->npred; k++)
        if (strcmp(a->pred[k].name, "forward_kl_new") == 0) fit = &a->pred[k];
    if (!fit) return 0;
    int fk = fl_field_index("forward_kl_new"), ff = fl_field_index("forgetting"), rc = -1;
    double *x = malloc((size_t)p->n * sizeof(double)), *y = malloc((size_t)p->n * sizeof(double));
    double cx[CURVE], cy[CURVE], lo = INFINITY, hi = -INFINITY;
    fl_series s[FL_MAX_METHODS + 1];
    int ns = 0, off = 0;
    if (!x || !y) goto out;
    for (int m = 0; m < a->nfront; m++) {
        int n = method_xy(p, a->front[m].method, fk, ff, x + off, y + off);
        s[ns++] = (fl_series){a->front[m].method, x + off, y + off, n, FL_MARK_POINTS, m, NULL};
        off += n;
    }
    for (int i = 0; i < off; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    for (int k = 0; k < CURVE; k++) {
        cx[k] = lo + (hi - lo) * k / (CURVE - 1);
        cy[k] = fit->coef[0] + fit->coef[1] * cx[k] + fit->coef[2] * cx[k] * cx[k];
    }
    s[ns++] = (fl_series){"quadratic fit", cx, cy, CURVE, FL_MARK_LINE, 6, NULL};
    char note[96];
    snprintf(note, sizeof note, "R\xc2\xb2 = %.3f [%.3f, %.3f]\nn = %d", fit->ci.r2, fit->ci.lo, fit->ci.hi, fit->ci.n);
    fl_plot pl = {.title = "Forgetting vs forward KL on the new task",
                  .xlabel = "forward KL(\xcf\x80\xe2\x82\x80 \xe2\x80\x96 \xcf\x80) on ParityMNIST test inputs",
                  .ylabel = "forgetting (prior-task accuracy drop)",
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns, .note = note};
    rc = save(&pl, dir, "forgetting_vs_kl");
out:
    free(x);
    free(y);
    return rc;
}

static int cmp_by_x(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Circuit stability of the prior task's classes vs forgetting, coloured by
 * method, over the band of its random-split baseline: the checkpoints
 * sorted by forgetting in 10 groups of equal size, each group's 2.5% and
 * 97.5% quantiles of circuit_stability_random at its mean forgetting. */
static int plot_cs(const char *dir, const fl_razor_analysis *a) {
    enum { BINS = 10 };
    const fl_points *p = &a->pts;
    const int ff = fl_field_index("forgetting"), fc = fl_field_index("circuit_stability");
    const int fr = fl_field_index("circuit_stability_random");
    if (ff < 0 || fc < 0 || fr < 0 || p->n < 2 * BINS) return 0;
    double *x = malloc(sizeof(double) * p->n), *y = malloc(sizeof(double) * p->n);
    double (*pair)[2] = malloc(sizeof(double[2]) * p->n), *v = malloc(sizeof(double) * p->n);
    double bx[BINS], blo[BINS], bhi[BINS];
    fl_series s[FL_MAX_METHODS + 1];
    int ns = 0, off = 0, rc = -1;
    if (!x || !y || !pair || !v) {
        fl_error_set("out of memory");
        goto out;
    }
    for (int i = 0; i < p->n; i++) pair[i][0] = p->vals[i][ff], pair[i][1] = p->vals[i][fr];
    qsort(pair, (size_t)p->n, sizeof *pair, cmp_by_x);
    for (int b = 0; b < BINS; b++) {
        const int s0 = b * p->n / BINS, s1 = (b + 1) * p->n / BINS;
        double mx = 0;
        for (int i = s0; i < s1; i++) mx += pair[i][0] / (s1 - s0), v[i - s0] = pair[i][1];
        qsort(v, (size_t)(s1 - s0), sizeof *v, cmp_by_x);
        bx[b] = mx;
        blo[b] = v[(int)floor(0.025 * (s1 - s0 - 1))];
        bhi[b] = v[(int)ceil(0.975 * (s1 - s0 - 1))];
    }
    s[ns++] = (fl_series){"random splits, 95%", bx, blo, BINS, FL_MARK_BAND, 7, bhi};
    for (int m = 0; m < a->nfront; m++) {
        int n = method_xy(p, a->front[m].method, ff, fc, x + off, y + off);
        s[ns++] = (fl_series){a->front[m].method, x + off, y + off, n, FL_MARK_POINTS, m, NULL};
        off += n;
    }
    fl_plot pl = {.title = "Circuit stability across the prior task's classes vs forgetting",
                  .xlabel = "forgetting (prior-task accuracy drop)",
                  .ylabel = "circuit stability (mean Spearman across Fashion classes)",
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns};
    rc = save(&pl, dir, "circuit_stability");
out:
    free(x), free(y), free(pair), free(v);
    return rc;
}

/* R^2 of each predictor with its bootstrap interval, the paper's Table 1
 * values beside them; predictors with a negative Spearman correlation
 * with forgetting are marked in their label. */
static int plot_r2(const char *dir, const fl_razor_analysis *a) {
    const char *labels[FL_MAX_PREDICTORS];
    char marked[FL_MAX_PREDICTORS][64];
    double v[FL_MAX_PREDICTORS], lo[FL_MAX_PREDICTORS], hi[FL_MAX_PREDICTORS], ref[FL_MAX_PREDICTORS];
    for (int k = 0; k < a->npred; k++) {
        /* R^2 hides the sign: a predictor that falls as forgetting grows is
         * marked, so the chart says which way each one moves. */
        snprintf(marked[k], sizeof marked[k], "%s%s%s", a->pred[k].name,
                 strcmp(a->pred[k].side, "outcome") == 0 ? " [outcome side]" : "",
                 a->pred[k].spearman < 0 ? " (\xe2\x88\x92)" : "");
        labels[k] = marked[k];
        v[k] = a->pred[k].ci.r2;
        lo[k] = a->pred[k].ci.lo;
        hi[k] = a->pred[k].ci.hi;
        ref[k] = fl_paper_r2(a->pred[k].name);
    }
    fl_bars b = {"How well each predictor explains forgetting", "R\xc2\xb2, quadratic fit (95% interval); (\xe2\x88\x92): falls with forgetting",
                 labels, v, lo, hi, ref, "paper (ParityMNIST)", a->npred, 0.0, 1.0};
    char *path = fl_path_join(dir, "r2_predictors");
    int rc = path ? fl_bars_save(&b, path) : fl_error_set("out of memory");
    free(path);
    return rc;
}

int fl_razor_report(const char *dir, const fl_razor_analysis *a) {
    static const char *const FIGS[] = {"forgetting_vs_kl", "frontier", "r2_predictors", "circuit_stability"};
    if (plot_forgetting_kl(dir, a) || plot_frontier(dir, a) || plot_r2(dir, a) || plot_cs(dir, a)) return -1;
    return fl_razor_write_html(dir, a, FIGS, 4);
}
