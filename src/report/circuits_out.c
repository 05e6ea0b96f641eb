/* circuits_out.c: writes what `forgetlab circuits` measured (see
 * circuits_out.h): arrays for NumPy, JSON for people and scripts, and the
 * Spearman heatmap. */
#include "forgetlab/report/circuits_out.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/report/plot.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/measure/stats.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NaN is not JSON: it is written as null. */
static cJSON *number_or_null(double x) { return x == x ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }

static cJSON *summary_json(const fl_circuits_result *r, const int *cls, int ncls) {
    cJSON *sum = cJSON_CreateObject();
    cJSON_AddItemToObject(sum, "cs", number_or_null(r->stats->cs));
    cJSON_AddItemToObject(sum, "cs_random", number_or_null(r->stats->random.mean));
    cJSON_AddItemToObject(sum, "cs_random_lo", number_or_null(r->stats->random.lo));
    cJSON_AddItemToObject(sum, "cs_random_hi", number_or_null(r->stats->random.hi));
    cJSON_AddNumberToObject(sum, "baseline_draws", r->stats->random.draws);
    cJSON *classes = cJSON_AddArrayToObject(sum, "classes");
    for (int c = 0; c < ncls; c++) {
        cJSON *one = cJSON_CreateArray();
        for (int s = 0; s < r->k; s++)
            if (cls[s] == c) cJSON_AddItemToArray(one, cJSON_CreateString(r->names[s]));
        cJSON_AddItemToArray(classes, one);
    }
    cJSON_AddNumberToObject(sum, "threshold", r->threshold);
    cJSON_AddItemToObject(sum, "subtasks", cJSON_CreateStringArray(r->names, r->k));
    cJSON_AddItemToObject(sum, "examples", cJSON_CreateIntArray(r->count, r->k));
    cJSON_AddNumberToObject(sum, "components", r->nc);
    return sum;
}

static cJSON *config_json(const fl_circuits_result *r) {
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "command", "circuits");
    cJSON_AddStringToObject(cfg, "version", FORGETLAB_VERSION);
    cJSON_AddStringToObject(cfg, "model", r->model_path);
    cJSON_AddStringToObject(cfg, "spec", r->spec);
    cJSON_AddStringToObject(cfg, "task", r->task);
    cJSON_AddStringToObject(cfg, "subtasks", r->subtasks);
    cJSON_AddStringToObject(cfg, "method", r->method);
    if (r->opts->ig_steps) cJSON_AddNumberToObject(cfg, "steps", r->opts->ig_steps);
    if (r->opts->ig_steps && !strcmp(r->method, "ap-ig"))
        cJSON_AddStringToObject(cfg, "ig_form", r->opts->ig_form == FL_IG_PATH ? "path" : "average");
    cJSON_AddStringToObject(cfg, "corrupt", fl_ap_corrupt_name(r->opts->corrupt));
    cJSON_AddStringToObject(cfg, "loss", fl_ap_loss_name(r->opts->loss));
    cJSON_AddNumberToObject(cfg, "examples", (double)r->examples);
    cJSON_AddNumberToObject(cfg, "seed", (double)r->seed);
    cJSON_AddStringToObject(cfg, "streams",
                            "examples: eval (5); counterfactuals: eval (5) for modarith, corrupt (7) for images; "
                            "within-subtask partners: corrupt (7); random-split baseline: baseline (8)");
    cJSON_AddNumberToObject(cfg, "baseline_draws", r->stats->random.draws);
    cJSON_AddNumberToObject(cfg, "threshold", r->threshold);
    if (r->data_dir) {
        cJSON_AddStringToObject(cfg, "data_dir", r->data_dir);
        cJSON_AddStringToObject(cfg, "split", "test");
    } else {
        cJSON_AddStringToObject(cfg, "split", "all equations");
    }
    return cfg;
}

