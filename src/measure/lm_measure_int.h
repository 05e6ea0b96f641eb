/* lm_measure_int.h: what the language model's measurements (lm_measure.c)
 * and the forward KL's parts and the prior skills' likelihood
 * (lm_kl_parts.c) share: the draws' seeds, sampling and scoring
 * (lm_seqs.c). Not a public interface. */
#ifndef FORGETLAB_LM_MEASURE_INT_H
#define FORGETLAB_LM_MEASURE_INT_H

#include "forgetlab/measure/lm_measure.h"

#include <stdint.h>

enum { LM_CHUNK = 64 };

/* The seeds of the measurement's draws, one per purpose, from (seed,
 * FL_STREAM_EVAL): fixed for a context, so every checkpoint is compared
 * on the same draws. New purposes go at the end: the earlier ones' seeds
 * stay what they were. */
enum {
    LM_SEED_NEW0, LM_SEED_PRIOR0, LM_SEED_SAMPLED, LM_SEED_REV_NEW, LM_SEED_REV_PRIOR, LM_SEED_SPECTRAL, LM_SEED_CS,
    LM_SEED_TRAIN0
};
uint64_t lm_draw_seed(uint64_t seed, int purpose);

/* Samples k completions of each of n prompts from m into s (cleared first). */
int lm_sample_set(fl_seqset *s, const fl_gpt *m, const char **p, int n, int k, double temperature, int stop,
                  int max_new, uint64_t seed);
/* m's log-probabilities (and hidden rows) on every completion position of
 * s (each optional, as fl_seqset_score). */
int lm_score(const fl_gpt *m, const fl_seqset *s, float *logp, float *tlp, float *hid);

/* The base's samples on the training prompts, every test prompt's correct
 * completions and the base's probability of each, which of the base's
 * samples are correct, and the prior skills' answers (before the base's
 * scores, which include their likelihood). */
int lm_parts_init(fl_lm_measure_ctx *ctx);
/* The prior skills' correct answers' teacher-forced NLL under m, nats per
 * answer byte. */
int lm_prior_nll(const fl_lm_measure_ctx *ctx, const fl_gpt *m, double *out);
/* forward_kl_new_train and the chain-rule parts of forward_kl_new into
 * out; tl: m's log-probability of each token of the base's samples new0. */
int lm_parts_measure(const fl_lm_measure_ctx *ctx, const fl_gpt *m, const float *tl, fl_lm_measurement *out);

#endif
