/* lm_int.h: what the language model's pretraining (lm_pretrain.c) and
 * evaluation of a saved model (lm_eval.c) share inside src/train. */
#ifndef FORGETLAB_LM_INT_H
#define FORGETLAB_LM_INT_H

#include "forgetlab/train/lm_pretrain.h"
#include "forgetlab/store/rundir.h"

#include <cjson/cJSON.h>

/* A language-model run's start: its identity, the configuration cfg
 * without the thread count (recorded, but not what makes two runs the
 * same), as text (malloc'd; NULL on failure, error set), once DIR is
 * claimed for it (fl_rundir_claim: *replaced) and made. */
char *fl_lm_claim_run(const cJSON *cfg, const char *dir, const char *command, int overwrite, char **replaced);

/* A language-model run's end: DIR/model.safetensors (m, with the run's
 * configuration text) and DIR/summary.json (sum); *model gets the model's
 * path (the caller frees it). */
int fl_lm_write_run(const fl_rundir *rd, const fl_gpt *m, const char *config, const cJSON *sum, char **model);

/* acc_<skill> for every skill and bpb into obj: the keys of summary.json,
 * metrics.jsonl and `forgetlab eval`. */
void fl_lm_eval_add_json(cJSON *obj, const fl_lm_eval *e);

#endif
