/* razor_plots.c: the figures of a razor study (prior- vs new-task accuracy
 * with each method's empirical frontier and the base models; forgetting vs
 * forward KL with the pooled quadratic fit; R^2 per predictor with its
 * interval, outcome-side measures apart; circuit stability vs forgetting
 * over its random-split baseline), then index.html. */
#include "forgetlab/report/razor.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/plot.h"

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

/* The highest prior-task accuracy of the base models (one per seed): no
 * drawn curve rises above it. */
static double base_prior(const fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    const int fb = fl_points_field(p, a->kind->prior_base_field);
    double top = -INFINITY;
    for (int i = 0; i < p->n; i++) top = fmax(top, p->vals[i][fb]);
    return top;
}

/* Prior- vs new-task accuracy: each method's checkpoints and its empirical
 * frontier (the isotonic fit over its kept points, never above the base
 * model), the exponential only where it is identifiable, and the base
 * models (one per seed) as their own marks. */
static int plot_frontier(const char *dir, const fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    const int fn = fl_points_field(p, a->kind->new_field), fp = fl_points_field(p, a->kind->prior_field);
    const int bn = fl_points_field(p, a->kind->new_base_field), bp = fl_points_field(p, a->kind->prior_base_field);
    const double top = base_prior(a);
    double *x = malloc((size_t)p->n * sizeof(double)), *y = malloc((size_t)p->n * sizeof(double));
    int total = 1, coff = 0;
    for (int m = 0; m < a->nmeth; m++) total += a->meth[m].m;
    double *clip = malloc((size_t)total * sizeof(double)), bx[64], by[64];
    fl_series s[3 * FL_MAX_METHODS + 2 + 64];
    int ns = 0, off = 0, nb = 0, rc = -1;
    if (!x || !y || !clip) goto out;
    for (int m = 0; m < a->nmeth; m++) {
        const fl_method_fit *f = &a->meth[m];
        int n = method_xy(p, f->method, fn, fp, x + off, y + off);
        s[ns++] = (fl_series){f->method, x + off, y + off, n, FL_MARK_POINTS, m, NULL};
        off += n;
        /* The frontier through its breakpoints, clipped at the base model. */
        for (int j = 0; j < f->m; j++) clip[coff + j] = fmin(f->fy[j], top);
        if (f->m > 1) s[ns++] = (fl_series){NULL, f->fx, clip + coff, f->m, FL_MARK_LINE, m, NULL};
        coff += f->m;
    }
    /* The base models: one point per seed (the rows of one seed share it). */
    for (int i = 0; i < p->n && nb < 64; i++) {
        int seen = 0;
        for (int j = 0; j < nb && !seen; j++) seen = bx[j] == p->vals[i][bn] && by[j] == p->vals[i][bp];
        if (!seen) bx[nb] = p->vals[i][bn], by[nb] = p->vals[i][bp], nb++;
    }
    s[ns++] = (fl_series){nb > 1 ? "base models" : "base model", bx, by, nb, FL_MARK_POINTS, FL_COLOR_BLACK, NULL};
    /* ... and their prior-task accuracy across the plot, where the eye
     * looks for it (the points hide among the first checkpoints). */
    double lx[2] = {INFINITY, -INFINITY}, ly[64][2];
    for (int i = 0; i < p->n; i++) lx[0] = fmin(lx[0], p->vals[i][fn]), lx[1] = fmax(lx[1], p->vals[i][fn]);
    for (int j = 0; j < nb && ns < (int)(sizeof s / sizeof *s); j++) {
        ly[j][0] = ly[j][1] = by[j];
        s[ns++] = (fl_series){NULL, lx, ly[j], 2, FL_MARK_LINE, FL_COLOR_BLACK, NULL};
    }
    char title[128];
    snprintf(title, sizeof title, "Prior- vs new-task accuracy, %d seed%s (lines: isotonic frontiers)", a->nseeds,
             a->nseeds > 1 ? "s" : "");
    fl_plot pl = {.title = title, .xlabel = a->kind->new_axis,
                  .ylabel = a->kind->prior_axis,
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns};
    rc = save(&pl, dir, "frontier");
out:
    free(x), free(y), free(clip);
    return rc;
}

