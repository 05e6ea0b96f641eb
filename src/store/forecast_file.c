/* forecast_file.c: forecast.json and forecast.csv (forecast_file.h). The
 * JSON holds everything a budget needs; reading it back checks each part,
 * since a budget built on a damaged curve would promise what it cannot. */
#include "forgetlab/store/forecast_file.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *score_json(const fl_forecast_score *s) {
    cJSON *o = cJSON_CreateObject(), *cov = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", s->n);
    cJSON_AddNumberToObject(o, "mae", s->mae);
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
        char key[16];
        snprintf(key, sizeof key, "%.2f", FL_FORECAST_LEVELS[l]);
        cJSON_AddNumberToObject(cov, key, s->coverage[l]);
    }
    cJSON_AddItemToObject(o, "coverage", cov);
    return o;
}

static cJSON *to_json(const fl_forecast_file *ff) {
    const fl_forecast *fc = &ff->fc;
    cJSON *j = cJSON_CreateObject(), *levels = cJSON_CreateArray(), *q = cJSON_CreateArray();
    cJSON_AddStringToObject(j, "setting", ff->setting);
    cJSON_AddStringToObject(j, "model", ff->model);
    cJSON_AddStringToObject(j, "predictor", ff->predictor);
    cJSON_AddStringToObject(j, "target", "forgetting");
    cJSON_AddStringToObject(j, "curve", "isotonic (non-decreasing) fit of forgetting on the predictor");
    cJSON_AddStringToObject(j, "interval", "split-conformal, whole runs held out, scores |error| / scale(x), "
                                           "each run weighing 1");
    cJSON_AddNumberToObject(j, "n_checkpoints", fc->n);
    cJSON_AddNumberToObject(j, "n_runs", fc->nruns);
    cJSON_AddNumberToObject(j, "x_min", fc->x_min);
    cJSON_AddNumberToObject(j, "x_max", fc->x_max);
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
        cJSON_AddItemToArray(levels, cJSON_CreateNumber(FL_FORECAST_LEVELS[l]));
        /* Too few runs for a level: no finite quantile, written as null. */
        cJSON_AddItemToArray(q, isfinite(fc->q[l]) ? cJSON_CreateNumber(fc->q[l]) : cJSON_CreateNull());
    }
    cJSON_AddItemToObject(j, "levels", levels);
    cJSON_AddItemToObject(j, "q", q);
    cJSON *knots = cJSON_CreateObject();
    cJSON_AddItemToObject(knots, "x", cJSON_CreateDoubleArray(fc->x, fc->m));
    cJSON_AddItemToObject(knots, "forgetting", cJSON_CreateDoubleArray(fc->f, fc->m));
    cJSON_AddItemToObject(knots, "scale", cJSON_CreateDoubleArray(fc->s, fc->m));
    cJSON_AddItemToObject(j, "knots", knots);
    cJSON *h = score_json(&ff->all), *bm = cJSON_CreateObject();
    for (int k = 0; k < ff->nmeth; k++) cJSON_AddItemToObject(bm, ff->method[k], score_json(&ff->by_method[k]));
    cJSON_AddItemToObject(h, "by_method", bm);
    cJSON_AddItemToObject(j, "leave_one_run_out", h);
    return j;
}

static int write_csv(const char *dir, const fl_forecast *fc) {
    size_t cap = 256 + (size_t)fc->m * 160, len = 0;
    char *buf = malloc(cap), *path = fl_path_join(dir, "forecast.csv");
    int rc = -1;
    if (!buf || !path) {
        fl_error_set("out of memory");
        goto out;
    }
    len += (size_t)snprintf(buf + len, cap - len, "forward_kl,forgetting");
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
        const int pct = (int)lround(100 * FL_FORECAST_LEVELS[l]);
        len += (size_t)snprintf(buf + len, cap - len, ",lo%d,hi%d", pct, pct);
    }
    len += (size_t)snprintf(buf + len, cap - len, "\n");
    for (int i = 0; i < fc->m; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%.9g,%.9g", fc->x[i], fc->f[i]);
        for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
            const double h = fc->q[l] * fc->s[i];
            if (isfinite(h)) len += (size_t)snprintf(buf + len, cap - len, ",%.9g,%.9g", fc->f[i] - h, fc->f[i] + h);
            else len += (size_t)snprintf(buf + len, cap - len, ",,");
        }
        len += (size_t)snprintf(buf + len, cap - len, "\n");
    }
    rc = fl_write_text_atomic(path, buf);
out:
    free(buf), free(path);
    return rc;
}

int fl_forecast_save(const char *dir, const fl_forecast_file *ff) {
    cJSON *j = to_json(ff);
    char *text = j ? cJSON_Print(j) : NULL, *path = fl_path_join(dir, "forecast.json");
    int rc = !text || !path ? fl_error_set("out of memory") : fl_write_text_atomic(path, text);
    cJSON_Delete(j);
    free(text), free(path);
    return rc ? rc : write_csv(dir, &ff->fc);
}

