/* budget.c: the forgetting budget's bookkeeping during a fine-tuning run
 * (budget.h): the kept checkpoint, the stop, and what config.json and
 * summary.json say about them. The model-specific parts (measuring the
 * KL, saving the kept weights) stay with each fine-tuning command. */
#include "forgetlab/train/budget.h"

#include "forgetlab/core/error.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_budget_init(fl_budget_state *b, const float *base_params, size_t n) {
    memset(b, 0, sizeof *b);
    b->ckpt = -1;
    if (!(b->params = malloc(n * sizeof(float)))) return fl_error_set("budget: out of memory for %zu weights", n);
    memcpy(b->params, base_params, n * sizeof(float));
    b->n = n;
    return 0;
}

void fl_budget_free(fl_budget_state *b) {
    free(b->params);
    memset(b, 0, sizeof *b);
}

int fl_budget_check(fl_budget_state *b, const fl_budget_spec *s, const float *params, double kl, long ckpt, long step,
                    double epoch) {
    /* A KL that is not a number passes no budget. */
    if (!(kl <= s->kl_budget)) {
        b->stopped = 1;
        return 1;
    }
    memcpy(b->params, params, b->n * sizeof(float));
    b->ckpt = ckpt, b->step = step, b->epoch = epoch, b->kl = kl;
    return 0;
}

void fl_budget_attach(fl_budget_entries *e, fl_budget_state *b, fl_trainstate *st, fl_trainstate_long *longs) {
    e->weights[0] = (fl_trainstate_floats){"budget_kept", b->params, b->n};
    e->at[0] = (fl_trainstate_long){"budget_kept_checkpoint", &b->ckpt};
    e->at[1] = (fl_trainstate_long){"budget_kept_step", &b->step};
    e->at[2] = (fl_trainstate_long){"budget_stopped", &b->stopped};
    e->where[0] = (fl_trainstate_double){"budget_kept_epoch", &b->epoch};
    e->where[1] = (fl_trainstate_double){"budget_kept_kl", &b->kl};
    for (int i = 0; i < FL_BUDGET_NLONGS; i++) longs[st->nlongs++] = e->at[i];
    st->longs = longs;
    st->doubles = e->where, st->ndoubles = 2;
    st->floats = e->weights, st->nfloats = 1;
}

void fl_budget_config_json(cJSON *cfg, const fl_budget_spec *s) {
    if (!(s->kl_budget > 0)) return;
    cJSON_AddNumberToObject(cfg, "kl_budget", s->kl_budget);
    if (!s->forecast) return;
    cJSON_AddNumberToObject(cfg, "max_forgetting", s->max_forgetting);
    cJSON_AddNumberToObject(cfg, "budget_level", FL_FORECAST_LEVELS[s->level]);
    cJSON_AddStringToObject(cfg, "calibration", s->calibration ? s->calibration : "");
}

static void number_or_null(cJSON *o, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

void fl_budget_summary_json(cJSON *sum, const fl_budget_spec *s, const fl_budget_state *b) {
    if (!(s->kl_budget > 0)) return;
    cJSON_AddNumberToObject(sum, "kl_budget", s->kl_budget);
    cJSON_AddBoolToObject(sum, "stopped_by_budget", b->stopped != 0);
    cJSON_AddNumberToObject(sum, "kept_checkpoint", (double)b->ckpt);
    cJSON_AddNumberToObject(sum, "kept_step", b->ckpt < 0 ? 0 : (double)b->step);
    cJSON_AddNumberToObject(sum, "kept_epoch", b->ckpt < 0 ? 0 : b->epoch);
    cJSON_AddNumberToObject(sum, "kept_forward_kl", b->ckpt < 0 ? 0 : b->kl);
    double f = NAN, lo = NAN, hi = NAN;
    if (s->forecast) f = fl_forecast_at(s->forecast, b->ckpt < 0 ? 0 : b->kl, s->level, &lo, &hi);
    number_or_null(sum, "forecast", f);
    number_or_null(sum, "forecast_lo", lo);
    number_or_null(sum, "forecast_hi", hi);
    number_or_null(sum, "budget_level", s->forecast ? FL_FORECAST_LEVELS[s->level] : NAN);
    number_or_null(sum, "max_forgetting", s->forecast ? s->max_forgetting : NAN);
}

void fl_budget_progress(const fl_budget_spec *s, double kl, char *buf, size_t n) {
    if (s->kl_budget > 0) snprintf(buf, n, " KL %.4g / %.4g", kl, s->kl_budget);
    else if (n) buf[0] = '\0';
}
