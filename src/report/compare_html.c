/* compare_html.c: the page of `forgetlab compare` (findings.html), its
 * heatmap of held-out R^2 (predictors x settings) and the summary it
 * prints, all from the rows compare.c wrote into its tables. */
#include "compare_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/plot.h"
#include "forgetlab/report/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void cell(FILE *f, double v, double lo, double hi) {
    if (!isfinite(v)) fputs("<td>&ndash;</td>", f);
    else if (isfinite(lo) && isfinite(hi)) fprintf(f, "<td>%.3f <small>[%.3f, %.3f]</small></td>", v, lo, hi);
    else fprintf(f, "<td>%.3f</td>", v);
}

/* A study's predictor row by name, or -1. */
static int pred_row(const cmp_study *s, const char *name) {
    const int fp = fl_csv_col(&s->pred, "predictor");
    for (int r = 0; r < s->pred.nrows; r++)
        if (strcmp(fl_csv_get(&s->pred, r, fp), name) == 0) return r;
    return -1;
}

/* Column col of row r with its interval (col_lo, col_hi), as a cell. */
static void estimate_cell(FILE *f, const fl_csv *t, int r, const char *col) {
    char lo[64], hi[64];
    snprintf(lo, sizeof lo, "%s_lo", col), snprintf(hi, sizeof hi, "%s_hi", col);
    cell(f, fl_csv_num_of(t, r, col), fl_csv_num_of(t, r, lo), fl_csv_num_of(t, r, hi));
}

/* The forward KL on the new task's inputs, every setting in a row. */
static void kl_table(FILE *f, const cmp_study *st, int n) {
    fputs("<h2>Does the forward KL on the new task predict forgetting?</h2><table><tr><th>setting</th><th>study</th>"
          "<th>R&sup2; pooled</th><th>leave-one-method-out</th><th>Spearman</th><th>in regime</th>"
          "<th>beyond the rate</th><th>runs / checkpoints / seeds</th></tr>\n", f);
    for (int k = 0; k < n; k++) {
        const cmp_study *s = &st[k];
        const int r = pred_row(s, "forward_kl_new");
        if (r < 0) continue;
        fprintf(f, "<tr><td>%s</td><td>%s</td>", s->setting, s->dir);
        estimate_cell(f, &s->pred, r, "r2");
        estimate_cell(f, &s->pred, r, "r2_lomo");
        cell(f, fl_csv_num_of(&s->pred, r, "spearman"), NAN, NAN);
        estimate_cell(f, &s->pred, r, "r2_regime");
        estimate_cell(f, &s->pred, r, "r2_partial_lr");
        const double nfit = fl_csv_num_of(&s->pred, r, "n");
        fprintf(f, "<td>%d / %d / %d</td></tr>\n", s->nruns, isfinite(nfit) ? (int)nfit : s->nckpts, s->nseeds);
    }
    fputs("</table>\n", f);
}

static void ranking_tables(FILE *f, const cmp_study *st, int n) {
    fputs("<h2>Which predictor explains forgetting best?</h2><p>New-side predictors by held-out R&sup2;; "
          "<em>minus the first</em>: its held-out R&sup2; minus the first's, both fitted on the same resampled "
          "runs (paired), apart from it when that leaves out 0.</p>\n", f);
    for (int k = 0; k < n; k++) {
        cmp_rank r[CMP_MAX_ROWS];
        const int m = cmp_ranking(&st[k], r, CMP_MAX_ROWS);
        if (!st[k].has_pred) continue; /* a grok run: circuits only */
        fprintf(f, "<h3>%s (%s)</h3><table><tr><th>rank</th><th>predictor</th><th>held-out R&sup2;</th>"
                   "<th>minus the first</th><th>apart from it</th></tr>\n", st[k].setting, st[k].dir);
        for (int i = 0; i < m && i < 6; i++) {
            fprintf(f, "<tr><td>%d</td><td>%s (%s)</td>", i + 1, r[i].predictor, r[i].kind);
            cell(f, r[i].score, r[i].lo, r[i].hi);
            cell(f, r[i].vs, r[i].vs_lo, r[i].vs_hi);
            fprintf(f, "<td>%s</td></tr>\n", i > 0 ? cmp_apart_from_best(r, i) ? "yes" : "no" : "");
        }
        char name[160];
        cmp_figure_name(st, k, "ranking", name, sizeof name);
        fputs("</table>\n", f);
        if (m > 0) fprintf(f, "<p><a href=\"%s.svg\"><img src=\"%s.png\" alt=\"%s\"></a></p>\n", name, name, name);
    }
}

