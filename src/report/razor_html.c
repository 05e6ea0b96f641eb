/* razor_html.c: the report of a razor study: index.html with the study's
 * figures and tables (the plots themselves come from razor_plots.c). */
#include "forgetlab/report/razor.h"
#include "forgetlab/report/report.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Paper values of Table 1 (ParityMNIST), for the side-by-side column. */
void fl_html_head(FILE *f, const char *title, const char *css) {
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>forgetlab: %s</title>\n", title);
    fprintf(f, "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
               "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;"
               "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}%s"
               "</style></head><body>\n", css);
}

double fl_paper_r2(const fl_study_kind *k, const char *name) {
    static const struct { const char *name; double r2; } T[] = {
        {"forward_kl_new", 0.96}, {"reverse_kl_new", 0.93}, {"tv_new", 0.80}, {"l2_dist_new", 0.56},
        {"weight_l1", 0.34}, {"weight_fisher_l2", 0.58}, {"weight_spectral", 0.58},
        {"act_l1", 0.52}, {"act_l2", 0.55}};
    /* The language models' experiment reports the forward KL's alone. */
    if (strcmp(k->kind, "lm") == 0) return strcmp(name, "forward_kl_new") == 0 ? 0.71 : NAN;
    /* Nor does any paper report one for a grokked circuit. */
    if (strcmp(k->kind, "grok-forget") == 0) return NAN;
    for (size_t i = 0; i < sizeof T / sizeof *T; i++)
        if (strcmp(T[i].name, name) == 0) return T[i].r2;
    return NAN;
}

static const char *const RAZOR_ORDER[] = {"sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce", "simpo", "distill"};
static const char *const LM_ORDER[] = {"sft",     "sft-alt",     "rft",     "grpo",    "grpo-kl", "reinforce",
                                       "simpo",   "distill",     "sft-teacher", "sft-any", "sft-self"};
static const fl_study_kind KINDS[] = {
    {"razor", "new_acc", "new_acc_base", "RL's Razor: forgetting and its predictors",
     "Forgetting = prior-task (FashionMNIST) accuracy of the base minus that of the fine-tuned model; new task: "
     "ParityMNIST.",
     "new-task accuracy (ParityMNIST)", "prior-task accuracy (FashionMNIST)",
     "forward KL(\xcf\x80\xe2\x82\x80 \xe2\x80\x96 \xcf\x80) on ParityMNIST test inputs",
     "circuit stability (mean Spearman across Fashion classes)", "sft1", RAZOR_ORDER, 8, "paper (ParityMNIST)", 0,
     "prior_acc", "prior_acc_base", "circuit_stability", "circuit_stability_random",
     "the prior task's own test images (and, for circuit drift, their labels)"},
    {"lm", "new_acc_sampled", "new_acc_sampled_base", "RL's Razor on the language model: forgetting and its predictors",
     "Forgetting = the base's mean exact match over the prior skills (add, reverse, sort, count) minus the "
     "fine-tuned model's; new task: word completion, success of samples at temperature 1 on the held-out "
     "prefixes (the greedy success, new_acc, is in results.csv).",
     "new-task success (word completion, sampled at temperature 1)", "prior skills (mean exact match)",
     "forward KL(\xcf\x80\xe2\x82\x80 \xe2\x80\x96 \xcf\x80) along the base's completions (nats per sequence)",
     "circuit stability of a prior skill (mean Spearman across subtasks)", "sft", LM_ORDER, 11,
     "paper (LLMs: forward KL 0.71)", 1, "prior_acc", "prior_acc_base", "circuit_stability",
     "circuit_stability_random",
     "the prior skills' own test prompts (the divergences along the base's answers to them, and circuit "
     "stability across reverse's subtasks)"},
    {"grok-forget", "new_acc", "new_acc_base", "Grok, then forget: one model's whole life",
     "Forgetting = the grokked base's accuracy on a + b mod p (held-out pairs) minus the fine-tuned model's; new "
     "task: a - b or b - a mod p (either is correct), asked with its own operation token (argmax accuracy on "
     "held-out pairs).",
     "new-task accuracy (a - b or b - a)", "old-task accuracy (a + b mod p)",
     "forward KL(\xcf\x80\xe2\x82\x80 \xe2\x80\x96 \xcf\x80) on the new task's held-out inputs",
     "circuit stability of a + b by a (mean Spearman across a = 0..p-1)", "sft1", RAZOR_ORDER, 6,
     "paper (ParityMNIST)", 1, "old_acc", "old_acc_base", "cs_by_a", "cs_by_a_random",
     "a + b's own equations (the divergences on its held-out pairs, circuit stability by a and by answer, the "
     "restricted and excluded losses)"},
};

