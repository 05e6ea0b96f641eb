/* lm_eval.c: a saved language model scored as lm-pretrain scores it
 * (fl_lm_evaluate), on the test prompts of the split its run drew: what
 * `forgetlab eval` prints for a language model; and how a language-model
 * run claims its directory and the files it ends with. */
#include "lm_int.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

char *fl_lm_claim_run(const cJSON *cfg, const char *dir, const char *command, int overwrite, char **replaced) {
    cJSON *id = cJSON_Duplicate(cfg, 1);
    cJSON_DeleteItemFromObject(id, "threads");
    char *text = id ? cJSON_PrintUnformatted(id) : NULL;
    cJSON_Delete(id);
    if (!text) fl_error_set("out of memory");
    if (text && (fl_rundir_claim(dir, command, text, overwrite, replaced) || fl_mkdirs(dir))) {
        free(text);
        return NULL;
    }
    return text;
}

int fl_lm_write_run(const fl_rundir *rd, const fl_gpt *m, const char *config, const cJSON *sum, char **model) {
    *model = fl_rundir_path(rd, "model.safetensors");
    if (!*model || fl_gpt_save(*model, m, config)) return -1;
    return fl_rundir_write_json(rd, "summary.json", sum);
}

void fl_lm_eval_add_json(cJSON *obj, const fl_lm_eval *e) {
    for (int k = 0; k < FL_NSKILLS; k++) {
        char key[32];
        snprintf(key, sizeof key, "acc_%s", fl_skill_name((fl_skill)k));
        cJSON_AddNumberToObject(obj, key, e->acc[k]);
    }
    cJSON_AddNumberToObject(obj, "bpb", e->bpb);
}

/* The seed and eval_prompts of the run recorded in the checkpoint's
 * configuration, where it records them (a file written without one holds
 * "{}"). The configuration is the run's config.json, so a model file copied
 * out of its run directory still knows its split. */
static void recorded(const char *config_json, fl_lm_eval_result *r, int *prompts) {
    cJSON *c = cJSON_Parse(config_json);
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(c, "seed");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "eval_prompts");
    if (cJSON_IsNumber(seed) && seed->valuedouble >= 0) r->seed = (uint64_t)seed->valuedouble, r->seed_recorded = 1;
    if (cJSON_IsNumber(n) && n->valuedouble >= 1) *prompts = (int)n->valuedouble;
    cJSON_Delete(c);
}

int fl_lm_eval_checkpoint(const char *path, const fl_lm_eval_opts *o, fl_lm_eval_result *r) {
    fl_gpt m;
    char *config = NULL;
    int prompts = 100;
    *r = (fl_lm_eval_result){.seed = o->has_seed ? o->seed : 0};
    if (fl_gpt_load(path, &m, &config)) return -1;
    recorded(config, r, &prompts);
    free(config);
    if (o->prompts > 0) prompts = o->prompts;
    if (o->has_seed && r->seed_recorded && o->seed != r->seed) {
        fl_gpt_free(&m);
        /* Another seed's test prompts are partly this run's training ones. */
        fl_error_set("--seed %llu: the model's run drew its test prompts with seed %llu", (unsigned long long)o->seed,
                     (unsigned long long)r->seed);
        return FL_BAD_REQUEST;
    }
    fl_lm_data d;
    int rc = fl_lm_data_load(&d, o->data_dir, r->seed);
    if (rc == 0) {
        /* The same n for every skill, and a key/value cache no larger than
         * the smallest test set needs. */
        for (int k = 0; k < FL_NSKILLS; k++) prompts = prompts < d.skill[k].n_test ? prompts : d.skill[k].n_test;
        r->prompts = prompts;
        rc = fl_lm_evaluate(&m, &d, prompts, &r->ev);
        fl_lm_data_free(&d);
    }
    fl_gpt_free(&m);
    return rc;
}

char *fl_lm_eval_result_json(const fl_lm_eval_result *r) {
    cJSON *j = cJSON_CreateObject();
    fl_lm_eval_add_json(j, &r->ev);
    cJSON_AddNumberToObject(j, "n", r->prompts);
    cJSON_AddNumberToObject(j, "seed", (double)r->seed);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}
