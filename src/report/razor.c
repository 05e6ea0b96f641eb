/* razor.c: the analysis of an RL's Razor study: from results.sqlite to
 * results.csv, predictors.csv (R^2 of each predictor of forgetting, with a
 * bootstrap interval, and its Spearman correlation with forgetting: the sign), frontier.csv (each method's Pareto frontier and its
 * exponential fit), the plots and index.html. */
#include "forgetlab/report.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/results.h"
#include "forgetlab/stats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The predictors judged, in the order of the paper's Table 1, then ours. */
static const char *const PREDICTORS[] = {
    "forward_kl_new", "reverse_kl_new", "tv_new", "l2_dist_new", "weight_l1",
    "weight_fisher_l2", "weight_spectral", "act_l1", "act_l2", "js_new",
    "forward_kl_prior", "reverse_kl_prior", "tv_prior", "l2_dist_prior", "js_prior", "cka",
    "circuit_stability", "circuit_drift", "circuit_stability_ce_ap"};
#define NPRED ((int)(sizeof PREDICTORS / sizeof *PREDICTORS))
_Static_assert(NPRED <= FL_MAX_PREDICTORS, "room for every predictor");

/* Which side of the outcome a predictor is measured on: the prior task's
 * test images (the outcome's own data: the _prior divergences and the
 * circuit measures on Fashion classes) or not. */
static const char *predictor_side(const char *name) {
    const size_t n = strlen(name);
    const int prior = n > 6 && strcmp(name + n - 6, "_prior") == 0;
    return prior || strncmp(name, "circuit_", 8) == 0 ? "outcome" : "new";
}

static double *column(const fl_points *p, const char *name) {
    int f = fl_field_index(name);
    double *c = malloc((size_t)(p->n > 0 ? p->n : 1) * sizeof(double));
    if (c)
        for (int i = 0; i < p->n; i++) c[i] = p->vals[i][f];
    return c;
}

/* Appends formatted text to a growing buffer (the CSVs are small). */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) return;
        b->s = s;
        b->cap = cap;
    }
}

static int sb_write(strbuf *b, const char *dir, const char *name) {
    char *path = fl_path_join(dir, name);
    int rc = path ? fl_write_text_atomic(path, b->s ? b->s : "") : fl_error_set("out of memory");
    free(path);
    free(b->s);
    memset(b, 0, sizeof *b);
    return rc;
}

/* Spearman over the points where both values are finite (x and y are
 * compacted in place). */
static double finite_spearman(double *x, double *y, int n) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) x[m] = x[i], y[m] = y[i], m++;
    return fl_spearman(x, y, m);
}

int fl_razor_predictors(const fl_points *p, fl_predictor_fit *fits) {
    double *y = column(p, "forgetting");
    if (!y) return fl_error_set("out of memory");
    for (int k = 0; k < NPRED; k++) {
        double *x = column(p, PREDICTORS[k]);
        if (!x) {
            free(y);
            return fl_error_set("out of memory");
        }
        fits[k].name = PREDICTORS[k];
        fits[k].side = predictor_side(PREDICTORS[k]);
        fl_poly2_r2_bootstrap(x, y, p->n, 1000, 1, &fits[k].ci);
        fl_poly2_r2(x, y, p->n, fits[k].coef);
        fits[k].spearman = finite_spearman(x, y, p->n);
        free(x);
    }
    free(y);
    return NPRED;
}

/* Methods in a fixed order (so each keeps its colour in every figure):
 * the sweep's order, then any other method in order of appearance. */
static int method_order(const fl_points *p, char (*names)[32], int max) {
    static const char *const ORDER[] = {"sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce", "simpo", "distill"};
    int n = 0;
    for (size_t k = 0; k < sizeof ORDER / sizeof *ORDER; k++)
        for (int i = 0; i < p->n; i++)
            if (strcmp(p->method[i], ORDER[k]) == 0) {
                if (n < max) snprintf(names[n++], 32, "%s", ORDER[k]);
                break;
            }
    for (int i = 0; i < p->n && n < max; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= strcmp(names[j], p->method[i]) == 0;
        if (!seen) snprintf(names[n++], 32, "%s", p->method[i]);
    }
    return n;
}

int fl_razor_frontiers(const fl_points *p, fl_frontier_fit *fits, int max) {
    char names[FL_MAX_METHODS][32];
    int nm = method_order(p, names, max < FL_MAX_METHODS ? max : FL_MAX_METHODS);
    double *a = column(p, "new_acc"), *b = column(p, "prior_acc");
    double *xa = malloc((size_t)(p->n + 1) * sizeof(double)), *xb = malloc((size_t)(p->n + 1) * sizeof(double));
    int *keep = malloc((size_t)(p->n + 1) * sizeof(int));
    if (!a || !b || !xa || !xb || !keep) {
        nm = 0;
        goto out;
    }
    for (int k = 0; k < nm; k++) {
        fl_frontier_fit *f = &fits[k];
        memset(f, 0, sizeof *f);
        snprintf(f->method, sizeof f->method, "%.31s", names[k]);
        int n = 0;
        for (int j = 0; j < p->n; j++)
            if (strcmp(p->method[j], f->method) == 0) {
                xa[n] = a[j];
                xb[n] = b[j];
                n++;
            }
        f->n = n;
        if ((f->n_kept = fl_pareto_keep(xa, xb, n, 0.02, keep)) < 0) {
            nm = -1;
            goto out;
        }
        int m = 0;
        f->lo = INFINITY;
        f->hi = -INFINITY;
        for (int j = 0; j < n; j++)
            if (keep[j]) {
                xa[m] = xa[j];
                xb[m] = xb[j];
                f->lo = fmin(f->lo, xa[m]);
                f->hi = fmax(f->hi, xa[m]);
                m++;
            }
        f->rss = m >= 3 ? fl_fit_exp(xa, xb, m, f->p) : NAN;
        if (m < 3) f->p[0] = f->p[1] = f->p[2] = NAN;
    }
out:
    free(a);
    free(b);
    free(xa);
    free(xb);
    free(keep);
    return nm;
}