const fl_study_kind *fl_study_kind_get(const char *kind) {
    if (!kind || !*kind) return &KINDS[0];
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        if (strcmp(KINDS[i].kind, kind) == 0) return &KINDS[i];
    return NULL;
}

static void num(FILE *f, double v, const char *fmt) {
    if (isnan(v)) fputs("&ndash;", f);
    else fprintf(f, fmt, v);
}

static void estimate(FILE *f, const fl_estimate *e, double scale) {
    fputs("<td>", f);
    num(f, e->v / scale, "%.3f");
    if (!isnan(e->lo)) fprintf(f, " <small>[%.3f, %.3f]</small>", e->lo / scale, e->hi / scale);
    fputs("</td>", f);
}

static void r2_cells(FILE *f, const fl_r2_ci *c) {
    fputs("<td>", f);
    num(f, c->r2, "%.3f");
    fputs("</td><td>", f);
    num(f, c->lo, "%.3f");
    fputs(" &ndash; ", f);
    num(f, c->hi, "%.3f");
    fputs("</td>", f);
}

/* The predictors of one side. */
static void predictor_rows(FILE *f, const fl_razor_analysis *a, const char *side) {
    for (int k = 0; k < a->npred; k++) {
        const fl_predictor_fit *p = &a->pred[k];
        if (strcmp(p->side, side) != 0) continue;
        fprintf(f, "<tr><td>%s</td>", p->name);
        r2_cells(f, &p->ci);
        r2_cells(f, &p->lomo);
        fprintf(f, "<td>%d</td><td>", p->ci.n);
        num(f, p->spearman, "%+.3f");
        fputs("</td>", f);
        r2_cells(f, &p->regime);
        fprintf(f, "<td>%d</td>", p->regime.n);
        estimate(f, &p->partial_lr, 1);
        fputs("<td>", f);
        num(f, fl_paper_r2(a->kind, p->name), "%.2f");
        fputs("</td>", f);
        estimate(f, &p->vs_best, 1);
        fputs("</tr>\n", f);
    }
}

static void predictor_tables(FILE *f, const fl_razor_analysis *a) {
    static const char HEAD[] = "<table><tr><th>predictor</th><th>R&sup2;</th><th>95% interval</th>"
                               "<th>leave-one-method-out R&sup2;</th><th>95% interval</th><th>n</th>"
                               "<th>Spearman</th><th>in regime R&sup2;</th><th>95% interval</th><th>n</th>"
                               "<th>beyond the learning rate (partial R&sup2;)</th><th>paper</th>"
                               "<th>held out, minus the leading predictor's</th></tr>\n";
    fputs("<h2>How well each predictor explains forgetting</h2>\n"
          "<p>Degree-2 polynomial least squares of forgetting on the predictor, pooled over every "
          "checkpoint of every method. Intervals: 95%, 1000 bootstrap resamples of whole runs (within "
          "resampled seeds when there are several): checkpoints of one run are not independent. "
          "Leave-one-method-out: the curve fitted on the other methods, scored on the held-out method's "
          "points, pooled over methods: the paper's claim is that one curve explains every method. "
          "R&sup2; hides the sign: the Spearman correlation with forgetting gives it. In regime: the same fit on "
          "the checkpoints that learnt the new task (at least 0.05 above their base) and kept the prior one "
          "(accuracy at least 0.5), where the paper's claim is stated. Beyond the learning rate: the share "
          "of what the rates (as a factor) leave unexplained that the predictor's curve explains "
          "(predictors_by_lr.csv: the fit within each rate). Minus the leading predictor's: the held-out "
          "R&sup2; (leave-one-method-out where the study has it) minus that of the new-side predictor with the "
          "highest, both fitted on the same resampled runs, so its interval is the difference's own.</p>\n", f);
    fputs(HEAD, f);
    predictor_rows(f, a, "new");
    fprintf(f, "</table>\n<h3>Outcome side</h3>\n<p>Measured on %s, whose accuracy defines forgetting: these "
               "restate the outcome rather than predict it from the new task as the paper's predictors do, so a "
               "high R&sup2; here is expected and says little.</p>\n", a->kind->outcome_data);
    fputs(HEAD, f);
    predictor_rows(f, a, "outcome");
    fputs("</table>\n", f);
}

