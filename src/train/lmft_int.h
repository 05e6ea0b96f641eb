/* lmft_int.h: what the language model's fine-tuning loop (lm_finetune.c)
 * and its steps (lm_ft_step.c) share: one step of any method on a batch
 * of training prompts. Not a public interface. */
#ifndef FORGETLAB_LMFT_INT_H
#define FORGETLAB_LMFT_INT_H

#include "forgetlab/train/lm_finetune.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/nn/seqset.h"

/* Every method's name, for help texts and errors. */
#define LMFT_METHOD_LIST "sft, sft-alt, rft, grpo, grpo-kl, reinforce, simpo, distill, sft-teacher, sft-any or sft-self"

typedef struct {
    const fl_lmft_config *c;
    fl_gpt *m;                /* the policy, trained */
    const fl_gpt *base;       /* pi_0 (grpo-kl's penalty) */
    const fl_newtask *task;
    int n;                    /* training prompts */
    char (*prompt)[16];       /* their text, by training index */
    /* rft, distill, simpo: `pool` samples of each prompt, drawn once, and
     * for prompt j the indices of its correct ones ok[ok_at[j] ..
     * ok_at[j + 1]) and incorrect ones bad[bad_at[j] .. bad_at[j + 1]). */
    fl_seqset pool;
    int *ok, *ok_at, *bad, *bad_at;
    /* The batch and its buffers: at most cap sequences of T positions. */
    fl_seqset bs;
    int cap, T;
    fl_gpt_acts a, a0;        /* the policy's and the base's activations */
    fl_gpt_cache cache;       /* on-policy sampling */
    int *tok, *tgt, *start, *len;
    float *w, *kw, *rew, *adv;
} lmft_step;

/* Builds the step's buffers, and the pool from src (the base, or the
 * teacher for distill) when the method needs one. */
int lmft_step_init(lmft_step *s, const fl_lmft_config *c, fl_gpt *m, const fl_gpt *base, const fl_gpt *src,
                   const fl_newtask *task);
void lmft_step_free(lmft_step *s);
/* Training prompts with no pool sample the method can use (no correct one
 * for rft and distill, no incorrect one for simpo): left out of training. */
int lmft_pool_unusable(const lmft_step *s);

/* One step's gradient on the training prompts idx[0 .. B) (added to m's
 * grads, zeroed first): *loss the objective, *reward the share of correct
 * samples (on-policy methods; NaN for the others). rng: the run's
 * sampling stream (on-policy draws, pool picks). 1 when the pool left
 * every prompt of the batch out (no step to take), -1 on failure. */
int lmft_step_grad(lmft_step *s, const int *idx, int B, fl_rng *rng, double *loss, double *reward);

#endif
