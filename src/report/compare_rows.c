/* compare_rows.c: the rows `compare` derives from one study's tables,
 * which its CSVs (compare.c) and its page (compare_html.c) both show:
 * predictors ranked by held-out R^2, the best on-policy method against the
 * best SFT one, a grok-forget base's circuit stability across grokking. */
#include "compare_int.h"

#include <math.h>
#include <string.h>

/* The held-out score's columns, and the pooled ones where a study has no leave-one-method-out fit. */
static const char *const LOMO[] = {"r2_lomo", "r2_lomo_lo", "r2_lomo_hi"};
static const char *const POOLED[] = {"r2", "r2_lo", "r2_hi"};

/* The on-policy and the SFT methods of every study (the rest, the oracle,
 * simpo and the null control, belong to neither). */
static const char *const RL[] = {"grpo", "grpo-kl", "reinforce", "rft"};
static const char *const SFT[] = {"sft", "sft1", "sft2", "sft-alt", "sft-teacher", "sft-any", "distill"};

static int in(const char *m, const char *const *set, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(m, set[i]) == 0) return 1;
    return 0;
}

int cmp_ranking(const cmp_study *s, cmp_rank *out, int max) {
    const fl_csv *t = &s->pred;
    const int lomo = fl_csv_col(t, "r2_lomo") >= 0, fp = fl_csv_col(t, "predictor"), fs = fl_csv_col(t, "side");
    const char *const *k = lomo ? LOMO : POOLED;
    int n = 0;
    for (int r = 0; r < t->nrows && n < max; r++) {
        if (strcmp(fl_csv_get(t, r, fs), "new") != 0) continue;
        cmp_rank e = {fl_csv_get(t, r, fp), lomo ? "lomo" : "pooled", fl_csv_num(t, r, fl_csv_col(t, k[0])),
                      fl_csv_num(t, r, fl_csv_col(t, k[1])), fl_csv_num(t, r, fl_csv_col(t, k[2]))};
        if (!isfinite(e.score)) continue;
        int i = n++;
        for (; i > 0 && out[i - 1].score < e.score; i--) out[i] = out[i - 1];
        out[i] = e;
    }
    return n;
}

/* The best method of a family by column col (and its interval, col_lo
 * and col_hi) of table t; -1 when the family has none with a value. */
static int best_of(const fl_csv *t, const char *const *fam, int nfam, const char *col, cmp_side *b) {
    const int fm = fl_csv_col(t, "method"), fc = fl_csv_col(t, col);
    char lo[64], hi[64];
    snprintf(lo, sizeof lo, "%s_lo", col), snprintf(hi, sizeof hi, "%s_hi", col);
    int row = -1;
    for (int r = 0; r < t->nrows; r++) {
        const double v = fl_csv_num(t, r, fc);
        if (in(fl_csv_get(t, r, fm), fam, nfam) && isfinite(v) && (row < 0 || v > b->v)) row = r, b->v = v;
    }
    if (row < 0) return -1;
    b->method = fl_csv_get(t, row, fm);
    b->lo = fl_csv_num(t, row, fl_csv_col(t, lo)), b->hi = fl_csv_num(t, row, fl_csv_col(t, hi));
    return 0;
}

int cmp_rl_vs_sft(const cmp_study *s, cmp_gap *out, int max) {
    int n = 0;
    if (s->has_front && n < max && best_of(&s->front, RL, 4, "area", &out[n].rl) == 0 &&
        best_of(&s->front, SFT, 7, "area", &out[n].sft) == 0)
        snprintf(out[n++].measure, sizeof out->measure, "frontier_area");
    for (int c = 0; s->has_meth && c < s->meth.ncols && n < max; c++) {
        const char *h = s->meth.head[c];
        const size_t len = strlen(h);
        const int bound = len > 3 && (!strcmp(h + len - 3, "_lo") || !strcmp(h + len - 3, "_hi"));
        /* A level printed twice (levels closer than the header's digits)
         * names two columns: ambiguous, left out. */
        int twice = 0;
        for (int d = 0; d < s->meth.ncols && !twice; d++) twice = d != c && strcmp(s->meth.head[d], h) == 0;
        if (strncmp(h, "prior_at_", 9) != 0 || bound || twice) continue;
        if (best_of(&s->meth, RL, 4, h, &out[n].rl) == 0 && best_of(&s->meth, SFT, 7, h, &out[n].sft) == 0)
            snprintf(out[n++].measure, sizeof out->measure, "%s", h);
    }
    return n;
}

int cmp_grokking(const cmp_study *s, const char *measure, int seed, double *at_mem, double *at_end) {
    const fl_csv *t = &s->res;
    const int fp = fl_csv_col(t, "phase"), fs = fl_csv_col(t, "seed"), fe = fl_csv_col(t, "epoch"),
              fm = fl_csv_col(t, measure);
    double best_e = INFINITY, last_e = -INFINITY;
    *at_mem = *at_end = NAN;
    if (!s->has_res || fp < 0 || fm < 0 || seed >= CMP_MAX_SEEDS || !isfinite(s->memorised[seed])) return -1;
    for (int r = 0; r < t->nrows; r++) {
        if (strcmp(fl_csv_get(t, r, fp), "grok") != 0 || (int)fl_csv_num(t, r, fs) != seed) continue;
        const double e = fl_csv_num(t, r, fe), v = fl_csv_num(t, r, fm);
        if (!isfinite(v)) continue;
        if (e >= s->memorised[seed] && e < best_e) best_e = e, *at_mem = v;
        if (e > last_e) last_e = e, *at_end = v;
    }
    return isfinite(*at_mem) && isfinite(*at_end) ? 0 : -1;
}

