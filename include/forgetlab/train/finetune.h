/* finetune.h: fine-tuning the base model on the new task (ParityMNIST) by
 * SFT or on-policy RL (docs/razor.md), measuring every checkpoint.
 *
 *   sft1       even -> 0, odd -> 1
 *   sft2       even -> 0 or 4, odd -> 1 or 5 (drawn once per image; other
 *              pairs with sft2_labels, the 50/50 target with sft2_soft)
 *   oracle     soft targets q* = pi_0 restricted to the correct answers and
 *              renormalised (the I-projection); with oracle_sample, one label
 *              drawn from q* per image
 *   grpo       G actions per input from the current policy, reward 1 if
 *              correct, group-normalised advantage, loss -mean(A log pi(a|x))
 *   grpo-kl    grpo + kl_coef * KL(pi || pi_0), exact over the 10 classes
 *   reinforce  1-0 REINFORCE: advantage = reward (no negatives)
 *   simpo      offline pairs: y_w the sft1 label, y_l a wrong label drawn once
 *              per image; -log sigmoid(beta (log pi(y_w) - log pi(y_l)) - gamma)
 *   distill    SFT on labels sampled once per image from a teacher model; with
 *              correct_only, only the images whose sample is correct */
#ifndef FORGETLAB_FINETUNE_H
#define FORGETLAB_FINETUNE_H

#include "forgetlab/measure/measure.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/io/settings.h"
#include "forgetlab/data/tasks.h"
#include "forgetlab/train/budget.h"

#include <stdint.h>

typedef enum {
    FL_FT_SFT1, FL_FT_SFT2, FL_FT_ORACLE, FL_FT_GRPO, FL_FT_GRPO_KL,
    FL_FT_REINFORCE, FL_FT_SIMPO, FL_FT_DISTILL, FL_FT_NMETHODS
} fl_ft_method;

const char *fl_ft_method_name(fl_ft_method m);
int fl_ft_method_parse(const char *name, fl_ft_method *out);
/* "A,B/C,D": sft2's labels for even digits (A, B: even, distinct) and odd
 * ones (C, D: odd, distinct), in 0..9. */
int fl_sft2_labels_parse(const char *s, int labels[2][2]);
/* Whether they are sft2's default pairs {0,4}/{1,5}. */
int fl_sft2_labels_default(const int labels[2][2]);
/* Whether the method samples from the current policy (on-policy RL). */
int fl_ft_method_on_policy(fl_ft_method m);

typedef struct {
    fl_ft_method method;
    double lr;
    fl_sched_kind schedule;
    double warmup_frac;       /* cosine: warm-up steps as a fraction of all steps */
    int epochs, batch, group_size;
    double kl_coef, simpo_beta, simpo_gamma;
    double checkpoint_every;  /* fraction of an epoch */
    int oracle_sample, correct_only;
    int sft2_labels[2][2];    /* sft2: even digits -> [0][0] or [0][1], odd -> [1][0] or [1][1] */
    int sft2_soft;            /* sft2: the 50/50 target over the pair, not a label drawn once */
    const fl_mlp *teacher;    /* distill */
    const float *base_probs;  /* optional: the base's probabilities on the
                                 training set [n, 10], shared by a study's runs */
    uint64_t seed;
    int log_every;
    int progress;
    int save_model;           /* write model.safetensors (default 1) */
    int resumable;            /* keep DIR/state.safetensors at every checkpoint and resume
                                 from it (the finetune command; a study redoes whole runs) */
    int overwrite;            /* replace a run of another command or configuration in the output directory */
    /* A forgetting budget (budget.h; budget.kl_budget 0: none): checkpoints
     * are measured with mctx, which may hold the new task alone; the kept
     * model is measured at the end with eval_ctx when there is one (the
     * prior task's data present), else with mctx. Not resumable. */
    fl_budget_spec budget;
    const fl_measure_ctx *eval_ctx;
} fl_finetune_config;

void fl_finetune_defaults(fl_finetune_config *c);

/* The settings of the finetune command over fl_finetune_config: its
 * options, --help lines and config.json keys (settings.h). */
extern const fl_setting FL_FINETUNE_SETTINGS[];
extern const int FL_FINETUNE_NSETTINGS;

/* Softmax outputs of m on td, [td->n, 10], malloc'ed. */
float *fl_model_probs(const fl_mlp *m, const fl_task_data *td);

/* Called after each checkpoint is measured (index 0, 1, ...). A non-zero
 * return stops the run with that error. */
typedef int (*fl_checkpoint_fn)(void *user, int index, long step, double epoch,
                                const fl_measurement *m);

/* Fine-tunes a copy of base on train (the new task's training split) and
 * writes out_dir (config.json, metrics.jsonl with one line per logged step and
 * per checkpoint, model.safetensors, summary.json with the final
 * measurement). mctx holds the base's share of the measurements. final
 * (optional) receives the final model's measurement, its eval_s and
 * predictors_s and circuit_s summed over every checkpoint; train_s (optional) the time
 * spent in optimisation steps. Returns 0, -1 on failure, or FL_DIVERGED
 * (step.h) when the loss, gradients or weights became non-finite. */
int fl_finetune_run(const fl_finetune_config *c, const fl_mlp *base, const fl_task_data *train,
                    const fl_measure_ctx *mctx, const char *out_dir, const char *base_dir,
                    fl_checkpoint_fn on_checkpoint, void *user, fl_measurement *final, double *train_s);

#endif
