/* budget.h: fine-tuning within a forgetting budget (docs/budget.md). The
 * budget is a largest forward KL on the new task's inputs, given as such
 * (--max-forward-kl) or from a forgetting limit F and a study's forecast
 * (--max-forgetting F --calibration STUDY: the largest KL whose upper
 * bound at the level asked stays <= F). At every checkpoint the run
 * measures that KL, on the new task's inputs alone, keeps the checkpoint
 * while it is within the budget and stops at the first one past it; the
 * last one kept is the run's model. */
#ifndef FORGETLAB_BUDGET_H
#define FORGETLAB_BUDGET_H

#include "forgetlab/measure/forecast.h"
#include "forgetlab/store/trainstate.h"

#include <stddef.h>

struct cJSON;

typedef struct {
    double kl_budget;            /* > 0: a budgeted run */
    const fl_forecast *forecast; /* the calibration's (NULL: --max-forward-kl alone) */
    int level;                   /* the bound's index in FL_FORECAST_LEVELS */
    double max_forgetting;       /* the limit asked (NaN: --max-forward-kl alone) */
    const char *calibration;     /* the study the forecast is from */
} fl_budget_spec;

/* The last checkpoint within the budget: the base (ckpt -1) until one is. */
typedef struct {
    float *params;
    size_t n;
    long ckpt, step;
    double epoch, kl;
    long stopped;                /* a checkpoint passed the budget */
} fl_budget_state;

int fl_budget_init(fl_budget_state *b, const float *base_params, size_t n);
void fl_budget_free(fl_budget_state *b);
/* Checkpoint ckpt's KL against the budget: within it, its parameters are
 * kept (0); past it, the run is to stop (1, b->stopped set). */
int fl_budget_check(fl_budget_state *b, const fl_budget_spec *s, const float *params, double kl, long ckpt, long step,
                    double epoch);
/* What of b a resumable run saves in its state (trainstate.h), so that a
 * killed run, rerun, keeps what it had kept: the kept weights, where and
 * at what KL they were, and whether the run has stopped. */
#define FL_BUDGET_NLONGS 3
typedef struct {
    fl_trainstate_floats weights[1];
    fl_trainstate_long at[FL_BUDGET_NLONGS]; /* kept checkpoint and step; stopped */
    fl_trainstate_double where[2];           /* kept epoch and KL */
} fl_budget_entries;
/* Adds b's entries (held in e) to the state st describes: after its
 * st->nlongs counters in longs, which has room for FL_BUDGET_NLONGS more,
 * and as its doubles and float arrays. */
void fl_budget_attach(fl_budget_entries *e, fl_budget_state *b, fl_trainstate *st, fl_trainstate_long *longs);
/* The budget's settings, for config.json (only budgeted runs have them). */
void fl_budget_config_json(struct cJSON *cfg, const fl_budget_spec *s);
/* summary.json's budget fields: kl_budget, stopped_by_budget, the kept
 * checkpoint (kept_checkpoint -1: the base), its KL, and its forecast with
 * interval at the budget's level (null without a calibration). */
void fl_budget_summary_json(struct cJSON *sum, const fl_budget_spec *s, const fl_budget_state *b);
/* The progress line's "KL x / budget". */
void fl_budget_progress(const fl_budget_spec *s, double kl, char *buf, size_t n);

#endif
