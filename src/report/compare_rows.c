/* compare_rows.c: the rows `compare` derives from one study's tables,
 * which its CSVs (compare.c) and its page (compare_html.c) both show:
 * predictors ranked by held-out R^2, whether the study's best on-policy
 * method is apart from its best SFT one, a grok-forget base's circuit
 * stability across grokking. */
#include "compare_int.h"

#include <math.h>
#include <string.h>

/* The held-out score's columns, and the pooled ones where a study has no leave-one-method-out fit. */
static const char *const LOMO[] = {"r2_lomo", "r2_lomo_lo", "r2_lomo_hi"};
static const char *const POOLED[] = {"r2", "r2_lo", "r2_hi"};

int cmp_ranking(const cmp_study *s, cmp_rank *out, int max) {
    const fl_csv *t = &s->pred;
    const int fp = fl_csv_col(t, "predictor"), fs = fl_csv_col(t, "side"), fl = fl_csv_col(t, "r2_lomo");
    /* Held out by method where any new-side predictor has that score (the
     * rule the study's vs_best follows), else pooled. */
    int lomo = 0;
    for (int r = 0; r < t->nrows && fl >= 0; r++)
        lomo |= strcmp(fl_csv_get(t, r, fs), "new") == 0 && isfinite(fl_csv_num(t, r, fl));
    const char *const *k = lomo ? LOMO : POOLED;
    int n = 0;
    for (int r = 0; r < t->nrows && n < max; r++) {
        if (strcmp(fl_csv_get(t, r, fs), "new") != 0) continue;
        cmp_rank e = {fl_csv_get(t, r, fp),
                      lomo ? "lomo" : "pooled",
                      fl_csv_num_of(t, r, k[0]),
                      fl_csv_num_of(t, r, k[1]),
                      fl_csv_num_of(t, r, k[2]),
                      fl_csv_num_of(t, r, "vs_best"),
                      fl_csv_num_of(t, r, "vs_best_lo"),
                      fl_csv_num_of(t, r, "vs_best_hi")};
        if (!isfinite(e.score)) continue;
        int i = n++;
        for (; i > 0 && out[i - 1].score < e.score; i--) out[i] = out[i - 1];
        out[i] = e;
    }
    return n;
}

int cmp_apart_from_best(const cmp_rank *r, int i) {
    if (i <= 0) return 0;
    if (isfinite(r[i].vs_lo) && isfinite(r[i].vs_hi)) return r[i].vs_lo > 0 || r[i].vs_hi < 0;
    return r[0].lo > r[i].hi;
}

int cmp_gap_apart(const cmp_study *s, int r) {
    const fl_csv *t = &s->gap;
    return fl_csv_num_of(t, r, "gap_lo") > 0 || fl_csv_num_of(t, r, "gap_hi") < 0;
}

int cmp_grokking(const cmp_study *s, const char *measure, int seed, double *at_mem, double *at_end,
                 double *mem_epoch) {
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
    if (mem_epoch) *mem_epoch = isfinite(best_e) ? best_e : NAN;
    return isfinite(*at_mem) && isfinite(*at_end) ? 0 : -1;
}

