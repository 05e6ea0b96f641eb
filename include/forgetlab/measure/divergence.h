/* divergence.h: how far apart two models' output distributions are, averaged
 * over a set of inputs (docs/razor.md).
 *
 * Both models are given by log-probabilities logp0 (the base pi_0) and logp1
 * (the fine-tuned pi) over n inputs and V classes. The forward KL, the
 * predictor of forgetting, is KL(pi_0 || pi): the expectation is under the
 * BASE model. */
#ifndef FORGETLAB_DIVERGENCE_H
#define FORGETLAB_DIVERGENCE_H

typedef struct {
    double forward_kl;  /* E_x sum_y pi_0 (log pi_0 - log pi) */
    double reverse_kl;  /* E_x sum_y pi (log pi - log pi_0) */
    double tv;          /* E_x 1/2 sum_y |pi - pi_0| */
    double l2;          /* E_x ||pi - pi_0||_2 */
    double js;          /* E_x JS(pi_0, pi), natural log, in [0, log 2] */
} fl_divergences;

/* All five, in one pass over the rows. */
void fl_divergences_compute(fl_divergences *out, const float *logp0, const float *logp1,
                            int n, int V);

/* The same from logits z0, z1 [n, V] of anyone's models (log-softmax in
 * double first). */
int fl_divergences_logits(fl_divergences *out, const float *z0, const float *z1, int n, int V);

#endif
