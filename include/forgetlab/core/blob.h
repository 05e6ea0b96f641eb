/* blob.h: parameters, gradients and optimizer moments in one allocation.
 *
 * As in llm.c, a model's tensors are named views (offset + shape) into one
 * contiguous float array, laid out as four equal slabs:
 *
 *     mem = [ params (n) | grads (n) | m (n) | v (n) ]
 *
 * so zeroing gradients, an optimizer step, gradient clipping, saving and
 * comparing models are each one loop over n floats, whatever the model. */
#ifndef FORGETLAB_BLOB_H
#define FORGETLAB_BLOB_H

#include <stddef.h>

#define FL_MAX_VIEWS 256
#define FL_MAX_DIMS 4
#define FL_NAME_MAX 64

typedef struct {
    char name[FL_NAME_MAX]; /* PyTorch-style name, e.g. "layers.0.weight" */
    int ndim;
    int shape[FL_MAX_DIMS];
    size_t offset;          /* in floats, from the start of a slab */
    size_t numel;
} fl_view;

typedef struct {
    float *mem;             /* 4 * n floats, 64-byte aligned */
    float *params, *grads, *m, *v;
    size_t n;               /* number of parameters */
    int nviews;
    fl_view views[FL_MAX_VIEWS];
} fl_blob;

/* Declare views first (fl_blob_add), then allocate (fl_blob_alloc): the
 * offsets are assigned in declaration order. */
void fl_blob_init(fl_blob *b);
int fl_blob_add(fl_blob *b, const char *name, int ndim, const int *shape);
int fl_blob_alloc(fl_blob *b);   /* zero-filled */
void fl_blob_free(fl_blob *b);

const fl_view *fl_blob_find(const fl_blob *b, const char *name);
/* Pointers to a view's data in the params / grads slab. */
float *fl_blob_param(const fl_blob *b, int view);
float *fl_blob_grad(const fl_blob *b, int view);

void fl_blob_zero_grads(fl_blob *b);
/* Resets the optimizer moments (m, v) to zero. */
void fl_blob_zero_moments(fl_blob *b);
/* Copies params only (same layout required). */
int fl_blob_copy_params(fl_blob *dst, const fl_blob *src);

#endif