static void matched_accuracy(fl_razor_analysis *a) {
    const double levels[FL_MATCH_LEVELS] = {0.92, 0.93, 0.94, 0.95};
    int fn = fl_field_index("new_acc"), fp = fl_field_index("prior_acc");
    for (int j = 0; j < FL_MATCH_LEVELS; j++) a->match_level[j] = levels[j];
    for (int m = 0; m < a->nfront; m++)
        for (int j = 0; j < FL_MATCH_LEVELS; j++) {
            double best = NAN;
            for (int i = 0; i < a->pts.n; i++)
                if (strcmp(a->pts.method[i], a->front[m].method) == 0 && a->pts.vals[i][fn] >= levels[j] &&
                    !(a->pts.vals[i][fp] <= best))
                    best = a->pts.vals[i][fp];
            a->matched[m][j] = best;
        }
}

static void print_summary(const fl_razor_analysis *a) {
    printf("%-24s %6s  %-16s %5s %9s\n", "predictor", "R^2", "95% interval", "n", "spearman");
    for (int k = 0; k < a->npred; k++)
        printf("%-24s %6.3f  [%6.3f, %6.3f] %5d %9.3f\n", a->pred[k].name, a->pred[k].ci.r2, a->pred[k].ci.lo,
               a->pred[k].ci.hi, a->pred[k].ci.n, a->pred[k].spearman);
    printf("\nprior-task accuracy at matched new-task accuracy (best checkpoint with new_acc >= t)\n%-10s", "method");
    for (int j = 0; j < FL_MATCH_LEVELS; j++) printf("  t=%.2f", a->match_level[j]);
    printf("\n");
    for (int m = 0; m < a->nfront; m++) {
        printf("%-10s", a->front[m].method);
        for (int j = 0; j < FL_MATCH_LEVELS; j++)
            if (isnan(a->matched[m][j])) printf("  %6s", "-");
            else printf("  %6.3f", a->matched[m][j]);
        printf("\n");
    }
}

int fl_razor_analyse(const char *dir) {
    char *path = fl_path_join(dir, "results.sqlite"), *csv = fl_path_join(dir, "results.csv");
    fl_results db = {0};
    fl_razor_analysis *a = calloc(1, sizeof *a);
    strbuf b = {0};
    int rc = -1;
    if (!path || !csv || !a) {
        fl_error_set("out of memory");
        goto out;
    }
    if (!fl_file_exists(path)) {
        fl_error_set("%s: no results database (run the study first)", path);
        goto out;
    }
    if (fl_results_open(&db, path) || fl_results_export_csv(&db, csv) || fl_results_points(&db, &a->pts)) goto out;
    if (a->pts.n == 0) {
        fl_error_set("%s: no checkpoints yet", path);
        goto out;
    }
    if ((a->npred = fl_razor_predictors(&a->pts, a->pred)) < 0) goto out;
    sb_printf(&b, "predictor,r2,r2_lo,r2_hi,n,spearman,side\n");
    for (int k = 0; k < a->npred; k++)
        sb_printf(&b, "%s,%.6f,%.6f,%.6f,%d,%.6f,%s\n", a->pred[k].name, a->pred[k].ci.r2, a->pred[k].ci.lo,
                  a->pred[k].ci.hi, a->pred[k].ci.n, a->pred[k].spearman, a->pred[k].side);
    if (sb_write(&b, dir, "predictors.csv")) goto out;
    if ((a->nfront = fl_razor_frontiers(&a->pts, a->front, FL_MAX_METHODS)) < 0) goto out;
    sb_printf(&b, "method,a,b,c,n,n_kept,rss\n");
    for (int k = 0; k < a->nfront; k++)
        sb_printf(&b, "%s,%.9g,%.9g,%.9g,%d,%d,%.6g\n", a->front[k].method, a->front[k].p[0], a->front[k].p[1],
                  a->front[k].p[2], a->front[k].n, a->front[k].n_kept, a->front[k].rss);
    if (sb_write(&b, dir, "frontier.csv")) goto out;
    matched_accuracy(a);
    if (fl_razor_report(dir, a)) goto out;
    print_summary(a);
    int diverged = 0;
    if (fl_results_count_diverged(&db, &diverged) == 0 && diverged > 0)
        printf("\n%d run(s) diverged (status 'diverged' in results.sqlite, with the error)\n", diverged);
    rc = 0;
out:
    free(b.s);
    if (a) fl_points_free(&a->pts);
    free(a);
    if (db.db) fl_results_close(&db);
    free(path);
    free(csv);
    return rc;
}