static void rl_table(FILE *f, const cmp_study *st, int n) {
    fputs("<h2>Does on-policy RL forget less than SFT at matched new-task performance?</h2><p>The best on-policy "
          "method against the best SFT method: the area under the frontier (prior accuracy integrated over the "
          "new-task range every method of the study covers) and the prior accuracy at each matched level; the "
          "gap's interval resamples seeds and runs once for both sides (paired); <em>apart</em>: it leaves out "
          "0.</p><table><tr><th>setting</th><th>measure</th><th>on-policy</th><th></th><th>SFT</th><th></th>"
          "<th>gap</th><th>apart</th></tr>\n", f);
    for (int k = 0; k < n; k++) {
        const fl_csv *t = &st[k].gap;
        for (int r = 0; st[k].has_gap && r < t->nrows; r++) {
            const char *measure = fl_csv_get(t, r, fl_csv_col(t, "measure")), *level = fl_csv_get(t, r, fl_csv_col(t, "level"));
            fprintf(f, "<tr><td>%s</td><td>%s%s%s</td><td>%s</td>", st[k].setting, measure, *level ? " " : "", level,
                    fl_csv_get(t, r, fl_csv_col(t, "rl_method")));
            estimate_cell(f, t, r, "rl");
            fprintf(f, "<td>%s</td>", fl_csv_get(t, r, fl_csv_col(t, "sft_method")));
            estimate_cell(f, t, r, "sft");
            estimate_cell(f, t, r, "gap");
            fprintf(f, "<td>%s</td></tr>\n", cmp_gap_apart(&st[k], r) ? "yes" : "no");
        }
    }
    fputs("</table>\n", f);
}

static void cs_table(FILE *f, const cmp_study *st, int n) {
    fputs("<h2>Is circuit stability one metric for grokking and forgetting?</h2><p>Circuit stability minus its "
          "random-split baseline at memorisation and at the end of grokking, per seed (grok-forget studies); "
          "cs.csv has every circuit measure's fit against forgetting.</p><table><tr><th>setting</th>"
          "<th>measure</th><th>seed</th><th>at memorisation</th><th>at the end of grokking</th></tr>\n", f);
    static const char *const GROK[] = {"cs_by_a_excess", "cs_by_answer_excess"};
    int any[2] = {0, 0};
    for (int k = 0; k < n; k++)
        for (int g = 0; g < 2; g++)
            for (int seed = 0; seed < st[k].nseeds; seed++) {
                double m, e;
                if (cmp_grokking(&st[k], GROK[g], seed, &m, &e, NULL) == 0)
                    fprintf(f, "<tr><td>%s</td><td>%s</td><td>%d</td><td>%.3f</td><td>%.3f</td></tr>\n",
                            st[k].setting, GROK[g], seed, m, e), any[g] = 1;
            }
    fputs("</table>\n", f);
    for (int g = 1; g >= 0; g--)
        if (any[g])
            fprintf(f, "<p><a href=\"cs_grokking_%s.svg\"><img src=\"cs_grokking_%s.png\" alt=\"%s\"></a></p>\n",
                    GROK[g], GROK[g], GROK[g]);
}

/* Held-out R^2, predictors (new side, in order of first appearance) x
 * studies. */
