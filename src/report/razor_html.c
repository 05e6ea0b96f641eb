/* razor_html.c: the report of a razor study: index.html with the study's
 * figures and tables (the plots themselves come from razor_plots.c). */
#include "forgetlab/report.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Paper values of Table 1 (ParityMNIST), for the side-by-side column. */
double fl_paper_r2(const char *name) {
    static const struct { const char *name; double r2; } T[] = {
        {"forward_kl_new", 0.96}, {"reverse_kl_new", 0.93}, {"tv_new", 0.80}, {"l2_dist_new", 0.56},
        {"weight_l1", 0.34}, {"weight_fisher_l2", 0.58}, {"weight_spectral", 0.58},
        {"act_l1", 0.52}, {"act_l2", 0.55}};
    for (size_t i = 0; i < sizeof T / sizeof *T; i++)
        if (strcmp(T[i].name, name) == 0) return T[i].r2;
    return NAN;
}

static void num(FILE *f, double v, const char *fmt) {
    if (isnan(v)) fputs("&ndash;", f);
    else fprintf(f, fmt, v);
}

int fl_razor_write_html(const char *dir, const fl_razor_analysis *a, const char *const *figures, int nfig) {
    const fl_predictor_fit *pf = a->pred;
    const fl_frontier_fit *ff = a->front;
    const int np = a->npred, nf = a->nfront;
    char *path = fl_path_join(dir, "index.html"), *tmp = NULL;
    if (!path) return fl_error_set("out of memory");
    size_t len = 0;
    FILE *f = open_memstream(&tmp, &len);
    if (!f) {
        free(path);
        return fl_error_set("out of memory");
    }
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>forgetlab: RL's Razor study</title>\n"
          "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
          "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
          ".figs{display:grid;grid-template-columns:1fr 1fr;gap:1em}</style></head><body>\n", f);
    fprintf(f, "<h1>RL's Razor: forgetting and its predictors</h1>\n<p>%d checkpoints from %s. "
            "Forgetting = prior-task (FashionMNIST) accuracy of the base minus that of the fine-tuned "
            "model; new task: ParityMNIST.</p>\n", a->pts.n, "results.sqlite");
    fputs("<h2>Figures</h2><div class=\"figs\">\n", f);
    for (int i = 0; i < nfig; i++)
        fprintf(f, "<a href=\"%s.svg\"><img src=\"%s.png\" alt=\"%s\"></a>\n", figures[i], figures[i], figures[i]);
    fputs("</div>\n<h2>How well each predictor explains forgetting</h2>\n"
          "<p>Degree-2 polynomial least squares of forgetting on the predictor, pooled over every "
          "checkpoint of every method; 95% interval from 1000 bootstrap resamples. R&sup2; hides the "
          "sign: the Spearman correlation with forgetting gives it (negative: the predictor falls as "
          "forgetting grows). Side <i>outcome</i>: measured on the prior task's own test images, whose "
          "accuracy defines forgetting, so they restate the outcome rather than predict it from the new "
          "task, as the paper's predictors do.</p>\n"
          "<table><tr><th>predictor</th><th>side</th><th>R&sup2;</th><th>95% interval</th><th>n</th>"
          "<th>Spearman</th><th>paper</th></tr>\n", f);
    for (int k = 0; k < np; k++) {
        fprintf(f, "<tr><td>%s</td><td>%s</td><td>", pf[k].name, pf[k].side);
        num(f, pf[k].ci.r2, "%.3f");
        fputs("</td><td>", f);
        num(f, pf[k].ci.lo, "%.3f");
        fputs(" &ndash; ", f);
        num(f, pf[k].ci.hi, "%.3f");
        fprintf(f, "</td><td>%d</td><td>", pf[k].ci.n);
        num(f, pf[k].spearman, "%+.3f");
        fputs("</td><td>", f);
        num(f, fl_paper_r2(pf[k].name), "%.2f");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<h2>Prior-task accuracy at matched new-task accuracy</h2>\n"
          "<p>Per method, the best prior-task accuracy among its checkpoints whose new-task accuracy "
          "is at least t.</p>\n<table><tr><th>method</th>", f);
    for (int j = 0; j < FL_MATCH_LEVELS; j++) fprintf(f, "<th>t = %.2f</th>", a->match_level[j]);
    fputs("</tr>\n", f);
    for (int m = 0; m < nf; m++) {
        fprintf(f, "<tr><td>%s</td>", ff[m].method);
        for (int j = 0; j < FL_MATCH_LEVELS; j++) {
            fputs("<td>", f);
            num(f, a->matched[m][j], "%.3f");
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<h2>Pareto frontiers</h2>\n<p>Per method, the checkpoints within 2 accuracy points "
          "of the non-dominated (new-task accuracy, prior-task accuracy) set, fitted by "
          "prior = a + b exp(c &middot; new).</p>\n<table><tr><th>method</th><th>a</th><th>b</th><th>c</th>"
          "<th>points</th><th>on frontier</th></tr>\n", f);
    for (int k = 0; k < nf; k++) {
        fprintf(f, "<tr><td>%s</td><td>", ff[k].method);
        num(f, ff[k].p[0], "%.4g");
        fputs("</td><td>", f);
        num(f, ff[k].p[1], "%.4g");
        fputs("</td><td>", f);
        num(f, ff[k].p[2], "%.4g");
        fprintf(f, "</td><td>%d</td><td>%d</td></tr>\n", ff[k].n, ff[k].n_kept);
    }
    fputs("</table>\n<p>Data: <a href=\"results.csv\">results.csv</a> (every checkpoint), "
          "<a href=\"predictors.csv\">predictors.csv</a>, <a href=\"frontier.csv\">frontier.csv</a>, "
          "results.sqlite.</p>\n</body></html>\n", f);
    fclose(f);
    int rc = fl_write_text_atomic(path, tmp);
    free(tmp);
    free(path);
    return rc;
}
