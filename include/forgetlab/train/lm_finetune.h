/* lm_finetune.h: fine-tuning the pretrained language model on the new task (word
 * completion, newtask.h) by supervised learning and by on-policy RL
 * (docs/lm.md, "Fine-tuning"), every checkpoint
 * measured (lm_measure.h). One step takes `batch` training prompts.
 *
 *   sft        the rest of the prompt's alphabetically first word, then '='
 *              (a fixed target from an external rule: SFT1's analogue)
 *   sft-alt    the alphabetically last (SFT2's analogue)
 *   rft        a correct sample of the base's own, drawn from a pool of
 *              `pool` samples per prompt taken once at temperature 1: SFT on
 *              draws of pi_0(. | correct), the I-projection (the oracle's
 *              analogue); prompts with no correct sample are left out
 *   grpo       G completions per prompt from the current policy at
 *              `temperature`, reward 1 when correct, Dr. GRPO: advantage
 *              r - mean of the group (no division by its deviation), loss
 *              -sum A sum_t log pi(y_t) / (batch G max_new), a constant
 *              normaliser (no length bias); one step per generation, so the
 *              policy ratio is 1 and clipping inert
 *   grpo-kl    grpo + kl_beta sum_t KL(pi || pi_0) at each position of the
 *              samples, exact over the vocabulary, the same normaliser
 *   reinforce  1-0 REINFORCE: advantage = reward (no negatives)
 *   simpo      offline pairs: y_w the sft target, y_l an incorrect sample of
 *              the base's pool; SimPO's length-normalised loss
 *   distill    as rft, with the pool drawn from a teacher (a grpo run of
 *              the same base: on-policy data, the control)
 *   sft-teacher as distill, the teacher grown from another base (a grpo run
 *              of another pretraining seed): sharp, learnable targets
 *              that are off-policy for the student, as the paper's SFT
 *              data were another model's correct traces
 *   sft-any    each step's target a valid word drawn uniformly from the
 *              prompt's (the mode-covering "dataset of correct answers")
 *   sft-self   the null control: each step's targets drawn from the base
 *              at temperature 1, whatever their reward; the expected
 *              update is zero at the base (it is the base's own maximum
 *              likelihood), so its drift is the optimiser's noise floor
 *
 * DIR/config.json, metrics.jsonl (a training line every log step; every
 * checkpoint's measurement), model.safetensors, summary.json (the last
 * checkpoint's measurement), state.safetensors (resumable). */
#ifndef FORGETLAB_LM_FINETUNE_H
#define FORGETLAB_LM_FINETUNE_H

#include "forgetlab/train/budget.h"
#include "forgetlab/measure/lm_measure.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/io/settings.h"

#include <stdint.h>

typedef enum {
    FL_LMFT_SFT, FL_LMFT_SFT_ALT, FL_LMFT_RFT, FL_LMFT_GRPO, FL_LMFT_GRPO_KL,
    FL_LMFT_REINFORCE, FL_LMFT_SIMPO, FL_LMFT_DISTILL, FL_LMFT_SFT_TEACHER, FL_LMFT_SFT_ANY, FL_LMFT_SFT_SELF,
    FL_LMFT_NMETHODS
} fl_lmft_method;

const char *fl_lmft_method_name(fl_lmft_method m);
int fl_lmft_method_parse(const char *name, fl_lmft_method *out);
/* Whether the method samples from the current policy. */
int fl_lmft_on_policy(fl_lmft_method m);
/* Whether it learns from a teacher's samples (distill, sft-teacher). */
int fl_lmft_taught(fl_lmft_method m);
/* Whether it is supervised learning on targets (every method but the
 * on-policy ones and simpo): a step costs one sequence per prompt. */
int fl_lmft_is_sft(fl_lmft_method m);

typedef struct {
    const char *base;         /* an lm-pretrain run directory or its model file */
    const char *teacher;      /* distill, sft-teacher: a language model (a grpo run) */
    const char *data_dir;
    fl_lmft_method method;
    int has_method;
    double lr;
    fl_sched_kind schedule;
    double warmup_frac;
    int epochs, batch, group_size;
    double temperature;       /* on-policy sampling */
    double kl_beta, simpo_beta, simpo_gamma;
    int pool;                 /* rft, distill, simpo: samples per training prompt */
    double checkpoint_every;  /* epochs between measured checkpoints */
    double test_frac;         /* of the new task's prompts */
    fl_lm_measure_opts measure;
    uint64_t seed;
    int log_every, threads, progress, overwrite;
    /* A forgetting budget (budget.h; kl_budget 0: none): checkpoints are
     * measured for the decision alone (fl_lm_forward_kl_new, nothing of
     * the prior skills read), the last one within the budget is the run's
     * model, measured in full at the end. Not resumable. */
    fl_budget_spec budget;
} fl_lmft_config;

void fl_lmft_defaults(fl_lmft_config *c);
extern const fl_setting FL_LMFT_SETTINGS[];
extern const int FL_LMFT_NSETTINGS;

/* What the options ask for together: a method; a group of at least 2 for
 * grpo and grpo-kl; a temperature above 0 for on-policy methods; a teacher
 * for distill and sft-teacher and none otherwise. 0, or -1 with the error naming them. */
int fl_lmft_check(const fl_lmft_config *c);

/* The run; FL_DIVERGED when the loss or weights became non-finite. */
int fl_lmft_run(const fl_lmft_config *c, const char *out_dir);

#endif
