/* razor_methods.c: the per-method half of a razor study's analysis: each
 * method's empirical frontier and the area under it, prior-task accuracy
 * at matched new-task accuracy, forgetting on forward KL within the method
 * and against the other methods' curve, and the rank of its weight
 * updates. Every interval resamples whole runs (and seeds) of the study. */
#include "forgetlab/report/razor.h"

#include "forgetlab/core/error.h"
#include <stdio.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { REPS = 1000, BOOT_SEED = 1 };
static const double KEEP_TOL = 0.02; /* the paper's "within 2 accuracy points" */
static const double MATCH_LEVELS[FL_MATCH_LEVELS] = {0.92, 0.93, 0.94, 0.95};
/* The on-policy and the SFT methods of every study (the rest, the oracle,
 * simpo and the null control, belong to neither). */
static const char *const RL[] = {"grpo", "grpo-kl", "reinforce", "rft"};
static const char *const SFT[] = {"sft", "sft1", "sft2", "sft-alt", "sft-teacher", "sft-any", "distill"};

/* Methods in a fixed order (so each keeps its colour in every figure):
 * the sweep's order, then any other method in order of appearance. */
static int method_order(const fl_study_kind *kind, const fl_points *p, char (*names)[32], int max) {
    int n = 0;
    for (int k = 0; k < kind->norder; k++)
        for (int i = 0; i < p->n; i++)
            if (strcmp(p->method[i], kind->order[k]) == 0) {
                if (n < max) snprintf(names[n++], 32, "%s", kind->order[k]);
                break;
            }
    for (int i = 0; i < p->n && n < max; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= strcmp(names[j], p->method[i]) == 0;
        if (!seen) snprintf(names[n++], 32, "%s", p->method[i]);
    }
    return n;
}

/* What the resampled statistics of one method read. */
typedef struct {
    const double *x, *y; /* new/prior accuracy, or forward KL/forgetting */
    const int *group;
    int g, ref;          /* the method; the reference curve's (-1: the others) */
    double lo, hi, t;    /* the area's range; the matched level */
    double *fx, *fy;     /* room for every point */
    int *sub;
} method_ctx;

/* The method's points among idx[0..m) into c->sub; returns how many. */
static int subset(const method_ctx *c, const int *idx, int m) {
    int k = 0;
    for (int j = 0; j < m; j++)
        if (c->group[idx[j]] == c->g) c->sub[k++] = idx[j];
    return k;
}

static double area_stat(const int *idx, int m, void *ctx) {
    method_ctx *c = ctx;
    const int k = subset(c, idx, m);
    const int nf = fl_frontier_fit(c->x, c->y, c->sub, k, KEEP_TOL, c->fx, c->fy);
    /* A resample whose runs stop short of the range has no frontier over
     * all of it: left out rather than extended (that would flatter it). */
    return nf > 0 && c->fx[nf - 1] >= c->hi ? fl_frontier_area(c->fx, c->fy, nf, c->lo, c->hi) : NAN;
}

static double matched_stat(const int *idx, int m, void *ctx) {
    method_ctx *c = ctx;
    double best = NAN;
    for (int j = 0; j < m; j++) {
        const int i = idx[j];
        if (c->group[i] == c->g && c->x[i] >= c->t && !(c->y[i] <= best)) best = c->y[i];
    }
    return best;
}

static double gap_stat(const int *idx, int m, void *ctx) {
    method_ctx *c = ctx;
    return fl_curve_gap(c->x, c->y, c->group, c->ref, c->g, idx, m);
}

/* Two methods' statistic on one resample: their difference, so that both
 * sides see the same drawn seeds and runs. */
typedef struct {
    method_ctx *c;
    fl_statistic stat;
    int a, b;
} pair_ctx;

static double pair_stat(const int *idx, int m, void *ctx) {
    pair_ctx *p = ctx;
    p->c->g = p->a;
    const double a = p->stat(idx, m, p->c);
    p->c->g = p->b;
    return a - p->stat(idx, m, p->c);
}

