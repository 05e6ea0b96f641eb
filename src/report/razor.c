/* razor.c: the analysis of an RL's Razor study: from results.sqlite to
 * results.csv, predictors.csv (each predictor's R^2 for forgetting, pooled
 * and leave-one-method-out, with intervals over resampled runs and seeds,
 * its Spearman correlation with forgetting: the sign, and its side),
 * frontier.csv and methods.csv (razor_methods.c), the plots and index.html. */
#include "forgetlab/report/razor.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/store/results.h"
#include "forgetlab/measure/stats.h"

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
    "circuit_stability", "circuit_drift", "circuit_stability_ce_ap",
    /* the language model's: the sequence KL's Monte-Carlo estimates, on
     * training prompts, and its chain-rule parts */
    "forward_kl_new_mc", "forward_kl_new_token", "forward_kl_prior_mc", "forward_kl_new_train", "kl_outcome",
    "kl_within_correct", "kl_within_wrong",
    /* the grok-forget study's: a + b's circuit (stability by a and by answer,
     * as they are and minus their random-split baselines, the base's key
     * frequencies' share of the embedding, the losses with only them kept
     * or removed) */
    "cs_by_a", "cs_by_answer", "cs_by_a_excess", "cs_by_answer_excess", "fourier_share", "restricted_loss",
    "excluded_loss"};
#define NPRED ((int)(sizeof PREDICTORS / sizeof *PREDICTORS))
_Static_assert(NPRED <= FL_MAX_PREDICTORS, "room for every predictor");

/* Which side of the outcome a predictor is measured on: the prior task's
 * test data (the outcome's own: the _prior divergences, the circuit
 * measures on Fashion classes or on a + b's equations) or not (the new
 * task's inputs, or the weights alone, as the Fourier share is). */
static const char *predictor_side(const char *name) {
    const size_t n = strlen(name);
    const int prior = n > 6 && (strcmp(name + n - 6, "_prior") == 0 || strstr(name, "_prior_"));
    const int circuit = strncmp(name, "circuit_", 8) == 0 || strncmp(name, "cs_", 3) == 0 ||
                        strcmp(name, "restricted_loss") == 0 || strcmp(name, "excluded_loss") == 0;
    return prior || circuit ? "outcome" : "new";
}

