/* grokforget_measure.h: what the grok-forget study (docs/grok-forget.md)
 * measures of a grokked transformer and of each fine-tuned copy: the old
 * task (a + b mod p, whose circuit is known) and the new one, the forward
 * KL and the other predictors, circuit stability of a + b with its
 * random-split baseline, and how much of the grokked Fourier circuit is
 * left.
 *
 * The new task, "difference": asked with its own operation token (reserved
 * in the base's vocabulary), either difference c = a - b or c = b - a
 * (mod p) is correct: two answers (one when a = b), as five digits are
 * on ParityMNIST, so that SFT on one fixed answer and RL, which may keep
 * either, can part ways; and one the grokked circuit's Fourier features
 * can learn (cos w(a - b) is built from the same frequencies as
 * cos w(a + b)), where a rule on the integers (the parity of a + b) was
 * not learnt on held-out pairs by any method (docs/grok-forget.md). */
#ifndef FORGETLAB_GROKFORGET_MEASURE_H
#define FORGETLAB_GROKFORGET_MEASURE_H

#include "forgetlab/data/modarith.h"
#include "forgetlab/nn/transformer.h"

#include <stdint.h>

/* Whether c answers the new task for (a, b) mod p: c = a - b or b - a. */
static inline int fl_gf_correct(int a, int b, int c, int p) { return c == (a - b + p) % p || c == (b - a + p) % p; }

/* What depends only on the base: the task (its + equations, in the
 * reserved layout), the new task's inputs, the base's logits on both, its
 * key frequencies (the grokked circuit's, held fixed so that the share
 * follows that circuit as it fades). */
typedef struct {
    const fl_transformer *base;  /* borrowed */
    const fl_modarith *d;        /* borrowed: a + b over every pair, train and test */
    int *tok_new;                /* [n, 4] the new task's input for each pair */
    unsigned char *is_train;     /* [n] */
    float *z0_old, *z0_new;      /* [n, p] the base's logits */
    int key[16], nkey;
    double old_acc_base, new_acc_base, fourier_share_base;
    int cs_per;                  /* equations per subtask for circuit stability */
    uint64_t seed;
} fl_gf_ctx;

/* d must hold one operation, a + b, with at least one reserved token (the
 * first is the new task's). */
int fl_gf_ctx_init(fl_gf_ctx *ctx, const fl_transformer *base, const fl_modarith *d, int nkey, int cs_per,
                   uint64_t seed);
void fl_gf_ctx_free(fl_gf_ctx *ctx);

typedef struct {
    double old_acc_base, old_acc, forgetting, old_loss;
    double new_acc_base, new_acc, new_mass;  /* argmax correct; the mean probability of the correct answers */
    double forward_kl_new, reverse_kl_new, tv_new, l2_dist_new, js_new;   /* on the new task's test pairs */
    /* The forward KL's chain-rule parts (they add up to it): whether the
     * answer is correct, KL(Bern(s_0) || Bern(s)) with s the mass on the
     * correct answers; then how the mass is spread within the correct and
     * within the wrong answers, each weighted by the base's share. */
    double kl_outcome, kl_within_correct, kl_within_wrong;
    double forward_kl_prior, reverse_kl_prior, tv_prior;                  /* on a + b's test pairs */
    double weight_l1, weight_norm;
    double cs_by_a, cs_by_a_random, cs_by_a_random_lo, cs_by_a_random_hi;
    double cs_by_answer, cs_by_answer_random;
    double cs_by_a_excess, cs_by_answer_excess;   /* each minus its random-split baseline */
    double fourier_share, restricted_loss, excluded_loss;
} fl_gf_measurement;

/* Measures m (the base's architecture) against the base. m is not changed
 * (circuit stability runs its passes on it). */
int fl_gf_measure(const fl_gf_ctx *ctx, fl_transformer *m, fl_gf_measurement *out);

/* The fields by name, in a fixed order (names: static strings; vals may
 * be NULL). Returns FL_GF_NFIELDS. */
#define FL_GF_NFIELDS 31
int fl_gf_measurement_fields(const fl_gf_measurement *r, const char **names, double *vals);

/* Logits of m on n inputs tok[n, ctx] into z[n, n_out] (batches of up to
 * the model's acts capacity; allocates its own). */
int fl_tf_logits_all(const fl_transformer *m, const int *tok, int n, float *z);

#endif
