/* step.h: the pieces every training loop is made of: minibatch order,
 * gathering a batch, and one supervised step of an MLP classifier. */
#ifndef FORGETLAB_STEP_H
#define FORGETLAB_STEP_H

#include "forgetlab/nn/mlp.h"
#include "forgetlab/core/rng.h"

/* Minibatches over n examples: a fresh permutation from the data stream at
 * every epoch; the last batch of an epoch may be short. */
typedef struct {
    int n, batch;
    int *order;
    int pos;          /* next index into order */
    long epoch;       /* completed epochs */
    fl_rng *rng;      /* the data stream */
} fl_batcher;

int fl_batcher_init(fl_batcher *bt, int n, int batch, fl_rng *rng);
void fl_batcher_free(fl_batcher *bt);
/* Indices of the next batch (a pointer into order); returns its size. */
int fl_batcher_next(fl_batcher *bt, const int **idx);
/* Batches per epoch: ceil(n / batch). */
int fl_batcher_steps_per_epoch(const fl_batcher *bt);

/* Copies rows idx[0..B-1] of x[*, dim] into out[B, dim] (and of y, if both
 * y and yout are not NULL). */
void fl_gather_rows(float *out, const float *x, int dim, const int *idx, int B);
void fl_gather_ints(int *out, const int *y, const int *idx, int B);

/* Scratch for a classifier step: activations, probabilities, log-probs and
 * the logit gradient of one batch. */
typedef struct {
    fl_mlp_acts acts;
    float *probs, *logp, *dlogits;   /* [cap_B, V] */
    int cap_B, V;
} fl_classifier_step;

int fl_classifier_step_alloc(fl_classifier_step *s, const fl_mlp *m, int cap_B);
void fl_classifier_step_free(fl_classifier_step *s);

/* Forward and backward of the mean cross-entropy of x[B, in] with hard labels
 * y (soft == NULL) or soft targets soft[B, V]. Gradients accumulate into the
 * model's blob (zero them first). Returns the mean loss; NaN or inf is
 * returned as is, for the caller to refuse. */
float fl_classifier_ce_step(fl_mlp *m, fl_classifier_step *s, const float *x, const int *y,
                     const float *soft, int B);

/* Returned by training loops (instead of -1) when a run diverged. */
#define FL_DIVERGED (-2)

/* Divergence check: the loss, and when b is not NULL the gradients
 * (grads_too) or the weights. Records "diverged at step N: the loss is
 * nan" (or which tensor became non-finite) and returns -1 when something is
 * not finite. */
int fl_check_finite(float loss, const fl_blob *b, long step, int grads_too);

#endif
