/* razor_forecast.c: a study's forgetting forecast from the forward KL on
 * the new task's inputs (forecast.h): fitted on every checkpoint, judged
 * on held-out runs overall and method by method, written as forecast.json
 * and forecast.csv beside predictors.csv. */
#include "forgetlab/report/razor.h"

#include "forgetlab/core/error.h"
#include "forgetlab/store/forecast_file.h"
#include "forgetlab/store/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_razor_forecast(const char *dir, const fl_razor_analysis *a, FILE *out) {
    const fl_points *p = &a->pts;
    const int fx = fl_points_field(p, "forward_kl_new"), fy = fl_points_field(p, "forgetting");
    if (fx < 0 || fy < 0) return 0; /* a kind of study without the predictor: no forecast */
    fl_forecast_file *ff = calloc(1, sizeof *ff);
    double *x = malloc((size_t)p->n * sizeof(double)), *y = malloc((size_t)p->n * sizeof(double));
    double *held = malloc((size_t)p->n * sizeof(double));
    double (*half)[FL_FORECAST_NLEVELS] = malloc((size_t)p->n * sizeof *half);
    int rc = -1;
    if (!ff || !x || !y || !held || !half) {
        fl_error_set("out of memory");
        goto out;
    }
    for (int i = 0; i < p->n; i++) x[i] = p->vals[i][fx], y[i] = p->vals[i][fy];
    if (fl_forecast_fit(x, y, p->run, p->n, &ff->fc, held, half)) {
        /* Too little to calibrate on (a study of one run): said, not fatal. */
        if (out) fprintf(out, "\nno forgetting forecast: %s\n", fl_error_msg());
        rc = 0;
        goto out;
    }
    snprintf(ff->setting, sizeof ff->setting, "%s", a->kind->kind);
    snprintf(ff->model, sizeof ff->model, "%s", a->model);
    snprintf(ff->predictor, sizeof ff->predictor, "forward_kl_new");
    ff->all = fl_forecast_score_of(y, held, (const double(*)[FL_FORECAST_NLEVELS])half, NULL, 0, p->n);
    for (int m = 0; m < a->nmeth && m < FL_FORECAST_MAX_METHODS; m++) {
        snprintf(ff->method[m], sizeof ff->method[m], "%s", a->meth[m].method);
        ff->by_method[m] = fl_forecast_score_of(y, held, (const double(*)[FL_FORECAST_NLEVELS])half, a->group, m, p->n);
        ff->nmeth = m + 1;
    }
    if (fl_forecast_save(dir, ff)) goto out;
    if (out)
        fprintf(out, "\nforgetting forecast from forward KL (forecast.json), whole runs held out: MAE %.4f, "
                     "coverage %.3f / %.3f / %.3f at 80 / 90 / 95%% over %d checkpoints of %d runs\n",
                ff->all.mae, ff->all.coverage[0], ff->all.coverage[1], ff->all.coverage[2], ff->all.n, ff->fc.nruns);
    rc = 0;
out:
    if (ff) fl_forecast_file_free(ff);
    free(ff), free(x), free(y), free(held), free(half);
    return rc;
}
