/* lm_pretrain.h: pretraining the byte-level language model (gpt.h) on its data
 * (lmdata.h): a mixture of King James text windows and the synthetic
 * skills' training examples, and its evaluation: every skill's exact-match
 * accuracy (greedy completions of test prompts, checked by the skill's
 * verifier) and the held-out text's bits per byte (docs/lm.md).
 *
 * DIR/config.json, metrics.jsonl (loss every log step; the evaluation
 * every eval step), model.safetensors (nanoGPT names), summary.json,
 * state.safetensors (resumable). */
#ifndef FORGETLAB_LM_PRETRAIN_H
#define FORGETLAB_LM_PRETRAIN_H

#include "forgetlab/nn/gpt.h"
#include "forgetlab/data/lmdata.h"
#include "forgetlab/measure/lm_measure.h"
#include "forgetlab/io/settings.h"

#include <stdint.h>

struct cJSON;

typedef struct {
    const char *preset;   /* recorded only */
    const char *data_dir;
    int n_layer, n_embd, n_head, ctx;
    int batch;
    long steps;
    double lr, wd, warmup_frac;
    double text_frac;     /* share of sequences drawn from the text (the rest: skills) */
    int log_every, eval_every, eval_prompts, checkpoint_every;
    uint64_t seed;
    int threads, progress, overwrite;
} fl_lm_config;

void fl_lm_defaults(fl_lm_config *c);
/* "quick" (minutes on 2 cores) or "default"; options after it override it. */
int fl_lm_preset(fl_lm_config *c, const char *name);
/* The rate pretraining ends at (a cosine to a tenth of the peak): the top
 * of a fine-tuning grid that stays within pretraining's rates. */
double fl_lm_final_lr(const fl_lm_config *c);
extern const fl_setting FL_LM_SETTINGS[];
extern const int FL_LM_NSETTINGS;

/* A saved language model evaluated on its run's test prompts (`forgetlab
 * eval`). The skills' train/test split depends on the run's seed, which
 * the checkpoint records with the run's configuration; seed serves a
 * checkpoint that records none. */
typedef struct {
    const char *data_dir;
    int prompts;          /* per skill; 0: the run's eval_prompts, else 100 */
    int has_seed;         /* seed was asked for: a recorded one that differs is FL_BAD_REQUEST */
    uint64_t seed;
} fl_lm_eval_opts;
typedef struct {
    fl_lm_eval ev;
    int prompts;          /* per skill, at most the smallest test set */
    uint64_t seed;        /* of the split */
    int seed_recorded;    /* 1: the run's, 0: o->seed (or 0) for want of one */
} fl_lm_eval_result;
int fl_lm_eval_checkpoint(const char *path, const fl_lm_eval_opts *o, fl_lm_eval_result *r);
/* The result as one JSON object, formatted as `forgetlab eval` prints it
 * (malloc'd; NULL when out of memory):
 * acc_<skill> for every skill and bpb, as summary.json holds them, then n
 * and seed. */
char *fl_lm_eval_result_json(const fl_lm_eval_result *r);

int fl_lm_pretrain_run(const fl_lm_config *c, const char *out_dir);

#endif
