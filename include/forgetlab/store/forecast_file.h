/* forecast_file.h: a study's forgetting forecast on disk (docs/budget.md):
 * forecast.json (the curve's knots, the conformal quantiles, the held-out
 * runs' error and coverage, and what the forecast is of: the setting and
 * the base's architecture, so that a budget is never taken from another
 * kind of model) and forecast.csv (the curve and its intervals, for
 * people). */
#ifndef FORGETLAB_FORECAST_FILE_H
#define FORGETLAB_FORECAST_FILE_H

#include "forgetlab/measure/forecast.h"

#define FL_FORECAST_MAX_METHODS 16

typedef struct {
    fl_forecast fc;
    char setting[32];   /* the study's kind: razor, lm, grok-forget */
    char model[160];    /* the base's architecture ("" when the study has none on disk) */
    char predictor[40]; /* forward_kl_new */
    fl_forecast_score all;
    int nmeth;
    char method[FL_FORECAST_MAX_METHODS][32];
    fl_forecast_score by_method[FL_FORECAST_MAX_METHODS];
} fl_forecast_file;

/* DIR/forecast.json and DIR/forecast.csv, each written atomically. */
int fl_forecast_save(const char *dir, const fl_forecast_file *ff);
/* From a study directory or a forecast.json; a missing, truncated or
 * inconsistent file is an error that names it. */
int fl_forecast_load(const char *path, fl_forecast_file *ff);
void fl_forecast_file_free(fl_forecast_file *ff);

#endif
