/* lm_measure.h: everything forgetlab reports about a fine-tuned language
 * model against its base (docs/lm.md, "Measures"): new-task success, the
 * prior skills' accuracies and the held-out text's bits per byte, and the
 * predictors of forgetting: the forward KL on the new task's prompts along
 * completions sampled from the base, exact over the vocabulary at each
 * position (and the Monte-Carlo estimate beside it), reverse KL and total
 * variation per token, weight and activation change; the same divergences
 * on the prior skills' prompts (outcome side).
 *
 * What depends only on the base (its samples, log-probabilities, Fisher,
 * hidden states and scores) is computed once, in a context, and reused at
 * every checkpoint. Every set of prompts and draws is fixed by the
 * context's seed: checkpoints are compared on the same samples. */
#ifndef FORGETLAB_LM_MEASURE_H
#define FORGETLAB_LM_MEASURE_H

#include "forgetlab/nn/gpt.h"
#include "forgetlab/data/lmdata.h"
#include "forgetlab/data/newtask.h"
#include "forgetlab/nn/seqset.h"

#include <stdint.h>

typedef struct {
    double acc[FL_NSKILLS];   /* exact match on the first n test prompts */
    double bpb;               /* held-out text, bits per byte */
} fl_lm_eval;
/* The prior skills' scores (lm_skills.c), as lm-pretrain evaluates too:
 * each skill's exact match of greedy completions of its first n test
 * prompts (checked by its verifier), and the held-out text's bits per
 * byte over up to 64 windows of the context. */
int fl_lm_evaluate(const fl_gpt *m, const fl_lm_data *d, int n, fl_lm_eval *out);

typedef struct {
    int new_samples;     /* draws per new-task test prompt: sampled success, KL (4) */
    int prior_prompts;   /* prior skills: test prompts scored per skill (500) */
    int prior_kl_prompts;/* prior skills: test prompts per skill for the outcome-side KL (64) */
    int fisher_n;        /* sequences of the base's diagonal Fisher (256) */
    int cs_per;          /* circuit stability: test prompts per subtask of `reverse` (24; 0: none) */
    int cs_steps;        /* its integrated-gradient steps (5) */
} fl_lm_measure_opts;
void fl_lm_measure_defaults(fl_lm_measure_opts *o);

typedef struct {
    double new_acc;          /* greedy, on every test prompt of the new task */
    double new_acc_sampled;  /* at temperature 1, new_samples per prompt */
    double new_acc_train;    /* greedy, on training prompts (as many as the test ones): fitting, not generalising */
    double acc[FL_NSKILLS];  /* each prior skill's exact match */
    double prior_acc;        /* their mean */
    double bpb;              /* held-out text */
    double prior_nll;        /* the prior skills' correct answers, teacher-forced: nats per answer byte */
} fl_lm_scores;

typedef struct {
    fl_lm_scores base, m;
    double forgetting;        /* base.prior_acc - m.prior_acc */
    double bpb_rise;          /* m.bpb - base.bpb */
    /* Along the base's samples on the new task's test prompts: the sequence
     * forward KL, exact per position, summed over a completion, averaged
     * over samples (and its standard error over samples), the Monte-Carlo
     * estimate sum_t log pi_0(y_t) - log pi(y_t) (and its error), and per
     * token: forward KL, total variation, JS. */
    double forward_kl_new, forward_kl_new_se, forward_kl_new_mc, forward_kl_new_mc_se;
    double forward_kl_new_token, tv_new, js_new;
    double forward_kl_new_train;  /* the same sequence KL on training prompts (as many as the test ones) */
    /* forward_kl_new split by the chain rule over whether a completion is
     * correct (fl_kl_chain_parts): the outcome term, and the within-correct
     * and within-incorrect terms weighted by the base's shares. */
    double kl_outcome, kl_within_correct, kl_within_wrong;
    double prior_nll_rise;    /* m.prior_nll - base.prior_nll */
    double reverse_kl_new;    /* per token, along the model's own samples */
    double forward_kl_prior, forward_kl_prior_mc, tv_prior, reverse_kl_prior; /* outcome side */
    double weight_l1, weight_fisher_l2, weight_spectral;
    double act_l1, act_l2, cka; /* final LayerNorm's output at the new task's completion positions */
    /* Circuit stability of the prior skill `reverse` across its subtasks
     * (word lengths 3-6): AP-IG (attribution_gpt.h) on the KL of the
     * answer's first byte, within-subtask corruptions (another word of the
     * same length), the mean off-diagonal Spearman of the subtasks' circuit
     * vectors, and its random-split baseline (NaN: not measured). */
    double circuit_stability, circuit_stability_random, circuit_stability_base;
} fl_lm_measurement;