/* A numeric array of n entries into a fresh buffer; -1 when it is not. */
static int numbers(const cJSON *a, int n, double **out) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return -1;
    if (!(*out = malloc((size_t)(n > 0 ? n : 1) * sizeof(double)))) return -1;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) return -1;
        (*out)[i] = e->valuedouble;
    }
    return 0;
}

static int copy_string(const cJSON *j, const char *key, char *dst, size_t n) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsString(s) || strlen(s->valuestring) >= n) return -1;
    strcpy(dst, s->valuestring);
    return 0;
}

/* The curve, its scale and quantiles: what a budget reads. */
static const char *from_json(const cJSON *j, fl_forecast_file *ff) {
    fl_forecast *fc = &ff->fc;
    if (copy_string(j, "setting", ff->setting, sizeof ff->setting) ||
        copy_string(j, "model", ff->model, sizeof ff->model) ||
        copy_string(j, "predictor", ff->predictor, sizeof ff->predictor))
        return "no setting, model or predictor";
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "levels"), *q = cJSON_GetObjectItemCaseSensitive(j, "q");
    double *levels = NULL;
    int bad = numbers(lv, FL_FORECAST_NLEVELS, &levels);
    for (int l = 0; !bad && l < FL_FORECAST_NLEVELS; l++) bad = fabs(levels[l] - FL_FORECAST_LEVELS[l]) > 1e-9;
    free(levels);
    if (bad) return "levels are not 0.80, 0.90, 0.95";
    if (!cJSON_IsArray(q) || cJSON_GetArraySize(q) != FL_FORECAST_NLEVELS) return "no quantile per level";
    int l = 0;
    for (const cJSON *e = q->child; e; e = e->next, l++) {
        if (cJSON_IsNull(e)) fc->q[l] = INFINITY;
        else if (cJSON_IsNumber(e) && e->valuedouble >= 0 && isfinite(e->valuedouble)) fc->q[l] = e->valuedouble;
        else return "a quantile that is not a non-negative number";
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "knots");
    const cJSON *kx = cJSON_GetObjectItemCaseSensitive(k, "x");
    fc->m = cJSON_IsArray(kx) ? cJSON_GetArraySize(kx) : 0;
    if (fc->m < 1 || numbers(kx, fc->m, &fc->x) ||
        numbers(cJSON_GetObjectItemCaseSensitive(k, "forgetting"), fc->m, &fc->f) ||
        numbers(cJSON_GetObjectItemCaseSensitive(k, "scale"), fc->m, &fc->s))
        return "knots missing, of different lengths or not numbers";
    for (int i = 0; i < fc->m; i++)
        if ((i > 0 && !(fc->x[i] > fc->x[i - 1] && fc->f[i] >= fc->f[i - 1])) || !(fc->s[i] > 0))
            return "knots out of order (the curve must rise with x, its scale be positive)";
    fc->x_min = fc->x[0], fc->x_max = fc->x[fc->m - 1];
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "n_checkpoints"),
                *r = cJSON_GetObjectItemCaseSensitive(j, "n_runs");
    if (!cJSON_IsNumber(n) || !cJSON_IsNumber(r) || r->valueint < 2) return "no checkpoint and run counts";
    fc->n = n->valueint, fc->nruns = r->valueint;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "leave_one_run_out");
    const cJSON *mae = cJSON_GetObjectItemCaseSensitive(h, "mae"), *cov = cJSON_GetObjectItemCaseSensitive(h, "coverage");
    ff->all.mae = cJSON_IsNumber(mae) ? mae->valuedouble : NAN;
    for (l = 0; l < FL_FORECAST_NLEVELS; l++) {
        char key[16];
        snprintf(key, sizeof key, "%.2f", FL_FORECAST_LEVELS[l]);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(cov, key);
        ff->all.coverage[l] = cJSON_IsNumber(c) ? c->valuedouble : NAN;
    }
    return NULL;
}

int fl_forecast_load(const char *path, fl_forecast_file *ff) {
    memset(ff, 0, sizeof *ff);
    char *file = NULL, *text = NULL;
    size_t len = 0;
    const size_t pl = strlen(path);
    const int is_json = pl >= 5 && strcmp(path + pl - 5, ".json") == 0;
    if (!(file = is_json ? strdup(path) : fl_path_join(path, "forecast.json"))) return fl_error_set("out of memory");
    if (!fl_file_exists(file)) {
        fl_error_set("%s: no forecast (a study of this version writes forecast.json when it finishes)", file);
        free(file);
        return -1;
    }
    int rc = fl_read_file(file, &text, &len);
    cJSON *j = rc ? NULL : cJSON_ParseWithLength(text, len);
    const char *why = rc ? NULL : !j ? "not JSON (truncated?)" : from_json(j, ff);
    if (!rc && why) rc = fl_error_set("%s: %s", file, why);
    if (rc) fl_forecast_file_free(ff);
    cJSON_Delete(j);
    free(text), free(file);
    return rc;
}

void fl_forecast_file_free(fl_forecast_file *ff) { fl_forecast_free(&ff->fc); }
