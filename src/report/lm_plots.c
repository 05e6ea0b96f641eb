/* lm_plots.c: the figures of an lm-pretrain run, rebuilt from its
 * metrics.jsonl: every skill's exact match over training, and the training
 * loss beside the held-out text's bits per byte. */
#include "forgetlab/report/report.h"

#include "curves.h"

#include "forgetlab/core/error.h"
#include "forgetlab/data/lmdata.h"

#include <math.h>
#include <stdio.h>

enum { STEP, LOSS, BPB, ACC0, NCOLS = ACC0 + FL_NSKILLS };

int fl_lm_plots(const char *dir) {
    const char *names[NCOLS] = {"step", "loss", "bpb"};
    char keys[FL_NSKILLS][32];
    int acc[FL_NSKILLS];
    const char *labels[FL_NSKILLS];
    for (int k = 0; k < FL_NSKILLS; k++) {
        snprintf(keys[k], sizeof keys[k], "acc_%s", fl_skill_name((fl_skill)k));
        names[ACC0 + k] = keys[k], labels[k] = fl_skill_name((fl_skill)k), acc[k] = ACC0 + k;
    }
    fl_curves t;
    if (fl_curves_read(dir, names, NCOLS, &t)) return fl_error_wrap("lm plots");
    /* The loss is logged in nats per byte; in bits it shares the axis of
     * the held-out text's bits per byte. */
    for (int r = 0; r < t.n; r++) t.col[LOSS][r] /= log(2.0);
    const fl_curves_fig skills = {.name = "skills", .title = "Exact match on each skill's test prompts (greedy)",
                                  .xlabel = "step", .ylabel = "exact-match accuracy", .xcol = STEP, .cols = acc,
                                  .labels = labels, .ncols = FL_NSKILLS, .ymin = 0, .ymax = 1.02};
    const int loss_cols[] = {LOSS, BPB};
    const char *loss_labels[] = {"training loss (text and skills)", "held-out text"};
    const fl_curves_fig loss = {.name = "loss", .title = "Next-byte cross-entropy", .xlabel = "step",
                                .ylabel = "bits per byte", .xcol = STEP, .cols = loss_cols, .labels = loss_labels,
                                .ncols = 2, .ymin = 0, .ymax = NAN};
    const int rc = fl_curves_plot(dir, &t, &skills) || fl_curves_plot(dir, &t, &loss) ? -1 : 0;
    fl_curves_free(&t);
    return rc;
}