typedef struct {
    fl_lm_measure_opts o;
    fl_gpt *base;
    const fl_lm_data *data;       /* the base's split of the prior skills */
    const fl_newtask *task;
    const char **pnew, **pprior;  /* the new task's test prompts; the prior skills' KL prompts */
    const char **ptrain;          /* training prompts of the new task (n_pnew of them at most) */
    int n_pnew, n_pprior, n_ptrain;
    char (*ptext)[32];            /* their text */
    fl_seqset new0, prior0;       /* the base's samples, drawn once */
    fl_seqset train0;             /* and on the training prompts */
    float *logp0_train, *tlp0_train;
    float *logp0_new, *tlp0_new, *hid0_new;   /* the base on new0: [rows, V], [rows], [rows, C] */
    float *logp0_prior, *tlp0_prior;          /* on prior0 */
    float *fisher;                /* the base's diagonal Fisher [blob.n] on prior0 */
    fl_lm_scores base_scores;
    double base_cs, base_cs_random;
    int *cs_tok, *cs_tokc;        /* the probe's prompts and their partners, subtask by subtask */
    int cs_count[8], cs_len[8], cs_k;       /* per subtask: examples, prompt length */
    fl_seqset good;               /* every correct completion of every test prompt, prompt by prompt */
    int *good_at;                 /* test prompt x's: good[good_at[x] .. good_at[x + 1]) */
    double *good_lp0;             /* the base's log-probability of each */
    unsigned char *ok0;           /* whether each of new0's samples is correct */
    fl_seqset prior_ans;          /* the prior skills' scored test prompts with their correct answers */
    uint64_t seed;
} fl_lm_measure_ctx;

/* forward_kl_new alone (the same number fl_lm_measure gives): the base's
 * samples on the new task's test prompts scored by m, nothing of the
 * prior skills read. What a forgetting budget decides on. */
int fl_lm_forward_kl_new(const fl_lm_measure_ctx *ctx, const fl_gpt *m, double *kl);

/* The models' gradient slabs serve as scratch (the circuit probe), left
 * zeroed. */
int fl_lm_measure_init(fl_lm_measure_ctx *ctx, fl_gpt *base, const fl_lm_data *data, const fl_newtask *task,
                       const fl_lm_measure_opts *o, uint64_t seed);
void fl_lm_measure_free(fl_lm_measure_ctx *ctx);
/* The scores alone (what the base's figures are). */
int fl_lm_scores_compute(const fl_lm_measure_ctx *ctx, const fl_gpt *m, fl_lm_scores *out);
int fl_lm_measure(const fl_lm_measure_ctx *ctx, fl_gpt *m, fl_lm_measurement *out);

/* The sequence forward KL along samples s of pi_0, given both models'
 * log-softmax rows at s's completion positions (lp0, lp [rows, V]) and the
 * sampled tokens' log-probabilities (t0, t1 [rows]): out[0] the mean over
 * sequences of sum_t KL(pi_0(.|x, y<t) || pi(.|x, y<t)), exact over the
 * vocabulary (Rao-Blackwellised), out[1] its standard error; out[2] the
 * Monte-Carlo mean of sum_t log pi_0(y_t) - log pi(y_t), out[3] its
 * standard error. Both are unbiased for KL(pi_0(.|x) || pi(.|x)) over
 * whole completions. */
void fl_seq_forward_kl(const fl_seqset *s, const float *lp0, const float *lp, const float *t0, const float *t1, int V,
                       double out[4]);

/* The chain rule of the sequence forward KL of a prompt's completions,
 * split by whether a completion is correct (the set C):
 *
 *   KL(pi_0 || pi) = KL(Bern(s_0) || Bern(s))                    outcome
 *                  + s_0 KL(pi_0(. | C) || pi(. | C))             within correct
 *                  + (1 - s_0) KL(pi_0(. | not C) || pi(. | not C)) within wrong
 *
 * with s_0 = pi_0(C), s = pi(C). Per prompt x (n of them): s0[x] and s[x];
 * cc[x] = sum over y in C of pi_0(y) log(pi_0(y) / pi(y)), enumerated; and
 * wr[x], an estimate of the same sum over y not in C (the mean over the
 * base's samples of [y not in C] log(pi_0(y) / pi(y))). out: the three
 * terms, each averaged over the prompts; they add up to the mean of
 * cc + wr, the sequence forward KL. */
void fl_kl_chain_parts(const double *s0, const double *s, const double *cc, const double *wr, int n, double out[3]);

/* The scalar figures in a fixed order: names (static strings: the keys of
 * metrics.jsonl, summary.json and results.csv) and values. Returns their
 * number, FL_LM_NFIELDS. */
#define FL_LM_NFIELDS 44
int fl_lm_measurement_fields(const fl_lm_measurement *r, const char **names, double *vals);

#endif
