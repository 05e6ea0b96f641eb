/* activations.h: how far a fine-tuned model's hidden representations moved
 * from the base's on the same inputs (docs/razor.md, "activation
 * change"), and linear CKA between them.
 *
 * (ours) The hidden activations of an input are the post-ReLU outputs of
 * every hidden layer, concatenated; l1 and l2 are the mean over inputs of
 * ||h - h0||_1 and ||h - h0||_2. CKA is linear CKA (Kornblith et al. 2019)
 * between the last hidden layer's representations of the two models. */
#ifndef FORGETLAB_ACTIVATIONS_H
#define FORGETLAB_ACTIVATIONS_H

#include "forgetlab/nn/mlp.h"

typedef struct {
    double l1, l2, cka;
} fl_act_change;

/* A model's hidden activations and logits on a set of inputs, recorded
 * once so that a base model's side of every comparison is computed once per
 * study, and a checkpoint's logits and activations come from one forward. */
typedef struct {
    int n, nhidden, out;
    int width[FL_MLP_MAX_LAYERS];
    float *hidden[FL_MLP_MAX_LAYERS];  /* [n, width[l]] post-ReLU, l < nhidden */
    float *logits;                     /* [n, out] */
    float *mem;
} fl_act_record;

int fl_act_record_run(fl_act_record *r, const fl_mlp *m, const float *x, int n);
void fl_act_record_free(fl_act_record *r);

/* Activation change between two records of the same inputs and widths
 * (at least one hidden layer). */
int fl_activation_compare(fl_act_change *out, const fl_act_record *base, const fl_act_record *m);

/* Records both models on x and compares them. */
int fl_activation_change(fl_act_change *out, const fl_mlp *base, const fl_mlp *m,
                         const float *x, int n);

/* Linear CKA of X[n, p] and Y[n, q] (columns centred inside):
 * ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F); 0 if either is constant. */
double fl_linear_cka(const float *X, int p, const float *Y, int q, int n);

#endif
