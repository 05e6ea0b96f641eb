/* weights.h: how far a fine-tuned model's parameters moved from the base
 * (docs/razor.md, "weight change"): L1, Fisher-weighted L2 with the
 * base model's diagonal Fisher, and per-layer spectral norm and numerical
 * rank of the update delta W. */
#ifndef FORGETLAB_WEIGHTS_H
#define FORGETLAB_WEIGHTS_H

#include "forgetlab/nn/mlp.h"
#include "forgetlab/core/rng.h"

/* Any model's parameters (blobs of the same layout): sum_i |theta_i -
 * theta0_i|; sum_i F_i (theta_i - theta0_i)^2; the largest singular value
 * of a 2-D view's delta by power iteration (iters rounds from a random
 * start). */
double fl_blob_l1_dist(const fl_blob *base, const fl_blob *m);
/* sqrt(sum_i theta_i^2): the weight norm grokking follows. */
double fl_blob_l2_norm(const fl_blob *b);
double fl_blob_fisher_l2(const float *fisher, const fl_blob *base, const fl_blob *m);
double fl_view_spectral(const fl_blob *base, const fl_blob *m, int view, int iters, fl_rng *rng);

/* sum_i |theta_i - theta0_i| over every parameter. */
double fl_weight_l1(const fl_mlp *base, const fl_mlp *m);

/* Diagonal empirical Fisher of the model on inputs x[n, in]:
 * F_i = 1/n sum_x E_{y ~ pi(.|x)} (d log pi(y|x) / d theta_i)^2, estimated
 * with `samples` labels drawn per input from the model itself (rng), or,
 * with samples 0, exactly: the expectation over every class (rng unused).
 * fisher has m->blob.n entries. Per-example gradients of a Linear layer are
 * outer products dz h^T, so their squares are (dz^2)(h^2)^T: one GEMM per
 * layer gives the batch's sum without materialising per-example gradients. */
int fl_fisher_diag(float *fisher, const fl_mlp *m, const float *x, int n, int samples, fl_rng *rng);
/* The exact Fisher of the model whose outputs outside [first, first +
 * count) are masked (a task-incremental head): the softmax and the
 * expectation over those outputs alone. */
int fl_fisher_diag_head(float *fisher, const fl_mlp *m, const float *x, int n, int first, int count);

/* sum_i F_i (theta_i - theta0_i)^2. */
double fl_weight_fisher_l2(const float *fisher, const fl_mlp *base, const fl_mlp *m);

/* Largest singular value of each layer's delta W by power iteration (iters
 * rounds from a random start), summed over layers. per_layer (optional)
 * receives each layer's value. */
double fl_weight_spectral(const fl_mlp *base, const fl_mlp *m, int iters, fl_rng *rng, double *per_layer);

/* Numerical rank of each layer's delta W: the number of singular values
 * above max(rows, cols) * FLT_EPSILON * sigma_max (LAPACK dgesdd in double).
 * rank[l] for l < nlayers. */
int fl_weight_ranks(const fl_mlp *base, const fl_mlp *m, int *rank);

#endif
