/* objectives.h: the fine-tuning objectives of the RL's Razor study
 * (docs/razor.md), as losses on a batch of logits with their
 * gradients with respect to the logits.
 *
 * Every function takes the batch's probabilities probs[B,V] (softmax of the
 * logits) and/or log-probabilities logp[B,V], returns the loss (a mean over
 * the batch) and ACCUMULATES its gradient into dlogits[B,V], scaled by
 * `scale` (1 for the loss as defined). For the policy-gradient losses the
 * sampled actions and their advantages are held fixed: the gradient is that
 * of the surrogate -mean(A * log pi(a|x)), which is what an on-policy step
 * follows. */
#ifndef FORGETLAB_OBJECTIVES_H
#define FORGETLAB_OBJECTIVES_H

#include "forgetlab/core/blob.h"

/* Group-normalised advantages: A_g = (r_g - mean(r)) / (std(r) + eps), with
 * the population standard deviation over the G rewards of one input. A group
 * whose rewards are all equal gets zero advantages. */
void fl_grpo_advantages(float *adv, const float *rewards, int G, float eps);

/* Policy-gradient surrogate: loss = -1/(B*G) sum_{b,g} adv[b*G+g] *
 * logp[b, actions[b*G+g]]. */
float fl_pg_loss(float *dlogits, const float *probs, const float *logp,
                 const int *actions, const float *adv, int B, int G, int V, float scale);

/* Exact KL(p || q) per row, averaged over the batch, given log-probs of both
 * (p = exp(logp)). Gradient with respect to p's logits:
 * dKL/dz_v = p_v (logp_v - logq_v - KL_row). */
float fl_kl_loss(float *dlogits, const float *probs, const float *logp,
                 const float *logq, int B, int V, float scale);

/* SimPO with one-token answers: loss = -mean log sigmoid(beta (logp[y_w] -
 * logp[y_l]) - gamma). */
float fl_simpo_loss(float *dlogits, const float *probs, const float *logp,
                    const int *y_w, const int *y_l, int B, int V,
                    float beta, float gamma, float scale);

/* The KL-minimal correct distribution (the I-projection of p0 onto the
 * correct answers): q[v] = p0[v] * correct[v] / sum_u p0[u] * correct[u].
 * correct[B,V] holds 0/1. If p0 puts no mass on any correct answer, q is
 * uniform over the correct answers. */
void fl_oracle_target(float *q, const float *p0, const float *correct, int B, int V);

/* ---- Continual learning's anchors ----
 * EWC (F: a diagonal Fisher) and L2-SP (F NULL: every weight 1): the
 * penalty lambda/2 sum_i F_i (theta_i - anchor_i)^2 of b's parameters
 * against the previous task's, its gradient lambda F_i (theta_i -
 * anchor_i) ADDED to b's grads. Returns the penalty. */
double fl_anchor_penalty(fl_blob *b, const float *anchor, const float *F, double lambda);

/* ---- Sequences: the language model's fine-tuning (lm_finetune.c) ----
 * Rows i < N are the positions of a batch of token sequences, each with
 * its softmax probs[N,V], logits[N,V], the token it predicts (targets[N])
 * and that token's -log p (nll[N], as fl_gpt_forward leaves them). Each
 * function ACCUMULATES the gradient of its term into dlogits[N,V]. */

/* A weighted log-likelihood, loss = sum_i w_i nll_i / Z: SFT (w 1 on the
 * completions' positions, Z their number) and the policy gradient (w the
 * sequence's advantage, Z a constant). dlogits_i += w_i (p_i - onehot) / Z. */
double fl_seq_nll_grad(float *dlogits, const float *probs, const float *nll, const int *targets, const float *w,
                       double Z, int N, int V);

/* The exact KL penalty beta / Z sum_i kw_i KL(p_i || p0_i) over the
 * vocabulary, p0 given by its logits0 (the base model on the same rows).
 * dlogits_i += beta kw_i / Z p_i (log p_i - log p0_i - KL_i). Returns
 * sum_i kw_i KL_i. */
double fl_seq_kl_grad(float *dlogits, const float *probs, const float *logits, const float *logits0, const float *kw,
                      double beta, double Z, int N, int V);

/* Dr. GRPO's advantages: A_g = r_g - mean(r) over a group of G, without
 * dividing by the standard deviation (which weights groups that are
 * nearly all right or all wrong most). */
void fl_group_centered(float *adv, const float *rewards, int G);

/* SimPO on sequences: P pairs, pair k's chosen completion at rows
 * start[2k] .. start[2k] + len[2k] - 1 and its rejected one at rows of
 * start[2k+1], len[2k+1]. loss = -1/P sum_k log sigmoid(beta (s_w - s_l) -
 * gamma), s the mean log-probability of a completion's tokens (SimPO's
 * length normalisation). Writes w[N] (0 off the completions) so that
 * fl_seq_nll_grad(w, Z = 1) adds its gradient; returns the loss. */
double fl_simpo_seq_weights(float *w, int N, const float *nll, const int *start, const int *len, int P, double beta,
                            double gamma);

#endif
