/* razor.h: the analysis of an RL's Razor study (`study razor` and `study
 * lm`: razor.c, razor_methods.c) and its report (razor_plots.c,
 * razor_html.c): the fitted figures and the plots and index.html built
 * from them. */
#ifndef FORGETLAB_RAZOR_H
#define FORGETLAB_RAZOR_H

#include <stdio.h>

#include "forgetlab/store/results.h"
#include "forgetlab/measure/stats.h"

#define FL_MAX_LRS 16

/* How well one predictor explains forgetting: the degree-2 fit pooled over
 * every method, its interval over resampled runs (and seeds), and the
 * same fit scored on each method held out from it; the fit on the
 * checkpoints in the claim's regime only, within each learning rate, and
 * what it explains beyond the learning rate. */
typedef struct {
    const char *name;
    const char *side;   /* "new": measured on the new task's inputs or on the weights;
                           "outcome": on the prior task's own test images, whose
                           accuracy defines forgetting (a restatement, not a predictor) */
    fl_r2_ci ci;        /* pooled */
    fl_r2_ci lomo;      /* leave-one-method-out (fl_poly2_r2_lomo) */
    double coef[3];     /* forgetting ~ coef[0] + coef[1] x + coef[2] x^2 */
    double xmin, xmax;  /* the range of x it was fitted on */
    double spearman;    /* rank correlation with forgetting: the sign R^2 hides */
    fl_r2_ci regime;    /* on the in-regime checkpoints (fl_razor_analysis.regime) */
    fl_r2_ci by_lr[FL_MAX_LRS];  /* on each learning rate's checkpoints (lrs) */
    fl_estimate partial_lr;      /* partial R^2 with the learning rate as a factor (fl_poly2_r2_partial) */
    fl_estimate vs_best;         /* held-out R^2 minus the leading new-side predictor's, paired
                                    (fl_razor_vs_best; NaN for it and the outcome side) */
} fl_predictor_fit;

#define FL_MATCH_LEVELS 4
#define FL_MAX_PREDICTORS 40
#define FL_MAX_METHODS 16

/* One method in the study. Frontier: its checkpoints within 2 accuracy
 * points of the non-dominated (new_acc, prior_acc) set, fitted by a
 * non-increasing isotonic curve (fx, fy), compared by the area under it
 * over the new-task range every method reaches; the paper's exponential
 * prior = a + b exp(c new) beside it, meaningful only when exp_ok. */
typedef struct {
    char method[32];
    int n, n_kept, nruns;
    double *fx, *fy;
    int m;
    double lo, hi;          /* new-task accuracy range of the kept points */
    fl_estimate area;       /* over [range_lo, range_hi] of the analysis */
    double p[3], rss;
    int exp_ok;
    fl_r2_ci kl_r2;         /* forgetting on forward KL, this method's points only */
    /* The best new-task figure any of its checkpoints reaches, and as a
     * fraction of grpo's (NaN without grpo): below FL_REGIME_LEARNT, the
     * method never learnt the task as RL does (outside the paper's regime);
     * and its gain over the bases' mean as a fraction of grpo's gain, which
     * does not credit what the bases already do. */
    double best_new, best_vs_grpo, gain_vs_grpo;
    fl_estimate gap_others; /* mean forgetting above the other methods' forward-KL curve */
    fl_estimate gap_sft1;   /* ... above sft1's curve (NaN for sft1 itself) */
    /* Prior-task accuracy at matched new-task accuracy: the best prior_acc
     * among checkpoints with new_acc >= match_level[j] (NaN if none). */
    fl_estimate matched[FL_MATCH_LEVELS];
    /* The numerical rank of each layer's update at the end of its runs:
     * median, min and max over runs, and the most it could be. */
    int nlayers, rank_med[FL_MLP_MAX_LAYERS], rank_min[FL_MLP_MAX_LAYERS], rank_max[FL_MLP_MAX_LAYERS];
} fl_method_fit;

/* The best on-policy method (grpo, grpo-kl, reinforce, rft) against the
 * best SFT one (sft, sft1, sft2, sft-alt, sft-teacher, sft-any, distill) on
 * one measure, each chosen by its point estimate: the frontier area
 * (level NaN) or the prior accuracy at a matched new-task level. The gap
 * (on-policy minus SFT) and its interval come from one paired resampling:
 * both sides on the same drawn seeds and runs, so the interval is the
 * difference's own, not two intervals set side by side. */
typedef struct {
    const char *measure; /* "frontier_area" or "prior_at" */
    double level;
    int rl, sft;         /* indices into fl_razor_analysis.meth */
    fl_estimate on_rl, on_sft, gap; /* each side's measure (its own interval), and the gap */
} fl_family_gap;

/* What a study's report calls its tasks and methods: the razor study
 * (ParityMNIST -> FashionMNIST) or the language model's (lm). */