/* stat on all points, and its interval over resampled runs. */
static fl_estimate estimate(const fl_clusters *cl, const int *all, int n, fl_statistic stat, void *c) {
    fl_estimate e = {stat(all, n, c), NAN, NAN};
    if (!isnan(e.v) && fl_bootstrap_ci(cl, REPS, BOOT_SEED, stat, c, &e.lo, &e.hi) < 0) e.lo = e.hi = NAN;
    return e;
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* Median, min and max of each layer's update rank over the method's runs. */
static void method_ranks(const fl_points *p, fl_method_fit *f, int *buf) {
    f->nlayers = 0;
    for (int l = 0; l < FL_MLP_MAX_LAYERS; l++) {
        int k = 0;
        for (int r = 0; r < p->nruns; r++)
            if (strcmp(p->run_method[r], f->method) == 0 && p->nlayers[r] > l) buf[k++] = p->rank[r][l];
        if (k == 0) break;
        qsort(buf, (size_t)k, sizeof *buf, cmp_int);
        f->rank_med[l] = buf[k / 2], f->rank_min[l] = buf[0], f->rank_max[l] = buf[k - 1];
        f->nlayers = l + 1;
    }
}

/* The frontier of method k on all points, and the range every method's covers. */
static int frontiers(fl_razor_analysis *a, const double *na, const double *pa, const int *all, method_ctx *c) {
    a->range_lo = -INFINITY, a->range_hi = INFINITY;
    for (int k = 0; k < a->nmeth; k++) {
        fl_method_fit *f = &a->meth[k];
        c->g = k;
        const int m = subset(c, all, a->pts.n);
        f->n = m;
        f->fx = malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
        f->fy = malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
        if (!f->fx || !f->fy) return fl_error_set("out of memory");
        if ((f->m = fl_frontier_fit(na, pa, c->sub, m, KEEP_TOL, f->fx, f->fy)) < 0) return -1;
        /* The kept points, for the exponential and their range. */
        double *kx = c->fx, *ky = c->fy;
        int *keep = malloc(sizeof(int) * (size_t)(m > 0 ? m : 1));
        if (!keep) return fl_error_set("out of memory");
        for (int j = 0; j < m; j++) kx[j] = na[c->sub[j]], ky[j] = pa[c->sub[j]];
        f->n_kept = fl_pareto_keep(kx, ky, m, KEEP_TOL, keep);
        int q = 0;
        f->lo = INFINITY, f->hi = -INFINITY;
        for (int j = 0; j < m; j++)
            if (keep[j]) {
                kx[q] = kx[j], ky[q] = ky[j];
                f->lo = fmin(f->lo, kx[q]), f->hi = fmax(f->hi, kx[q]);
                q++;
            }
        free(keep);
        f->p[0] = f->p[1] = f->p[2] = f->rss = NAN;
        if (q >= 3) f->rss = fl_fit_exp(kx, ky, q, f->p);
        f->exp_ok = q >= 3 && fl_fit_exp_identifiable(kx, ky, q, f->p, f->rss);
        if (f->m > 0) {
            /* Below its first point a frontier holds its first value (a
             * checkpoint reaching further does at least as well), so every
             * method covers everything up to its furthest point. */
            a->range_lo = a->range_lo == -INFINITY ? f->fx[0] : fmin(a->range_lo, f->fx[0]);
            a->range_hi = fmin(a->range_hi, f->fx[f->m - 1]);
        }
    }
    return 0;
}

/* Each method's best new-task figure, and it and its gain over the bases'
 * mean (field fb; -1: none) as fractions of grpo's. */
static void best_vs_grpo(fl_razor_analysis *a, const double *na, int fb) {
    int grpo = -1, nb = 0;
    double base = 0;
    for (int k = 0; k < a->nmeth; k++) {
        a->meth[k].best_new = NAN;
        if (strcmp(a->meth[k].method, "grpo") == 0) grpo = k;
    }
    for (int i = 0; i < a->pts.n; i++) {
        fl_method_fit *f = a->group[i] >= 0 ? &a->meth[a->group[i]] : NULL;
        if (f && isfinite(na[i]) && !(na[i] <= f->best_new)) f->best_new = na[i];
        if (fb >= 0 && isfinite(a->pts.vals[i][fb])) base += a->pts.vals[i][fb], nb++;
    }
    base = nb ? base / nb : NAN;
    for (int k = 0; k < a->nmeth; k++) {
        const double g = grpo >= 0 ? a->meth[grpo].best_new : NAN;
        a->meth[k].best_vs_grpo = a->meth[k].best_new / g;
        a->meth[k].gain_vs_grpo = (a->meth[k].best_new - base) / (g - base);
    }
}

/* Without levels that suit every study (ParityMNIST's 0.92-0.95), the
 * levels are spread from the bases' new-task value (field fb) to the best
 * any checkpoint reaches, at 20, 40, 60 and 80% of the way: a method that
 * never gets there shows as such. */
static void spread_levels(fl_razor_analysis *a, const double *na, int fb) {
    double base = 0, top = -INFINITY;
    int nb = 0;
    for (int i = 0; i < a->pts.n; i++) {
        if (isfinite(a->pts.vals[i][fb])) base += a->pts.vals[i][fb], nb++;
        if (isfinite(na[i])) top = fmax(top, na[i]);
    }
    base = nb ? base / nb : NAN;
    if (isfinite(base) && top > base)
        for (int j = 0; j < FL_MATCH_LEVELS; j++)
            a->match_level[j] = base + (top - base) * (j + 1) / (FL_MATCH_LEVELS + 1);
}

/* Measure j of a method: the frontier area (j < 0) or matched level j. */
static const fl_estimate *measure_of(const fl_method_fit *f, int j) { return j < 0 ? &f->area : &f->matched[j]; }

/* The family's method with the highest measure j; -1 when none has one. */
static int best_in(const fl_razor_analysis *a, const char *const *fam, size_t nfam, int j) {
    int best = -1;
    for (int k = 0; k < a->nmeth; k++) {
        int member = 0;
        for (size_t i = 0; i < nfam; i++) member |= strcmp(a->meth[k].method, fam[i]) == 0;
        const double v = measure_of(&a->meth[k], j)->v;
        if (member && isfinite(v) && (best < 0 || v > measure_of(&a->meth[best], j)->v)) best = k;
    }
    return best;
}

/* The best on-policy method against the best SFT one on every measure
 * (c reads new-task and prior-task accuracy). */
static void family_gaps(fl_razor_analysis *a, const fl_clusters *cl, const int *all, method_ctx *c) {
    a->nfam = 0;
    for (int j = -1; j < FL_MATCH_LEVELS; j++) {
        const int r = best_in(a, RL, sizeof RL / sizeof *RL, j), s = best_in(a, SFT, sizeof SFT / sizeof *SFT, j);
        if (r < 0 || s < 0) continue;
        fl_family_gap *g = &a->fam[a->nfam++];
        g->measure = j < 0 ? "frontier_area" : "prior_at";
        g->level = j < 0 ? NAN : a->match_level[j];
        g->rl = r, g->sft = s;
        g->on_rl = *measure_of(&a->meth[r], j), g->on_sft = *measure_of(&a->meth[s], j);
        c->t = g->level;
        pair_ctx p = {c, j < 0 ? area_stat : matched_stat, r, s};
        g->gap = estimate(cl, all, a->pts.n, pair_stat, &p);
    }
}

int fl_razor_methods(fl_razor_analysis *a) {
    const fl_points *p = &a->pts;
    const int n = p->n, fn = fl_points_field(p, a->kind->new_field), fp = fl_points_field(p, a->kind->prior_field);
    const int fb = fl_points_field(p, a->kind->new_base_field);
    const int fk = fl_points_field(p, "forward_kl_new"), ff = fl_points_field(p, "forgetting");
    char names[FL_MAX_METHODS][32];
    a->nmeth = method_order(a->kind, p, names, FL_MAX_METHODS);
    for (int j = 0; j < FL_MATCH_LEVELS; j++) a->match_level[j] = MATCH_LEVELS[j];
    double *na = malloc(sizeof(double) * (size_t)n), *pa = malloc(sizeof(double) * (size_t)n);
    double *kl = malloc(sizeof(double) * (size_t)n), *fg = malloc(sizeof(double) * (size_t)n);
    double *fx = malloc(sizeof(double) * (size_t)n), *fy = malloc(sizeof(double) * (size_t)n);
    int *all = malloc(sizeof(int) * (size_t)n), *sub = malloc(sizeof(int) * (size_t)n);
    int *buf = malloc(sizeof(int) * (size_t)(p->nruns + 1)), *mseed = malloc(sizeof(int) * (size_t)n);
    fl_clusters cl = {0};
    int rc = -1;
    a->group = malloc(sizeof(int) * (size_t)n);
    if (!na || !pa || !kl || !fg || !fx || !fy || !all || !sub || !buf || !mseed || !a->group) {
        fl_error_set("out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        all[i] = i;
        na[i] = p->vals[i][fn], pa[i] = p->vals[i][fp], kl[i] = p->vals[i][fk], fg[i] = p->vals[i][ff];
        a->group[i] = -1;
        for (int k = 0; k < a->nmeth; k++)
            if (strcmp(p->method[i], names[k]) == 0) a->group[i] = k;
    }
    for (int k = 0; k < a->nmeth; k++) {
        memset(&a->meth[k], 0, sizeof a->meth[k]);
        snprintf(a->meth[k].method, sizeof a->meth[k].method, "%.31s", names[k]);
    }
    if (fl_clusters_init(&cl, p->run, p->seed, n)) goto out;
    method_ctx c = {.x = na, .y = pa, .group = a->group, .ref = -1, .fx = fx, .fy = fy, .sub = sub};
    if (frontiers(a, na, pa, all, &c)) goto out;
    c.lo = a->range_lo, c.hi = a->range_hi;
    best_vs_grpo(a, na, fb);
    if (a->kind->auto_levels && fb >= 0) spread_levels(a, na, fb);
    int sft1 = -1;
    for (int k = 0; k < a->nmeth; k++)
        if (strcmp(names[k], a->kind->ref_method) == 0) sft1 = k;
    for (int k = 0; k < a->nmeth; k++) {
        fl_method_fit *f = &a->meth[k];
        c.g = k, c.x = na, c.y = pa;
        f->area = a->range_hi > a->range_lo ? estimate(&cl, all, n, area_stat, &c) : (fl_estimate){NAN, NAN, NAN};
        for (int j = 0; j < FL_MATCH_LEVELS; j++) {
            c.t = a->match_level[j];
            f->matched[j] = estimate(&cl, all, n, matched_stat, &c);
        }
        c.x = kl, c.y = fg;
        c.ref = -1;
        f->gap_others = estimate(&cl, all, n, gap_stat, &c);
        c.ref = sft1;
        f->gap_sft1 = sft1 >= 0 && sft1 != k ? estimate(&cl, all, n, gap_stat, &c) : (fl_estimate){NAN, NAN, NAN};
        /* Within the method: its own points and runs. */
        int m = subset(&c, all, n);
        for (int j = 0; j < m; j++) fx[j] = kl[sub[j]], fy[j] = fg[sub[j]];
        int *mrun = malloc(sizeof(int) * (size_t)(m > 0 ? m : 1));
        fl_clusters mc;
        if (!mrun) {
            fl_error_set("out of memory");
            goto out;
        }
        for (int j = 0; j < m; j++) mrun[j] = p->run[sub[j]], mseed[j] = p->seed[sub[j]];
        int bad = fl_clusters_init(&mc, mrun, mseed, m);
        if (!bad) bad = fl_poly2_r2_bootstrap(fx, fy, m, &mc, REPS, BOOT_SEED, &f->kl_r2);
        if (!bad) fl_clusters_free(&mc);
        free(mrun);
        if (bad) goto out;
        for (int r = 0; r < p->nruns; r++) f->nruns += strcmp(p->run_method[r], f->method) == 0;
        method_ranks(p, f, buf);
    }
    c.x = na, c.y = pa;
    family_gaps(a, &cl, all, &c);
    rc = 0;
out:
    fl_clusters_free(&cl);
    free(na), free(pa), free(kl), free(fg), free(fx), free(fy), free(all), free(sub), free(buf), free(mseed);
    return rc;
}

void fl_razor_analysis_free(fl_razor_analysis *a) {
    for (int k = 0; k < a->nmeth; k++) free(a->meth[k].fx), free(a->meth[k].fy);
    free(a->group), free(a->regime), free(a->lr_group);
    fl_points_free(&a->pts);
    memset(a, 0, sizeof *a);
}