/* The best on-policy method against the best SFT one (rl_vs_sft.csv). */
static void family_table(FILE *f, const fl_razor_analysis *a) {
    if (a->nfam == 0) return;
    const double w = a->range_hi - a->range_lo;
    fputs("<h2>On-policy against SFT</h2>\n<p>The best on-policy method against the best SFT method on each "
          "measure (the frontier's mean height, and prior-task accuracy at each matched level); the gap's 95% "
          "interval comes from one resampling of seeds and runs for both sides (paired), which the two "
          "methods' own intervals set side by side are not.</p>\n<table><tr><th>measure</th><th>on-policy</th>"
          "<th></th><th>SFT</th><th></th><th>gap</th></tr>\n", f);
    for (int k = 0; k < a->nfam; k++) {
        const fl_family_gap *g = &a->fam[k];
        const double scale = isnan(g->level) ? w : 1;
        if (isnan(g->level)) fputs("<tr><td>frontier mean</td>", f);
        else fprintf(f, "<tr><td>t = %.3f</td>", g->level);
        fprintf(f, "<td>%s</td>", a->meth[g->rl].method);
        estimate(f, &g->on_rl, scale);
        fprintf(f, "<td>%s</td>", a->meth[g->sft].method);
        estimate(f, &g->on_sft, scale);
        estimate(f, &g->gap, scale);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void method_tables(FILE *f, const fl_razor_analysis *a) {
    const double w = a->range_hi - a->range_lo;
    fprintf(f, "<h2>Frontiers</h2>\n<p>Per method, the checkpoints within 2 accuracy points of the "
            "non-dominated (new-task, prior-task accuracy) set, fitted by a non-increasing isotonic "
            "curve; methods compared by its mean height (area / width) over new-task accuracy "
            "[%.3f, %.3f], the range every method's frontier covers. The exponential prior = a + b "
            "exp(c new) is given only where it is identifiable (c inside its scan range, a lower AIC "
            "than a constant and a line).</p>\n<table><tr><th>method</th><th>runs</th><th>points</th>"
            "<th>on frontier</th><th>mean prior-task accuracy on the frontier</th><th>exponential "
            "(a, b, c)</th><th>best new-task</th><th>of grpo's best</th></tr>\n", a->range_lo, a->range_hi);
    for (int k = 0; k < a->nmeth; k++) {
        const fl_method_fit *m = &a->meth[k];
        fprintf(f, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td>", m->method, m->nruns, m->n, m->n_kept);
        estimate(f, &m->area, w);
        if (m->exp_ok) fprintf(f, "<td>%.4g, %.4g, %.4g</td>", m->p[0], m->p[1], m->p[2]);
        else fputs("<td>not identifiable</td>", f);
        fputs("<td>", f);
        num(f, m->best_new, "%.3f");
        fputs("</td><td>", f);
        num(f, m->best_vs_grpo, "%.2f");
        fputs(m->best_vs_grpo < FL_REGIME_LEARNT ? " (outside the paper's regime)</td></tr>\n" : "</td></tr>\n", f);
    }
    fputs("</table>\n<h2>Prior-task accuracy at matched new-task accuracy</h2>\n<p>Per method, the best "
          "prior-task accuracy among its checkpoints whose new-task accuracy is at least t (95% interval "
          "over resampled runs; &ndash;: never reached).</p>\n<table><tr><th>method</th>", f);
    for (int j = 0; j < FL_MATCH_LEVELS; j++) fprintf(f, "<th>t = %.2f</th>", a->match_level[j]);
    fputs("</tr>\n", f);
    for (int k = 0; k < a->nmeth; k++) {
        fprintf(f, "<tr><td>%s</td>", a->meth[k].method);
        for (int j = 0; j < FL_MATCH_LEVELS; j++) estimate(f, &a->meth[k].matched[j], 1);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    family_table(f, a);
    fprintf(f, "<h2>Forgetting on forward KL, method by method</h2>\n<p>R&sup2; of the quadratic fit "
            "on the method's own checkpoints; excess: the mean of (forgetting minus the curve fitted on the "
            "other methods) over the method's checkpoints inside that curve's KL range; vs %s: the same "
            "against %s's curve. A method on the common curve has excess near 0.</p>\n"
            "<table><tr><th>method</th><th>R&sup2;</th><th>95%% interval</th><th>excess forgetting</th>"
            "<th>vs %s's curve</th></tr>\n", a->kind->ref_method, a->kind->ref_method, a->kind->ref_method);
    for (int k = 0; k < a->nmeth; k++) {
        const fl_method_fit *m = &a->meth[k];
        fprintf(f, "<tr><td>%s</td>", m->method);
        r2_cells(f, &m->kl_r2);
        estimate(f, &m->gap_others, 1);
        estimate(f, &m->gap_sft1, 1);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    if (a->nlayers == 0) return;
    fputs("<h2>Rank of the weight updates</h2>\n<p>Numerical rank of each layer's update W - W<sub>0</sub> "
          "at the end of each run (singular values above max(rows, cols) &middot; float32 eps &middot; "
          "&sigma;<sub>max</sub>): median [min, max] over the method's runs, out of min(rows, cols).</p>\n"
          "<table><tr><th>method</th>", f);
    for (int l = 0; l < a->nlayers; l++) fprintf(f, "<th>layer %d (of %d)</th>", l + 1, a->full_rank[l]);
    fputs("</tr>\n", f);
    for (int k = 0; k < a->nmeth; k++) {
        const fl_method_fit *m = &a->meth[k];
        fprintf(f, "<tr><td>%s</td>", m->method);
        for (int l = 0; l < a->nlayers; l++)
            if (l < m->nlayers) fprintf(f, "<td>%d [%d, %d]</td>", m->rank_med[l], m->rank_min[l], m->rank_max[l]);
            else fputs("<td>&ndash;</td>", f);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

int fl_razor_write_html(const char *dir, const fl_razor_analysis *a, const char *const *figures, int nfig) {
    char *path = fl_path_join(dir, "index.html"), *tmp = NULL;
    if (!path) return fl_error_set("out of memory");
    size_t len = 0;
    FILE *f = open_memstream(&tmp, &len);
    if (!f) {
        free(path);
        return fl_error_set("out of memory");
    }
    fl_html_head(f, a->kind->title, "img{max-width:100%}.figs{display:grid;grid-template-columns:1fr 1fr;gap:1em}");
    fprintf(f, "<h1>%s</h1>\n<p>%d checkpoints of %d runs from %d seed%s (each seed its own base model), in "
            "results.sqlite. %s</p>\n", a->kind->title, a->pts.n, a->pts.nruns, a->nseeds, a->nseeds > 1 ? "s" : "",
            a->kind->about);
    fputs("<h2>Figures</h2><div class=\"figs\">\n", f);
    for (int i = 0; i < nfig; i++)
        fprintf(f, "<a href=\"%s.svg\"><img src=\"%s.png\" alt=\"%s\"></a>\n", figures[i], figures[i], figures[i]);
    fputs("</div>\n", f);
    predictor_tables(f, a);
    method_tables(f, a);
    fputs("<p>Data: <a href=\"results.csv\">results.csv</a> (every checkpoint), "
          "<a href=\"predictors.csv\">predictors.csv</a>, "
          "<a href=\"predictors_by_lr.csv\">predictors_by_lr.csv</a>, <a href=\"frontier.csv\">frontier.csv</a>, "
          "<a href=\"methods.csv\">methods.csv</a>, results.sqlite.</p>\n</body></html>\n", f);
    fclose(f);
    int rc = fl_write_text_atomic(path, tmp);
    free(tmp);
    free(path);
    return rc;
}