static int heatmap(const char *out_dir, const cmp_study *st, int n) {
    const char *rows[CMP_MAX_ROWS] = {"forward_kl_new"}; /* the claim's predictor first */
    const char **cols = malloc(sizeof *cols * (size_t)n);
    int nr = 1;
    double *m = malloc(sizeof(double) * 3 * CMP_MAX_ROWS * (size_t)n);
    double *lo = m ? m + CMP_MAX_ROWS * n : NULL, *hi = m ? lo + CMP_MAX_ROWS * n : NULL;
    char *path = fl_path_join(out_dir, "heatmap");
    int rc = cols && m && path ? 0 : fl_error_set("out of memory");
    for (int i = 0; rc == 0 && i < 3 * CMP_MAX_ROWS * n; i++) m[i] = NAN;
    int ncol = 0, nc = 0; /* the studies with fits (a grok run has none): the columns */
    for (int k = 0; k < n; k++) ncol += st[k].has_pred;
    for (int k = 0; rc == 0 && k < n; k++) {
        cmp_rank r[CMP_MAX_ROWS];
        const int c = cmp_ranking(&st[k], r, CMP_MAX_ROWS);
        if (!st[k].has_pred) continue;
        cols[nc] = st[k].setting;
        for (int i = 0; i < c; i++) {
            int j = 0;
            while (j < nr && strcmp(rows[j], r[i].predictor) != 0) j++;
            if (j == nr && nr < CMP_MAX_ROWS) rows[nr++] = r[i].predictor;
            if (j == CMP_MAX_ROWS) continue;
            const size_t at = (size_t)j * ncol + nc;
            m[at] = r[i].score, lo[at] = r[i].lo, hi[at] = r[i].hi;
        }
        nc++;
    }
    if (rc == 0 && nr > 0 && nc > 0)
        rc = fl_heatmap_ci_save("Held-out R\xc2\xb2 of forgetting (leave-one-method-out where the study has it)", m, lo,
                                hi, nr, nc, rows, cols, -1, 1, path);
    free(cols), free(m), free(path);
    return rc;
}

int cmp_report(const char *out_dir, const cmp_study *st, int n, FILE *out) {
    char *path = fl_path_join(out_dir, "findings.html"), *text = NULL;
    size_t len = 0;
    FILE *f = path ? open_memstream(&text, &len) : NULL;
    int rc = f ? heatmap(out_dir, st, n) : fl_error_set("out of memory");
    if (rc == 0) rc = cmp_figures(out_dir, st, n);
    if (f) {
        fl_html_head(f, "findings across settings", "img{max-width:100%}");
        fprintf(f, "<h1>Findings across settings</h1><p>%d studies; every number below is the one its study wrote "
                   "(findings.csv, ranking.csv, rl_vs_sft.csv, cs.csv beside this page).</p>\n", n);
        kl_table(f, st, n);
        fputs("<p><a href=\"heatmap.svg\"><img src=\"heatmap.png\" alt=\"held-out R2\"></a></p>\n", f);
        ranking_tables(f, st, n);
        rl_table(f, st, n);
        cs_table(f, st, n);
        fputs("</body></html>\n", f);
        fclose(f);
        if (rc == 0) rc = fl_write_text_atomic(path, text);
    }
    for (int k = 0; rc == 0 && out && k < n; k++) {
        cmp_rank r[CMP_MAX_ROWS];
        const int m = cmp_ranking(&st[k], r, CMP_MAX_ROWS), kl = pred_row(&st[k], "forward_kl_new");
        if (!st[k].has_pred) {
            fprintf(out, "%-28s circuit stability across grokking only (%s)\n", st[k].setting, st[k].dir);
            continue;
        }
        fprintf(out, "%-28s forward KL R^2 %6.3f [%.3f, %.3f]", st[k].setting,
                fl_csv_num_of(&st[k].pred, kl, "r2"), fl_csv_num_of(&st[k].pred, kl, "r2_lo"),
                fl_csv_num_of(&st[k].pred, kl, "r2_hi"));
        if (m > 0) fprintf(out, "; best held-out: %s %.3f", r[0].predictor, r[0].score);
        const fl_csv *g = &st[k].gap;
        if (st[k].has_gap && g->nrows > 0) /* the frontier area's, or the first level's */
            fprintf(out, "; on-policy minus SFT (%s) %+.3g [%+.3g, %+.3g]", fl_csv_get(g, 0, fl_csv_col(g, "measure")),
                    fl_csv_num_of(g, 0, "gap"), fl_csv_num_of(g, 0, "gap_lo"), fl_csv_num_of(g, 0, "gap_hi"));
        fprintf(out, " (%s)\n", st[k].dir);
    }
    free(text), free(path);
    return rc;
}