/* Forgetting vs forward KL on the new task, coloured by method, with the
 * pooled degree-2 fit over the data's range (and, on request, each
 * method's own fit over its range, and a logarithmic KL axis). */
static int plot_forgetting_kl(const char *dir, const fl_razor_analysis *a, const fl_razor_report_opts *o) {
    const fl_points *p = &a->pts;
    const fl_predictor_fit *fit = NULL;
    for (int k = 0; k < a->npred; k++)
        if (strcmp(a->pred[k].name, "forward_kl_new") == 0) fit = &a->pred[k];
    if (!fit) return 0;
    int fk = fl_points_field(p, "forward_kl_new"), ff = fl_points_field(p, "forgetting"), rc = -1;
    double *x = malloc((size_t)p->n * sizeof(double)), *y = malloc((size_t)p->n * sizeof(double));
    double (*cx)[CURVE] = malloc(sizeof(double[FL_MAX_METHODS + 1][CURVE]));
    double (*cy)[CURVE] = malloc(sizeof(double[FL_MAX_METHODS + 1][CURVE]));
    fl_series s[2 * FL_MAX_METHODS + 1];
    int ns = 0, off = 0;
    if (!x || !y || !cx || !cy) goto out;
    for (int m = 0; m <= a->nmeth; m++) {
        const int pooled = m == a->nmeth;
        int n = 0;
        if (!pooled) {
            n = method_xy(p, a->meth[m].method, fk, ff, x + off, y + off);
            s[ns++] = (fl_series){a->meth[m].method, x + off, y + off, n, FL_MARK_POINTS, m, NULL};
        }
        if (!pooled && !o->per_method_fits) {
            off += n;
            continue;
        }
        /* A quadratic describes its data: drawn over their range only
         * (on a log axis, spaced evenly in log KL from the smallest positive). */
        const double *px = pooled ? x : x + off, *py = pooled ? y : y + off;
        const int pn = pooled ? off : n;
        double lo = INFINITY, hi = -INFINITY, c[3];
        for (int i = 0; i < pn; i++)
            if (isfinite(px[i]) && (!o->log_x || px[i] > 0)) lo = fmin(lo, px[i]), hi = fmax(hi, px[i]);
        if (pooled) memcpy(c, fit->coef, sizeof c);
        else if (isnan(fl_poly2_r2(px, py, pn, c))) hi = lo;
        off += n;
        if (!(hi > lo)) continue;
        for (int k = 0; k < CURVE; k++) {
            const double t = (double)k / (CURVE - 1);
            cx[m][k] = o->log_x ? lo * pow(hi / lo, t) : lo + (hi - lo) * t;
            cy[m][k] = c[0] + c[1] * cx[m][k] + c[2] * cx[m][k] * cx[m][k];
        }
        s[ns++] = (fl_series){pooled ? "quadratic fit, all methods" : NULL, cx[m], cy[m], CURVE, FL_MARK_LINE,
                              pooled ? FL_COLOR_BLACK : m, NULL};
    }
    char note[160];
    snprintf(note, sizeof note, "R\xc2\xb2 = %.3f [%.3f, %.3f]\nleave-one-method-out %.3f\nn = %d, %d seed%s", fit->ci.r2,
             fit->ci.lo, fit->ci.hi, fit->lomo.r2, fit->ci.n, a->nseeds, a->nseeds > 1 ? "s" : "");
    fl_plot pl = {.title = "Forgetting vs forward KL on the new task",
                  .xlabel = a->kind->kl_axis,
                  .ylabel = "forgetting (prior-task accuracy drop)", .logx = o->log_x,
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns, .note = note};
    rc = save(&pl, dir, "forgetting_vs_kl");
out:
    free(x), free(y), free(cx), free(cy);
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
    const int ff = fl_points_field(p, "forgetting"), fc = fl_points_field(p, a->kind->cs_field);
    const int fr = fl_points_field(p, a->kind->cs_random_field);
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
    s[ns++] = (fl_series){"random splits, 95%", bx, blo, BINS, FL_MARK_BAND, FL_COLOR_GREY, bhi};
    for (int m = 0; m < a->nmeth; m++) {
        int n = method_xy(p, a->meth[m].method, ff, fc, x + off, y + off);
        s[ns++] = (fl_series){a->meth[m].method, x + off, y + off, n, FL_MARK_POINTS, m, NULL};
        off += n;
    }
    fl_plot pl = {.title = "Circuit stability of the prior task vs forgetting",
                  .xlabel = "forgetting (prior-task accuracy drop)",
                  .ylabel = a->kind->cs_axis,
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns};
    rc = save(&pl, dir, "circuit_stability");
out:
    free(x), free(y), free(pair), free(v);
    return rc;
}