typedef struct {
    const char *kind;          /* results.sqlite's study key "kind" ("razor" when absent) */
    const char *new_field;     /* the new-task figure the frontier and matching use, and its base's */
    const char *new_base_field;
    const char *title;         /* index.html's heading */
    const char *about;         /* index.html's sentence on forgetting and the tasks */
    const char *new_axis, *prior_axis; /* the frontier's axes */
    const char *kl_axis;       /* forgetting-vs-KL's x axis */
    const char *cs_axis;       /* circuit stability's y axis */
    const char *ref_method;    /* the reference SFT whose curve others are compared to */
    const char *const *order;  /* methods in a fixed order (colours) */
    int norder;
    const char *paper_label;   /* the paper's R^2 bars */
    int auto_levels;           /* matched new-task levels from the bases' value to the best any method reaches */
    const char *prior_field, *prior_base_field; /* the prior task's figure (forgetting is its drop) and its base's */
    const char *cs_field, *cs_random_field;     /* circuit stability of the prior task and its random-split baseline */
    const char *outcome_data;  /* index.html: what the outcome-side measures are taken on */
} fl_study_kind;
/* The kind named (NULL or "": razor); NULL when unknown. */
const fl_study_kind *fl_study_kind_get(const char *kind);

/* The whole analysis of a razor study, as the report draws it. */
typedef struct {
    const fl_study_kind *kind;
    fl_points pts;
    int *group;                  /* each point's method: an index into meth */
    /* The claim's regime: a checkpoint that learnt the new task (new_field
     * at least FL_REGIME_GAIN above its base's) and kept the prior one
     * (prior accuracy at least FL_REGIME_PRIOR). */
    unsigned char *regime;
    int *lr_group;               /* each point's learning rate: an index into lrs */
    double lrs[FL_MAX_LRS];      /* ascending */
    int nlrs;
    int nseeds;
    fl_predictor_fit pred[FL_MAX_PREDICTORS];
    int npred;
    int best_pred;               /* the new-side predictor with the highest held-out R^2 (-1: none) */
    fl_method_fit meth[FL_MAX_METHODS];
    int nmeth;
    double range_lo, range_hi;   /* the new-task accuracy every method's frontier covers */
    double match_level[FL_MATCH_LEVELS];
    fl_family_gap fam[1 + FL_MATCH_LEVELS]; /* on-policy against SFT, where a study has both */
    int nfam;
    int full_rank[FL_MLP_MAX_LAYERS], nlayers; /* min(rows, cols) of each layer */
    char model[160];             /* the base's architecture (fl_mlp_spec_string; "" when not on disk) */
} fl_razor_analysis;

#define FL_REGIME_GAIN 0.05
#define FL_REGIME_PRIOR 0.5
#define FL_REGIME_LEARNT 0.8
/* Each point's regime and learning rate (a->regime, a->lr_group, a->lrs),
 * then every predictor's fits into a->pred (its method in a->group for
 * leave-one-method-out); -1 on failure. */
int fl_razor_predictors(fl_razor_analysis *a);
/* Each new-side predictor's held-out R^2 (leave-one-method-out where the
 * study has it, else pooled) minus the leading one's, both on the same
 * resampled runs of the points where both are measured: a->best_pred and
 * every pred[k].vs_best (razor_rank.c); -1 on failure. */
int fl_razor_vs_best(fl_razor_analysis *a);
/* forecast.json and forecast.csv: forgetting forecast from forward_kl_new
 * with intervals and its held-out honesty (razor_forecast.c); a line of it
 * to out (optional). A study too small to calibrate on gets none. */
int fl_razor_forecast(const char *dir, const fl_razor_analysis *a, FILE *out);
/* The per-method part of the analysis (frontiers, per-method fits,
 * matched accuracy, ranks) into a->meth, and the on-policy against SFT
 * gaps into a->fam; -1 on failure. */
int fl_razor_methods(fl_razor_analysis *a);
void fl_razor_analysis_free(fl_razor_analysis *a);

/* Options of the report's figures. */
typedef struct {
    int per_method_fits;  /* forgetting vs KL: each method's own quadratic too */
    int log_x;            /* forgetting vs KL on a logarithmic KL axis */
} fl_razor_report_opts;

/* The paper's R^2 for a predictor in a kind of study (Table 1 for
 * ParityMNIST; the language models' forward KL), NaN if absent. */
double fl_paper_r2(const fl_study_kind *k, const char *name);

/* The analysis of a razor study from DIR/results.sqlite: results.csv,
 * predictors.csv, frontier.csv, methods.csv, rl_vs_sft.csv, the plots and index.html;
 * the predictor and method tables written to out (the CLI's stdout; NULL:
 * not written). opts NULL: the defaults. */
int fl_razor_analyse(const char *dir, const fl_razor_report_opts *opts, FILE *out);

/* Plots and index.html of a razor study directory. */
int fl_razor_report(const char *dir, const fl_razor_analysis *a, const fl_razor_report_opts *opts);

/* index.html: figures (names without extension, PNG shown, SVG linked) and
 * the predictor, matched-accuracy and frontier tables. */
int fl_razor_write_html(const char *dir, const fl_razor_analysis *a, const char *const *figures, int nfig);

/* The grok-forget study's life figures (grokforget_plots.c): for seed 0's
 * base and each of sft1, oracle and grpo, its best run: life_<method>.png
 * and .svg in dir. */
int fl_gf_life_plots(const char *dir, fl_results *db);

#endif
