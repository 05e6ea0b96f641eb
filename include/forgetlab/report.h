/* report.h: the fitted figures of a study and the report built from them
 * (plots in PNG and SVG, index.html). */
#ifndef FORGETLAB_REPORT_H
#define FORGETLAB_REPORT_H

#include "forgetlab/results.h"
#include "forgetlab/stats.h"

/* How well one predictor explains forgetting: the pooled degree-2 fit. */
typedef struct {
    const char *name;
    const char *side;   /* "new": measured on the new task's inputs or on the weights;
                           "outcome": on the prior task's own test images, whose
                           accuracy defines forgetting (a restatement, not a predictor) */
    fl_r2_ci ci;
    double coef[3];     /* forgetting ~ coef[0] + coef[1] x + coef[2] x^2 */
    double spearman;    /* rank correlation with forgetting: the sign R^2 hides */
} fl_predictor_fit;

/* One method's frontier of (new_acc, prior_acc): points within 2 accuracy
 * points of the non-dominated set, fitted by prior = a + b exp(c new). */
typedef struct {
    char method[32];
    double p[3];        /* a, b, c */
    double lo, hi;      /* new-task accuracy range of the kept points */
    int n, n_kept;
    double rss;
} fl_frontier_fit;

#define FL_MATCH_LEVELS 4
#define FL_MAX_PREDICTORS 24
#define FL_MAX_METHODS 16

/* The whole analysis of a razor study, as the report draws it. */
typedef struct {
    fl_points pts;
    fl_predictor_fit pred[FL_MAX_PREDICTORS];
    int npred;
    fl_frontier_fit front[FL_MAX_METHODS];
    int nfront;
    /* Prior-task accuracy kept at matched new-task accuracy: for each
     * method, the best prior_acc among its checkpoints with new_acc >=
     * match_level[j] (NaN if it never gets there). */
    double match_level[FL_MATCH_LEVELS];
    double matched[FL_MAX_METHODS][FL_MATCH_LEVELS];
} fl_razor_analysis;

/* Fills fits (room for FL_MAX_PREDICTORS) and returns their number, or -1. */
int fl_razor_predictors(const fl_points *p, fl_predictor_fit *fits);
/* One fit per method present, at most max; returns the count. */
int fl_razor_frontiers(const fl_points *p, fl_frontier_fit *fits, int max);

/* The paper's R^2 for a predictor (Table 1, ParityMNIST), NaN if absent. */
double fl_paper_r2(const char *name);

/* The analysis of a razor study from DIR/results.sqlite: results.csv,
 * predictors.csv, frontier.csv, the plots and index.html; prints the
 * predictor and matched-accuracy tables. */
int fl_razor_analyse(const char *dir);

/* The plots of a finished or running grok directory, from metrics.jsonl
 * and model.safetensors: curves (accuracy and loss over epochs), progress
 * measures, circuit stability over its baseline, the embedding's Fourier
 * spectrum. */
int fl_grok_plots(const char *dir);

/* Plots and index.html of a razor study directory. */
int fl_razor_report(const char *dir, const fl_razor_analysis *a);

/* index.html: figures (names without extension, PNG shown, SVG linked) and
 * the predictor, matched-accuracy and frontier tables. */
int fl_razor_write_html(const char *dir, const fl_razor_analysis *a, const char *const *figures, int nfig);

#endif