/* R^2 of each predictor with its run-bootstrap interval, the paper's
 * Table 1 values beside them: the predictors proper first, then, after a
 * spacer row, the outcome-side measures (computed on the prior task's own
 * test images, so they restate forgetting). Predictors with a negative
 * Spearman correlation with forgetting are marked in their label. regime:
 * the fits on the checkpoints in the paper's regime only (r2_regime.png),
 * else on every checkpoint (r2_predictors.png). */
static int plot_r2(const char *dir, const fl_razor_analysis *a, int regime) {
    enum { ROWS = FL_MAX_PREDICTORS + 1 };
    const char *labels[ROWS];
    char marked[ROWS][64];
    double v[ROWS], lo[ROWS], hi[ROWS], ref[ROWS];
    int n = 0;
    for (int side = 0; side < 2; side++) {
        if (side == 1) {
            labels[n] = "outcome side (restates forgetting):";
            v[n] = lo[n] = hi[n] = ref[n] = NAN;
            n++;
        }
        for (int k = 0; k < a->npred; k++) {
            const fl_predictor_fit *f = &a->pred[k];
            if ((strcmp(f->side, "outcome") == 0) != side) continue;
            snprintf(marked[n], sizeof marked[n], "%s%s", f->name, f->spearman < 0 ? " (\xe2\x88\x92)" : "");
            labels[n] = marked[n];
            const fl_r2_ci *c = regime ? &f->regime : &f->ci;
            v[n] = c->r2, lo[n] = c->lo, hi[n] = c->hi, ref[n] = fl_paper_r2(a->kind, f->name);
            n++;
        }
    }
    char title[160];
    if (regime)
        snprintf(title, sizeof title, "In the paper's regime (%d checkpoints, %d seed%s)",
                 n > 0 ? a->pred[0].regime.n : 0, a->nseeds, a->nseeds > 1 ? "s" : "");
    else
        snprintf(title, sizeof title, "How well each predictor explains forgetting (%d seed%s)", a->nseeds,
                 a->nseeds > 1 ? "s" : "");
    fl_bars b = {title, "R\xc2\xb2 (95% interval over runs); (\xe2\x88\x92): falls with forgetting",
                 labels, v, lo, hi, ref, a->kind->paper_label, n, 0.0, 1.0};
    char *path = fl_path_join(dir, regime ? "r2_regime" : "r2_predictors");
    int rc = path ? fl_bars_save(&b, path) : fl_error_set("out of memory");
    free(path);
    return rc;
}

int fl_razor_report(const char *dir, const fl_razor_analysis *a, const fl_razor_report_opts *opts) {
    static const char *const FIGS[] = {"forgetting_vs_kl", "frontier", "r2_predictors", "r2_regime",
                                       "circuit_stability"};
    /* The grok-forget study's life figures, drawn before (fl_gf_life_plots). */
    static const char *const LIVES[] = {"life_sft1", "life_oracle", "life_grpo"};
    const char *figs[5 + 3];
    int n = 0;
    for (int i = 0; i < 5; i++) figs[n++] = FIGS[i];
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s.png", LIVES[i]);
        char *path = fl_path_join(dir, name);
        if (path && fl_file_exists(path) && strcmp(a->kind->kind, "grok-forget") == 0) figs[n++] = LIVES[i];
        free(path);
    }
    if (plot_forgetting_kl(dir, a, opts) || plot_frontier(dir, a) || plot_r2(dir, a, 0) || plot_r2(dir, a, 1) ||
        plot_cs(dir, a))
        return -1;
    return fl_razor_write_html(dir, a, figs, n);
}
