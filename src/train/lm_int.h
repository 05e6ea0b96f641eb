/* lm_int.h: what the language model's pretraining (lm_pretrain.c) and
 * evaluation of a saved model (lm_eval.c) share inside src/train. */
#ifndef FORGETLAB_LM_INT_H
#define FORGETLAB_LM_INT_H

#include "forgetlab/lm.h"

#include <cjson/cJSON.h>

/* acc_<skill> for every skill and bpb into obj: the keys of summary.json,
 * metrics.jsonl and `forgetlab eval`. */
void fl_lm_eval_add_json(cJSON *obj, const fl_lm_eval *e);

#endif
