/* grok_plots.c: the figures of a grok run, rebuilt from its metrics.jsonl
 * and model.safetensors: accuracy and loss over epochs (log x), the
 * progress measures (restricted and excluded loss beside the train and test
 * loss; the weight norm), circuit stability with its random-split baseline,
 * and the embedding's Fourier spectrum. */
#include "forgetlab/report/report.h"

#include "curves.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/measure/fourier.h"
#include "forgetlab/report/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The metrics columns the plots use; NaN where a line lacks the field. */
enum { EPOCH, TRAIN_ACC, TEST_ACC, TRAIN_LOSS, TEST_LOSS, RESTRICTED, EXCLUDED, WNORM, CS_A, CS_A_LO, CS_A_HI,
       CS_ANS, CS_ANS_LO, CS_ANS_HI, NCOLS };
static const char *const COLS[NCOLS] = {"epoch", "train_acc", "test_acc", "train_loss", "test_loss",
                                        "restricted_loss", "excluded_loss", "weight_norm", "cs_by_a",
                                        "cs_by_a_random_lo", "cs_by_a_random_hi", "cs_by_answer",
                                        "cs_by_answer_random_lo", "cs_by_answer_random_hi"};

/* A figure of some columns against the epoch (log x). */
static int plot_columns(const char *dir, const char *name, const fl_curves *t, const int *cols,
                        const char *const *labels, int ncols, const char *ylabel, int logy, double ymax) {
    const fl_curves_fig f = {.name = name, .xlabel = "epoch", .ylabel = ylabel, .xcol = EPOCH, .logx = 1,
                             .logy = logy, .cols = cols, .labels = labels, .ncols = ncols, .ymin = NAN, .ymax = ymax};
    return fl_curves_plot(dir, t, &f);
}

/* Circuit stability by a and by answer over training, each over the band
 * of its random-split baseline (2.5%-97.5%), with the test accuracy for
 * when the model groks. */
static int plot_cs(const char *dir, const fl_curves *t) {
    double *mem = malloc(sizeof(double) * 10 * (size_t)t->n); /* 2 x (x, y, lo, hi), then accuracy x, y */
    if (!mem) return fl_error_set("out of memory");
    fl_series s[5];
    int ns = 0;
    static const int COL[2][3] = {{CS_A, CS_A_LO, CS_A_HI}, {CS_ANS, CS_ANS_LO, CS_ANS_HI}};
    static const char *const LABEL[2][2] = {{"CS by a", "random splits, 95% (by a)"},
                                            {"CS by answer", "random splits, 95% (by answer)"}};
    for (int g = 0; g < 2; g++) {
        double *x = mem + (size_t)g * 4 * t->n, *y = x + t->n, *lo = y + t->n, *hi = lo + t->n;
        int n = 0;
        for (int r = 0; r < t->n; r++)
            if (isfinite(t->col[COL[g][0]][r]))
                x[n] = t->col[EPOCH][r], y[n] = t->col[COL[g][0]][r], lo[n] = t->col[COL[g][1]][r],
                hi[n++] = t->col[COL[g][2]][r];
        if (!n) continue;
        s[ns++] = (fl_series){LABEL[g][1], x, lo, n, FL_MARK_BAND, g == 0 ? 5 : 3, hi};
        s[ns++] = (fl_series){LABEL[g][0], x, y, n, FL_MARK_LINE, g == 0 ? 0 : 1, NULL};
    }
    double *ax = mem + (size_t)8 * t->n, *ay = ax + t->n;
    int n = 0;
    for (int r = 0; r < t->n; r++)
        if (isfinite(t->col[TEST_ACC][r])) ax[n] = t->col[EPOCH][r], ay[n++] = t->col[TEST_ACC][r];
    if (ns) s[ns++] = (fl_series){"test accuracy", ax, ay, n, FL_MARK_LINE, FL_COLOR_BLACK, NULL};
    fl_plot pl = {.title = "Circuit stability across subtasks (KL, AP-IG, within-subtask corruption)",
                  .xlabel = "epoch", .ylabel = "mean Spearman between subtasks / accuracy", .logx = 1,
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = 1.02, .series = s, .nseries = ns};
    int rc = ns ? fl_figure_save_in(&pl, dir, "circuit_stability") : 0;
    free(mem);
    return rc;
}

/* The norm of each frequency of the final embedding, key ones noted. */
static int plot_spectrum(const char *dir) {
    fl_transformer m;
    if (fl_tf_load(dir, &m, NULL)) return -1;
    const int p = m.cfg.n_out, nf = p / 2 + 1;
    double *k = malloc(sizeof(double) * nf), *norms = malloc(sizeof(double) * nf);
    int rc = -1, key[5];
    if (!k || !norms) {
        fl_error_set("out of memory");
        goto out;
    }
    fl_fourier_embed_norms(fl_blob_param(&m.blob, m.wte), p, m.cfg.d_model, norms);
    for (int i = 0; i < nf; i++) k[i] = i;
    int nkey = fl_fourier_key_freqs(norms, p, 5, key);
    char note[128] = "largest: k =";
    for (int i = 0; i < nkey; i++)
        snprintf(note + strlen(note), sizeof note - strlen(note), "%s %d", i ? "," : "", key[i]);
    fl_series s = {NULL, k, norms, nf, FL_MARK_LINE_POINTS, 0, NULL};
    fl_plot pl = {.title = "Fourier spectrum of the token embedding", .xlabel = "frequency k (w = 2 pi k / p)",
                  .ylabel = "norm of the embedding's component", .xmin = 0, .xmax = nf - 1, .ymin = 0,
                  .ymax = NAN, .series = &s, .nseries = 1, .note = note};
    rc = fl_figure_save_in(&pl, dir, "spectrum");
out:
    free(k), free(norms);
    fl_tf_free(&m);
    return rc;
}

int fl_grok_plots(const char *dir) {
    fl_curves t;
    if (fl_curves_read(dir, COLS, NCOLS, &t)) return fl_error_wrap("grok plots");
    const int acc[] = {TRAIN_ACC, TEST_ACC};
    const char *acc_l[] = {"train accuracy", "test accuracy"};
    const int loss[] = {TRAIN_LOSS, TEST_LOSS};
    const char *loss_l[] = {"train loss", "test loss"};
    const int prog[] = {TRAIN_LOSS, TEST_LOSS, RESTRICTED, EXCLUDED};
    const char *prog_l[] = {"train loss", "test loss", "restricted loss (key frequencies only)",
                            "excluded loss (key frequencies removed, train)"};
    const int wn[] = {WNORM};
    const char *wn_l[] = {"total weight norm"};
    int rc = -1;
    if (plot_columns(dir, "accuracy", &t, acc, acc_l, 2, "accuracy", 0, 1.02) || plot_cs(dir, &t) ||
        plot_columns(dir, "loss", &t, loss, loss_l, 2, "cross-entropy", 1, NAN) ||
        plot_columns(dir, "progress", &t, prog, prog_l, 4, "cross-entropy", 1, NAN) ||
        plot_columns(dir, "weight_norm", &t, wn, wn_l, 1, "L2 norm of all weights", 0, NAN))
        goto out;
    rc = plot_spectrum(dir);
out:
    fl_curves_free(&t);
    return rc;
}
