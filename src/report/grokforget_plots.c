/* grokforget_plots.c: the grok-forget study's own figures: one model's
 * whole life (life_<method>.png): a + b's accuracy, the new task's, circuit
 * stability of a + b minus its random-split baseline and the key
 * frequencies' share of the embedding, from the first grokking epoch to
 * the end of fine-tuning, in optimisation steps. */
#include "forgetlab/report/razor.h"

#include "curves.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { Q = 4 }; /* old accuracy, new accuracy, CS minus baseline, Fourier share */

/* Appends a phase's rows to the four series (x: offset + column xcol). */
static void append(const fl_curves *t, int xcol, double offset, const int *col, double (*xs)[2048],
                   double (*ys)[2048], int *n) {
    for (int i = 0; i < t->n; i++) {
        const double x = offset + t->col[xcol][i];
        const double v[Q] = {t->col[col[0]][i], col[1] >= 0 ? t->col[col[1]][i] : NAN,
                             t->col[col[2]][i] - t->col[col[3]][i], t->col[col[4]][i]};
        for (int q = 0; q < Q; q++)
            if (isfinite(v[q]) && n[q] < 2048) xs[q][n[q]] = x, ys[q][n[q]++] = v[q];
    }
}

/* Seed 0's base and its best run (highest final new-task accuracy) of
 * method: one figure. */
static int life_plot(const char *dir, fl_results *db, const char *method) {
    char base[4096], id[128];
    int found = 0;
    if (fl_results_get_meta(db, "base_s0", base, sizeof base, &found) || !found) return 0;
    if (fl_results_best_run(db, method, 0, id, sizeof id)) return 0; /* no such run: no figure */
    static const char *const GROK[] = {"epoch", "test_acc", "cs_by_a", "cs_by_a_random", "fourier_share"};
    static const char *const FT[] = {"step", "old_acc", "new_acc", "cs_by_a", "cs_by_a_random", "fourier_share"};
    char run[4400];
    snprintf(run, sizeof run, "%s/runs/%s", dir, id);
    fl_curves g = {0}, f = {0};
    static double xs[Q][2048], ys[Q][2048];
    int n[Q] = {0}, rc = fl_curves_read(base, GROK, 5, &g);
    if (rc == 0) rc = fl_curves_read(run, FT, 6, &f);
    if (rc == 0) {
        const double x0 = g.col[0][g.n - 1];
        append(&g, 0, 0, (const int[]){1, -1, 2, 3, 4}, xs, ys, n);
        append(&f, 0, x0, (const int[]){1, 2, 3, 4, 5}, xs, ys, n);
        double vx[2] = {x0, x0}, vy[2] = {-0.2, 1.0};
        const fl_series s[Q + 1] = {
            {"fine-tuning starts", vx, vy, 2, FL_MARK_LINE, FL_COLOR_GREY, NULL},
            {"a + b accuracy (held-out pairs)", xs[0], ys[0], n[0], FL_MARK_LINE, 0, NULL},
            {"new-task accuracy (held-out pairs)", xs[1], ys[1], n[1], FL_MARK_LINE_POINTS, 1, NULL},
            {"circuit stability by a minus its random-split baseline", xs[2], ys[2], n[2], FL_MARK_LINE_POINTS, 2,
             NULL},
            {"key frequencies' share of the embedding", xs[3], ys[3], n[3], FL_MARK_LINE_POINTS, 3, NULL}};
        char title[256], name[64];
        snprintf(title, sizeof title, "One model's life (seed 0): grok a + b, then %s", id);
        snprintf(name, sizeof name, "life_%s", method);
        const fl_plot pl = {.title = title,
                            .xlabel = "optimisation steps (grokking: full batch; fine-tuning: minibatches)",
                            .ylabel = "accuracy, share, circuit stability minus baseline",
                            .xmin = NAN, .xmax = NAN, .ymin = -0.7, .ymax = 1.05, .series = s, .nseries = Q + 1,
                            .width = 900, .height = 520};
        rc = fl_figure_save_in(&pl, dir, name);
    }
    fl_curves_free(&g), fl_curves_free(&f);
    return rc;
}

int fl_gf_life_plots(const char *dir, fl_results *db) {
    static const char *const METHODS[] = {"sft1", "oracle", "grpo"};
    for (size_t k = 0; k < sizeof METHODS / sizeof *METHODS; k++)
        if (life_plot(dir, db, METHODS[k])) return -1;
    return 0;
}
