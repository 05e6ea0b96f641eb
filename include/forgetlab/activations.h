/* activations.h: how far a fine-tuned model's hidden representations moved
 * from the base's on the same inputs (SCIENCE.md section 2, "activation
 * change"), and linear CKA between them.
 *
 * (ours) The hidden activations of an input are the post-ReLU outputs of
 * every hidden layer, concatenated; l1 and l2 are the mean over inputs of
 * ||h - h0||_1 and ||h - h0||_2. CKA is linear CKA (Kornblith et al. 2019)
 * between the last hidden layer's representations of the two models. */
#ifndef FORGETLAB_ACTIVATIONS_H
#define FORGETLAB_ACTIVATIONS_H

#include "forgetlab/mlp.h"

typedef struct {
    double l1, l2, cka;
} fl_act_change;

/* Both models must have the same widths and at least one hidden layer. */
int fl_activation_change(fl_act_change *out, const fl_mlp *base, const fl_mlp *m,
                         const float *x, int n);

/* Linear CKA of X[n, p] and Y[n, q] (columns centred inside):
 * ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F); 0 if either is constant. */
double fl_linear_cka(const float *X, int p, const float *Y, int q, int n);

#endif
