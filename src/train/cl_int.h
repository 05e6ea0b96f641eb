/* cl_int.h: what continual learning's loop (continual.c) and its loss
 * pieces (cl_losses.c) share. Not a public interface. */
#ifndef FORGETLAB_CL_INT_H
#define FORGETLAB_CL_INT_H

#include "forgetlab/train/continual.h"

/* The most outputs a model of a benchmark has (10 per task). */
#define CL_MAX_OUT (10 * FL_CL_MAX_TASKS)

/* The outputs an example is scored over. */
typedef struct {
    int first, size;
} cl_head;

/* Mean cross-entropy of targets y over each example's head (softmax over
 * its outputs only); adds scale x its gradient to dlogits [B, V]. */
double cl_masked_ce(float *dlogits, const float *logits, const int *y, const cl_head *h, int B, int V, double scale);
/* Mean T^2 KL(softmax(prev / T) || softmax(logits / T)) over each
 * example's range h[b] (size 0: none); adds w x its gradient to dlogits
 * (NULL: none). T = 1: the KL regulariser and the boundary's measurement;
 * T = 2: LwF's distillation. */
double cl_distill(float *dlogits, const float *logits, const float *prev, const cl_head *h, int B, int V, double T,
                  double w);
/* The share of n examples whose best output within head h is y. */
double cl_accuracy(const float *logits, const int *y, const cl_head *h, int n, int V);

#endif