/* A field's values over the points; NaN where the study has no such field. */
static double *column(const fl_points *p, const char *name) {
    int f = fl_points_field(p, name);
    double *c = malloc((size_t)(p->n > 0 ? p->n : 1) * sizeof(double));
    if (c)
        for (int i = 0; i < p->n; i++) c[i] = f >= 0 ? p->vals[i][f] : NAN;
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

typedef struct {
    const double *x, *y;
    const int *group;
} lomo_ctx;

static double lomo_stat(const int *idx, int m, void *ctx) {
    const lomo_ctx *c = ctx;
    return fl_poly2_r2_lomo(c->x, c->y, c->group, idx, m);
}

static double partial_stat(const int *idx, int m, void *ctx) {
    const lomo_ctx *c = ctx;
    return fl_poly2_r2_partial(c->x, c->y, c->group, idx, m);
}

/* The pooled fit's R^2 on the points whose mask equals want (mask NULL:
 * all), with its interval over their resampled runs. */
static int r2_where(const double *x, const double *y, const int *run, const int *seed, const int *mask, int want,
                    int m, double *sx, double *sy, int *sr, int *ss, fl_r2_ci *out) {
    int k = 0;
    for (int i = 0; i < m; i++)
        if (!mask || mask[i] == want) sx[k] = x[i], sy[k] = y[i], sr[k] = run[i], ss[k] = seed[i], k++;
    *out = (fl_r2_ci){NAN, NAN, NAN, k};
    if (k < 3) return 0;
    fl_clusters cl;
    if (fl_clusters_init(&cl, sr, ss, k)) return -1;
    const int rc = fl_poly2_r2_bootstrap(sx, sy, k, &cl, 1000, 1, out);
    fl_clusters_free(&cl);
    return rc;
}

/* One predictor's fits on the points where it and forgetting are finite. */
static int fit_predictor(const fl_razor_analysis *a, const double *col, const double *fg, fl_predictor_fit *f) {
    const fl_points *p = &a->pts;
    const int n = p->n;
    const size_t sz = (size_t)(n > 0 ? n : 1);
    double *x = malloc(sizeof(double) * sz * 4), *y = x + sz, *sx = x + 2 * sz, *sy = x + 3 * sz;
    int *run = malloc(sizeof(int) * sz * 7), *seed = run + sz, *g = run + 2 * sz, *reg = run + 3 * sz;
    int *lrg = run + 4 * sz, *sr = run + 5 * sz, *ss = run + 6 * sz, m = 0, rc = -1;
    fl_clusters cl = {0};
    if (!x || !run) {
        fl_error_set("out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (isfinite(col[i]) && isfinite(fg[i])) {
            x[m] = col[i], y[m] = fg[i], run[m] = p->run[i], seed[m] = p->seed[i], g[m] = a->group[i];
            reg[m] = a->regime[i], lrg[m] = a->lr_group[i], m++;
        }
    if (r2_where(x, y, run, seed, reg, 1, m, sx, sy, sr, ss, &f->regime)) goto out;
    for (int l = 0; l < a->nlrs; l++)
        if (r2_where(x, y, run, seed, lrg, l, m, sx, sy, sr, ss, &f->by_lr[l])) goto out;
    if (fl_clusters_init(&cl, run, seed, m)) goto out;
    if (fl_poly2_r2_bootstrap(x, y, m, &cl, 1000, 1, &f->ci)) goto out;
    fl_poly2_r2(x, y, m, f->coef);
    f->xmin = f->xmax = NAN;
    for (int i = 0; i < m; i++) {
        if (!(x[i] >= f->xmin)) f->xmin = x[i];
        if (!(x[i] <= f->xmax)) f->xmax = x[i];
    }
    lomo_ctx c = {x, y, g};
    f->lomo = (fl_r2_ci){fl_poly2_r2_lomo(x, y, g, NULL, m), NAN, NAN, m};
    if (!isnan(f->lomo.r2) && fl_bootstrap_ci(&cl, 1000, 1, lomo_stat, &c, &f->lomo.lo, &f->lomo.hi) < 0) goto out;
    f->spearman = fl_spearman(x, y, m);
    const lomo_ctx pc = {x, y, lrg};
    f->partial_lr = (fl_estimate){a->nlrs > 1 ? fl_poly2_r2_partial(x, y, lrg, NULL, m) : NAN, NAN, NAN};
    if (!isnan(f->partial_lr.v) &&
        fl_bootstrap_ci(&cl, 1000, 1, partial_stat, (void *)&pc, &f->partial_lr.lo, &f->partial_lr.hi) < 0)
        goto out;
    rc = 0;
out:
    fl_clusters_free(&cl);
    free(x), free(run);
    return rc;
}

/* Each point's regime (fl_razor_analysis) and learning rate. */
static int regime_and_lrs(fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    const int fn = fl_points_field(p, a->kind->new_field), fb = fl_points_field(p, a->kind->new_base_field);
    const int fp = fl_points_field(p, a->kind->prior_field);
    a->regime = malloc((size_t)(p->n > 0 ? p->n : 1)), a->lr_group = malloc(sizeof(int) * (size_t)(p->n > 0 ? p->n : 1));
    if (!a->regime || !a->lr_group) return fl_error_set("out of memory");
    a->nlrs = 0;
    for (int i = 0; i < p->n; i++) {
        const double *v = p->vals[i];
        a->regime[i] = fn >= 0 && fb >= 0 && fp >= 0 && v[fn] - v[fb] >= FL_REGIME_GAIN && v[fp] >= FL_REGIME_PRIOR;
        int l = 0;
        while (l < a->nlrs && a->lrs[l] != p->lr[i]) l++;
        if (l == a->nlrs) {
            if (a->nlrs == FL_MAX_LRS) return fl_error_set("a study of more than %d learning rates", FL_MAX_LRS);
            a->lrs[a->nlrs++] = p->lr[i];
        }
    }
    /* Ascending, then each point's index. */
    for (int i = 1; i < a->nlrs; i++)
        for (int j = i; j > 0 && a->lrs[j - 1] > a->lrs[j]; j--) {
            const double t = a->lrs[j];
            a->lrs[j] = a->lrs[j - 1], a->lrs[j - 1] = t;
        }
    for (int i = 0; i < p->n; i++)
        for (int l = 0; l < a->nlrs; l++)
            if (a->lrs[l] == p->lr[i]) a->lr_group[i] = l;
    return 0;
}

int fl_razor_predictors(fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    fl_predictor_fit *fits = a->pred;
    if (regime_and_lrs(a)) return -1;
    double *y = column(p, "forgetting");
    if (!y) return fl_error_set("out of memory");
    int n = 0;
    for (int k = 0; k < NPRED; k++) {
        if (fl_points_field(p, PREDICTORS[k]) < 0) continue; /* not measured by this kind of study */
        double *x = column(p, PREDICTORS[k]);
        fits[n].name = PREDICTORS[k];
        fits[n].side = predictor_side(PREDICTORS[k]);
        int rc = x ? fit_predictor(a, x, y, &fits[n++]) : fl_error_set("out of memory");
        free(x);
        if (rc) {
            free(y);
            return -1;
        }
    }
    free(y);
    a->npred = n;
    return 0;
}

static void print_summary(const fl_razor_analysis *a, FILE *out) {
    fprintf(out, "%d checkpoints of %d runs, %d seed(s); intervals resample whole runs%s\n\n", a->pts.n, a->pts.nruns,
           a->nseeds, a->nseeds > 1 ? " within resampled seeds" : "");
    fprintf(out, "%-24s %-7s %6s  %-16s %7s  %-16s %9s\n", "predictor", "side", "R^2", "95% interval", "LOMO", "95% interval",
           "spearman");
    for (int k = 0; k < a->npred; k++) {
        const fl_predictor_fit *f = &a->pred[k];
        fprintf(out, "%-24s %-7s %6.3f  [%6.3f, %6.3f] %7.3f  [%6.3f, %6.3f] %9.3f\n", f->name, f->side, f->ci.r2, f->ci.lo,
               f->ci.hi, f->lomo.r2, f->lomo.lo, f->lomo.hi, f->spearman);
    }
    if (a->best_pred >= 0) {
        fprintf(out, "\nheld-out R^2 minus the leading new-side predictor's (%s), on the same resampled runs\n",
                a->pred[a->best_pred].name);
        for (int k = 0; k < a->npred; k++) {
            const fl_estimate *e = &a->pred[k].vs_best;
            if (!isnan(e->v))
                fprintf(out, "%-24s %+.3f [%+.3f, %+.3f]%s\n", a->pred[k].name, e->v, e->lo, e->hi,
                        e->hi < 0 || e->lo > 0 ? "" : "  (not apart)");
        }
    }
    fprintf(out, "\nfrontier area over new-task accuracy [%.3f, %.3f] (mean prior-task accuracy on it), and prior-task "
           "accuracy at matched new-task accuracy\n%-10s %-22s", a->range_lo, a->range_hi, "method", "frontier mean");
    for (int j = 0; j < FL_MATCH_LEVELS; j++) fprintf(out, "  t=%.2f        ", a->match_level[j]);
    fprintf(out, "\n");
    const double w = a->range_hi - a->range_lo;
    for (int m = 0; m < a->nmeth; m++) {
        const fl_method_fit *f = &a->meth[m];
        fprintf(out, "%-10s %.3f [%.3f, %.3f]  ", f->method, f->area.v / w, f->area.lo / w, f->area.hi / w);
        for (int j = 0; j < FL_MATCH_LEVELS; j++)
            if (isnan(f->matched[j].v)) fprintf(out, "  %-14s", "-");
            else fprintf(out, "  %.3f [%.2f,%.2f]", f->matched[j].v, f->matched[j].lo, f->matched[j].hi);
        fprintf(out, "\n");
    }
    for (int k = 0; k < a->nfam; k++) {
        const fl_family_gap *g = &a->fam[k];
        const double s = isnan(g->level) ? w : 1;
        char what[32] = "frontier mean";
        if (!isnan(g->level)) snprintf(what, sizeof what, "at t=%.3f", g->level);
        if (k == 0) fprintf(out, "\nbest on-policy against best SFT (gap: a paired interval)\n");
        fprintf(out, "%-14s %-10s %.3f  %-12s %.3f  gap %+.3f [%+.3f, %+.3f]\n", what, a->meth[g->rl].method, g->on_rl.v / s,
                a->meth[g->sft].method, g->on_sft.v / s, g->gap.v / s, g->gap.lo / s, g->gap.hi / s);
    }
    fprintf(out, "\nforgetting on forward KL within each method, and its mean excess over the other methods' curve\n");
    for (int m = 0; m < a->nmeth; m++) {
        const fl_method_fit *f = &a->meth[m];
        fprintf(out, "%-10s R^2 %6.3f [%6.3f, %6.3f]  excess %+.3f [%+.3f, %+.3f]  vs %s %+.3f [%+.3f, %+.3f]\n", f->method,
               f->kl_r2.r2, f->kl_r2.lo, f->kl_r2.hi, f->gap_others.v, f->gap_others.lo, f->gap_others.hi,
               a->kind->ref_method,
               f->gap_sft1.v, f->gap_sft1.lo, f->gap_sft1.hi);
    }
}

static void sb_num(strbuf *b, double v) {
    if (isnan(v)) sb_printf(b, ",");
    else sb_printf(b, ",%.6g", v);
}

static void sb_estimate(strbuf *b, const fl_estimate *e) {
    sb_num(b, e->v), sb_num(b, e->lo), sb_num(b, e->hi);
}

/* predictors.csv, frontier.csv, methods.csv and rl_vs_sft.csv. */
static int write_tables(const char *dir, const fl_razor_analysis *a) {
    strbuf b = {0};
    sb_printf(&b, "predictor,r2,r2_lo,r2_hi,n,spearman,side,r2_lomo,r2_lomo_lo,r2_lomo_hi,fit_c0,fit_c1,fit_c2,x_min,"
                  "x_max,r2_regime,r2_regime_lo,r2_regime_hi,n_regime,r2_partial_lr,r2_partial_lr_lo,"
                  "r2_partial_lr_hi,vs_best,vs_best_lo,vs_best_hi\n");
    for (int k = 0; k < a->npred; k++) {
        const fl_predictor_fit *f = &a->pred[k];
        sb_printf(&b, "%s,%.6f,%.6f,%.6f,%d,%.6f,%s", f->name, f->ci.r2, f->ci.lo, f->ci.hi, f->ci.n, f->spearman, f->side);
        sb_num(&b, f->lomo.r2), sb_num(&b, f->lomo.lo), sb_num(&b, f->lomo.hi);
        /* The pooled curve itself: forgetting ~ c0 + c1 x + c2 x^2 over [x_min, x_max]. */
        for (int j = 0; j < 3; j++) sb_printf(&b, isnan(f->coef[j]) ? "," : ",%.9g", f->coef[j]);
        sb_num(&b, f->xmin), sb_num(&b, f->xmax);
        sb_num(&b, f->regime.r2), sb_num(&b, f->regime.lo), sb_num(&b, f->regime.hi);
        sb_printf(&b, ",%d", f->regime.n);
        sb_estimate(&b, &f->partial_lr);
        sb_estimate(&b, &f->vs_best);
        sb_printf(&b, "\n");
    }
    if (sb_write(&b, dir, "predictors.csv")) return -1;
    /* Within each learning rate: whether the predictor orders forgetting
     * where the rate does not. */
    sb_printf(&b, "predictor,lr,r2,r2_lo,r2_hi,n\n");
    for (int k = 0; k < a->npred; k++)
        for (int l = 0; l < a->nlrs; l++) {
            const fl_r2_ci *r = &a->pred[k].by_lr[l];
            sb_printf(&b, "%s,%g", a->pred[k].name, a->lrs[l]);
            sb_num(&b, r->r2), sb_num(&b, r->lo), sb_num(&b, r->hi);
            sb_printf(&b, ",%d\n", r->n);
        }
    if (sb_write(&b, dir, "predictors_by_lr.csv")) return -1;
    /* The exponential's parameters only where they mean something. */
    sb_printf(&b, "method,n,n_kept,new_lo,new_hi,range_lo,range_hi,area,area_lo,area_hi,exp_a,exp_b,exp_c,exp\n");
    for (int k = 0; k < a->nmeth; k++) {
        const fl_method_fit *f = &a->meth[k];
        sb_printf(&b, "%s,%d,%d", f->method, f->n, f->n_kept);
        sb_num(&b, f->lo), sb_num(&b, f->hi), sb_num(&b, a->range_lo), sb_num(&b, a->range_hi);
        sb_estimate(&b, &f->area);
        if (f->exp_ok) sb_printf(&b, ",%.9g,%.9g,%.9g,identifiable\n", f->p[0], f->p[1], f->p[2]);
        else sb_printf(&b, ",,,,not identifiable\n");
    }
    if (sb_write(&b, dir, "frontier.csv")) return -1;
    const char *ref = a->kind->ref_method;
    sb_printf(&b, "method,runs,kl_r2,kl_r2_lo,kl_r2_hi,excess,excess_lo,excess_hi,vs_%s,vs_%s_lo,vs_%s_hi", ref, ref, ref);
    for (int j = 0; j < FL_MATCH_LEVELS; j++)
        sb_printf(&b, ",prior_at_%.2f,prior_at_%.2f_lo,prior_at_%.2f_hi", a->match_level[j], a->match_level[j],
                  a->match_level[j]);
    for (int l = 0; l < a->nlayers; l++) sb_printf(&b, ",rank%d_median,rank%d_min,rank%d_max,rank%d_full", l + 1, l + 1, l + 1, l + 1);
    sb_printf(&b, ",best_new,best_vs_grpo,gain_vs_grpo,paper_regime\n");
    for (int k = 0; k < a->nmeth; k++) {
        const fl_method_fit *f = &a->meth[k];
        sb_printf(&b, "%s,%d", f->method, f->nruns);
        sb_num(&b, f->kl_r2.r2), sb_num(&b, f->kl_r2.lo), sb_num(&b, f->kl_r2.hi);
        sb_estimate(&b, &f->gap_others), sb_estimate(&b, &f->gap_sft1);
        for (int j = 0; j < FL_MATCH_LEVELS; j++) sb_estimate(&b, &f->matched[j]);
        for (int l = 0; l < a->nlayers; l++)
            if (l < f->nlayers) sb_printf(&b, ",%d,%d,%d,%d", f->rank_med[l], f->rank_min[l], f->rank_max[l], a->full_rank[l]);
            else sb_printf(&b, ",,,,%d", a->full_rank[l]);
        sb_num(&b, f->best_new), sb_num(&b, f->best_vs_grpo), sb_num(&b, f->gain_vs_grpo);
        sb_printf(&b, ",%s\n", isnan(f->best_vs_grpo) ? "" : f->best_vs_grpo >= FL_REGIME_LEARNT ? "in" : "outside");
    }
    if (sb_write(&b, dir, "methods.csv")) return -1;
    /* Each side's own interval beside the paired one of their gap. */
    sb_printf(&b, "measure,level,rl_method,rl,rl_lo,rl_hi,sft_method,sft,sft_lo,sft_hi,gap,gap_lo,gap_hi\n");
    for (int k = 0; k < a->nfam; k++) {
        const fl_family_gap *g = &a->fam[k];
        sb_printf(&b, "%s", g->measure);
        sb_num(&b, g->level);
        sb_printf(&b, ",%s", a->meth[g->rl].method);
        sb_estimate(&b, &g->on_rl);
        sb_printf(&b, ",%s", a->meth[g->sft].method);
        sb_estimate(&b, &g->on_sft);
        sb_estimate(&b, &g->gap);
        sb_printf(&b, "\n");
    }
    return sb_write(&b, dir, "rl_vs_sft.csv");
}

/* The most each layer's update rank can be, from the base model's shapes
 * (nothing when DIR/base is gone). */
static void full_ranks(const char *dir, fl_razor_analysis *a) {
    char *b = fl_path_join(dir, "base"), *f = b ? fl_path_join(b, "model.safetensors") : NULL;
    fl_mlp m = {0};
    a->nlayers = 0;
    if (f && fl_file_exists(f) && fl_mlp_load(f, &m, NULL) == 0) {
        a->nlayers = m.nlayers;
        fl_mlp_spec_string(&m, a->model, sizeof a->model);
        for (int l = 0; l < m.nlayers; l++) a->full_rank[l] = m.dims[l] < m.dims[l + 1] ? m.dims[l] : m.dims[l + 1];
    }
    fl_mlp_free(&m);
    free(b), free(f);
}

/* A language-model study's base architecture (its first seed's base, which
 * the study records): what a forecast is of. */
static void lm_model(fl_results *db, fl_razor_analysis *a) {
    char path[4096];
    int found = 0;
    fl_gpt m = {0};
    if (fl_results_get_meta(db, "base_s0", path, sizeof path, &found) == 0 && found && fl_gpt_load(path, &m, NULL) == 0)
        fl_gpt_spec_string(&m.cfg, a->model, sizeof a->model);
    fl_gpt_free(&m);
}

int fl_razor_analyse(const char *dir, const fl_razor_report_opts *opts, FILE *out) {
    char *path = fl_path_join(dir, "results.sqlite"), *csv = fl_path_join(dir, "results.csv");
    fl_results db = {0};
    fl_razor_analysis *a = calloc(1, sizeof *a);
    const fl_razor_report_opts defaults = {0};
    int rc = -1;
    if (!path || !csv || !a) {
        fl_error_set("out of memory");
        goto out;
    }
    if (!fl_file_exists(path)) {
        fl_error_set("%s: no results database (run the study first)", path);
        goto out;
    }
    if (fl_results_open_any(&db, path) || fl_results_export_csv(&db, csv) || fl_results_points(&db, &a->pts)) goto out;
    char kind[32];
    int found;
    if (fl_results_get_meta(&db, "kind", kind, sizeof kind, &found)) goto out;
    if (!(a->kind = fl_study_kind_get(kind))) {
        fl_error_set("%s: a study of kind '%s', which this version does not know", path, kind);
        goto out;
    }
    if (a->pts.n == 0) {
        fl_error_set("%s: no checkpoints yet", path);
        goto out;
    }
    for (int r = 0; r < a->pts.nruns; r++) {
        int seen = 0;
        for (int q = 0; q < r && !seen; q++) seen = a->pts.run_seed[q] == a->pts.run_seed[r];
        a->nseeds += !seen;
    }
    full_ranks(dir, a);
    if (strcmp(a->kind->kind, "lm") == 0) lm_model(&db, a);
    if (fl_razor_methods(a)) goto out;
    if (fl_razor_predictors(a) || fl_razor_vs_best(a)) goto out;
    if (write_tables(dir, a)) goto out;
    if (strcmp(a->kind->kind, "grok-forget") == 0 && fl_gf_life_plots(dir, &db)) goto out;
    if (fl_razor_report(dir, a, opts ? opts : &defaults)) goto out;
    int diverged = 0;
    if (out) print_summary(a, out);
    if (fl_razor_forecast(dir, a, out)) goto out;
    if (out && fl_results_count_diverged(&db, &diverged) == 0 && diverged > 0)
        fprintf(out, "\n%d run(s) diverged (status 'diverged' in results.sqlite, with the error)\n", diverged);
    rc = 0;
out:
    if (a) fl_razor_analysis_free(a);
    free(a);
    if (db.db) fl_results_close(&db);
    free(path);
    free(csv);
    return rc;
}
