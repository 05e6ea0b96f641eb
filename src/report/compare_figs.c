/* compare_figs.c: the figures of `forgetlab compare` beside its heatmap:
 * each study's predictors ranked by held-out R^2 with their intervals
 * (ranking_SETTING.png), and circuit stability minus its random-split
 * baseline through grokking, every seed of every grokked base, with each
 * seed's memorisation marked (cs_grokking_MEASURE.png). */
#include "compare_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BARS CMP_MAX_ROWS /* every ranked predictor: the claim's may rank last */

void cmp_figure_name(const cmp_study *st, int k, const char *stem, char *buf, size_t n) {
    int twin = 0;
    for (int j = 0; j < k; j++) twin |= strcmp(st[j].setting, st[k].setting) == 0;
    if (twin) snprintf(buf, n, "%s_%s_%d", stem, st[k].setting, k + 1);
    else snprintf(buf, n, "%s_%s", stem, st[k].setting);
}

static int ranking_figure(const char *out_dir, const cmp_study *st, int k) {
    cmp_rank r[CMP_MAX_ROWS];
    const int m = cmp_ranking(&st[k], r, CMP_MAX_ROWS), nb = m < MAX_BARS ? m : MAX_BARS;
    if (nb == 0) return 0;
    const char *labels[MAX_BARS];
    char marked[MAX_BARS][80];
    double v[MAX_BARS], lo[MAX_BARS], hi[MAX_BARS];
    for (int i = 0; i < nb; i++) {
        /* A predictor the first is not apart from shares its place. */
        snprintf(marked[i], sizeof marked[i], "%s%s", r[i].predictor,
                 i > 0 && !cmp_apart_from_best(r, i) ? " \xe2\x89\x88" : "");
        labels[i] = marked[i], v[i] = r[i].score, lo[i] = r[i].lo, hi[i] = r[i].hi;
    }
    char title[160], name[160];
    snprintf(title, sizeof title, "%s: %s R\xc2\xb2 of forgetting, %d runs, %d seed%s", st[k].setting,
             strcmp(r[0].kind, "lomo") == 0 ? "leave-one-method-out" : "pooled", st[k].nruns, st[k].nseeds,
             st[k].nseeds == 1 ? "" : "s");
    cmp_figure_name(st, k, "ranking", name, sizeof name);
    /* Below -0.5 a held-out fit is worse than the mean by far: cut there,
     * so one wild interval cannot squash the rest. */
    fl_bars b = {title, "held-out R\xc2\xb2 (95% interval over runs); \xe2\x89\x88: not apart from the first (paired)",
                 labels, v, lo, hi, NULL, NULL, nb, -0.5, 1.0};
    char *path = fl_path_join(out_dir, name);
    const int rc = path ? fl_bars_save(&b, path) : fl_error_set("out of memory");
    free(path);
    return rc;
}

/* One measure's rows of a study's grokking phase into s[*ns ...]: each
 * seed's line in the study's colour (the first named after the setting),
 * then its value at memorisation as a black point (the first of the figure
 * named). xs/ys hold the values (*used of them so far); mx/my the points. */
static void grok_series(const cmp_study *st, int k, const char *measure, int color, fl_series *s, int *ns, int max,
                        double *xs, double *ys, size_t *used, double *mx, double *my) {
    const fl_csv *t = &st[k].res;
    const int fp = fl_csv_col(t, "phase"), fs = fl_csv_col(t, "seed"), fe = fl_csv_col(t, "epoch"),
              fm = fl_csv_col(t, measure);
    int named = 0;
    for (int seed = 0; seed < st[k].nseeds && seed < CMP_MAX_SEEDS && *ns + 2 <= max; seed++) {
        double at_mem, at_end, mem_epoch;
        if (fm < 0 || cmp_grokking(&st[k], measure, seed, &at_mem, &at_end, &mem_epoch)) continue;
        const size_t start = *used;
        for (int r = 0; r < t->nrows; r++)
            if (strcmp(fl_csv_get(t, r, fp), "grok") == 0 && (int)fl_csv_num(t, r, fs) == seed &&
                isfinite(fl_csv_num(t, r, fm)))
                xs[*used] = fl_csv_num(t, r, fe), ys[(*used)++] = fl_csv_num(t, r, fm);
        const int first_mark = *ns == 0;
        s[(*ns)++] = (fl_series){named++ ? NULL : st[k].setting, xs + start, ys + start, (int)(*used - start),
                                 FL_MARK_LINE, color, NULL};
        mx[seed] = mem_epoch, my[seed] = at_mem; /* where that value was measured: on its line */
        s[(*ns)++] = (fl_series){first_mark ? "memorisation" : NULL, mx + seed, my + seed, 1, FL_MARK_POINTS,
                                 FL_COLOR_BLACK, NULL};
    }
}

static int cs_figure(const char *out_dir, const cmp_study *st, int n, const char *measure, const char *what) {
    enum { MAX_SERIES = 64 };
    fl_series s[MAX_SERIES + 1];
    size_t rows = 0, used = 0;
    for (int k = 0; k < n; k++) rows += st[k].has_res ? (size_t)st[k].res.nrows : 0;
    double *xs = malloc(sizeof(double) * (rows + 1)), *ys = malloc(sizeof(double) * (rows + 1));
    double *marks = calloc((size_t)2 * n * CMP_MAX_SEEDS, sizeof(double));
    int ns = 0, color = 0, rc = xs && ys && marks ? 0 : fl_error_set("out of memory");
    for (int k = 0; rc == 0 && k < n; k++) {
        if (!st[k].has_res) continue;
        const int before = ns;
        double *mx = marks + (size_t)2 * k * CMP_MAX_SEEDS, *my = mx + CMP_MAX_SEEDS;
        grok_series(st, k, measure, color, s, &ns, MAX_SERIES, xs, ys, &used, mx, my);
        color += ns > before;
    }
    if (rc == 0 && ns > 0) {
        /* Zero: as stable as random groups of the same examples. */
        double zx[2] = {INFINITY, -INFINITY}, zy[2] = {0, 0};
        for (size_t i = 0; i < used; i++) zx[0] = fmin(zx[0], xs[i]), zx[1] = fmax(zx[1], xs[i]);
        s[ns++] = (fl_series){"random-split baseline", zx, zy, 2, FL_MARK_LINE, FL_COLOR_GREY, NULL};
        char title[160], name[64];
        snprintf(title, sizeof title, "Circuit stability by %s minus its random-split baseline through grokking", what);
        snprintf(name, sizeof name, "cs_grokking_%s", measure);
        fl_plot p = {.title = title, .xlabel = "epoch", .ylabel = "CS minus random-split baseline",
                     .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = ns};
        char *path = fl_path_join(out_dir, name);
        rc = path ? fl_plot_save(&p, path) : fl_error_set("out of memory");
        free(path);
    }
    free(xs), free(ys), free(marks);
    return rc;
}

int cmp_figures(const char *out_dir, const cmp_study *st, int n) {
    int rc = 0;
    for (int k = 0; rc == 0 && k < n; k++)
        if (st[k].has_pred) rc = ranking_figure(out_dir, st, k);
    if (rc == 0) rc = cs_figure(out_dir, st, n, "cs_by_answer_excess", "answer");
    if (rc == 0) rc = cs_figure(out_dir, st, n, "cs_by_a_excess", "first operand");
    return rc;
}