int fl_circuits_write(const char *dir, const fl_circuits_result *r) {
    const int k = r->k;
    int rc = -1, *cls = malloc(sizeof(int) * (size_t)k);
    float *rf = malloc(sizeof(float) * (size_t)k * k);
    char *p = NULL;
    cJSON *comp = cJSON_CreateArray(), *sum = NULL, *cfg = NULL;
    if (!cls || !rf || !comp) {
        fl_error_set("circuits output: out of memory");
        goto out;
    }
    for (int i = 0; i < k * k; i++) rf[i] = (float)r->rho[i];
    int64_t n = 0;
    for (int s = 0; s < k; s++) n += r->count[s];
    int64_t vs[2] = {k, r->nc}, rs[2] = {k, k}, ss[2] = {n, r->nc};
#define PATH(name) (free(p), p = fl_path_join(dir, name))
    if (fl_npy_write(PATH("scores.npy"), r->scores, 2, ss) || fl_npy_write(PATH("vectors.npy"), r->vec, 2, vs) ||
        fl_npy_write(PATH("spearman.npy"), rf, 2, rs))
        goto out;
    for (int c = 0; c < r->nc; c++) {
        char nm[160];
        r->name_of(r->model, c, nm, sizeof nm);
        cJSON_AddItemToArray(comp, cJSON_CreateString(nm));
    }
    if (fl_json_write_file(PATH("components.json"), comp)) goto out;
    const int ncls = fl_cs_classes(r->rho, k, r->threshold, cls);
    if (ncls < 0 || !(sum = summary_json(r, cls, ncls)) || fl_json_write_file(PATH("summary.json"), sum)) goto out;
    char title[200];
    const fl_cs_baseline *b = &r->stats->random;
    if (b->draws > 0)
        snprintf(title, sizeof title, "Spearman of circuit vectors, %s: CS = %.3f (random splits %.3f [%.3f, %.3f])",
                 r->task, r->stats->cs, b->mean, b->lo, b->hi);
    else
        snprintf(title, sizeof title, "Spearman of circuit vectors, %s: CS = %.3f", r->task, r->stats->cs);
    if (fl_heatmap_save(title, r->rho, k, k, r->names, r->names, -1, 1, PATH("spearman"))) goto out;
    if (!(cfg = config_json(r)) || fl_config_write_file(PATH("config.json"), cfg)) goto out;
#undef PATH
    rc = 0;
out:
    free(p), free(cls), free(rf);
    cJSON_Delete(comp), cJSON_Delete(sum), cJSON_Delete(cfg);
    return rc;
}

int fl_circuits_write_patching(const char *dir, int n, int nc, const float *score, const float *change,
                               double *pairs, double *means) {
    const size_t np = (size_t)n * nc;
    double *s = malloc(sizeof(double) * np), *c = malloc(sizeof(double) * np);
    double *ms = calloc((size_t)nc, sizeof(double)), *mc = calloc((size_t)nc, sizeof(double));
    cJSON *out = cJSON_CreateObject();
    char *path = fl_path_join(dir, "patching.json");
    int rc = -1;
    if (!s || !c || !ms || !mc || !out || !path) {
        fl_error_set("--check-patching: out of memory");
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        s[i] = score[i], c[i] = change[i];
        ms[i % nc] += score[i] / n, mc[i % nc] += change[i] / n;
    }
    /* Over every (example, component) pair, and over the components of the
     * means, which is what a circuit vector holds. */
    *pairs = fl_spearman(s, c, (int)np), *means = fl_spearman(ms, mc, nc);
    cJSON_AddNumberToObject(out, "examples", n);
    cJSON_AddNumberToObject(out, "components", nc);
    cJSON_AddItemToObject(out, "spearman_pairs", number_or_null(*pairs));
    cJSON_AddItemToObject(out, "spearman_means", number_or_null(*means));
    rc = fl_json_write_file(path, out);
    /* The arrays too, so the two numbers can be checked from outside. */
    char *fs = fl_path_join(dir, "patching_scores.npy"), *fc = fl_path_join(dir, "patching_changes.npy");
    const int64_t shape[2] = {n, nc};
    if (rc == 0) rc = fs && fc ? fl_npy_write(fs, score, 2, shape) : fl_error_set("out of memory");
    if (rc == 0) rc = fl_npy_write(fc, change, 2, shape);
    free(fs), free(fc);
done:
    free(s), free(c), free(ms), free(mc), free(path);
    cJSON_Delete(out);
    return rc;
}
