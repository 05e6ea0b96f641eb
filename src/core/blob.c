/* blob.c: the one-allocation parameter store behind every model. */
#include "forgetlab/core/blob.h"

#include "forgetlab/core/error.h"

#include <stdlib.h>
#include <string.h>

void fl_blob_init(fl_blob *b) { memset(b, 0, sizeof *b); }

int fl_blob_add(fl_blob *b, const char *name, int ndim, const int *shape) {
    if (b->mem) return fl_error_set("blob: cannot add view '%s' after allocation", name);
    if (b->nviews >= FL_MAX_VIEWS) return fl_error_set("blob: more than %d tensors", FL_MAX_VIEWS);
    if (ndim < 1 || ndim > FL_MAX_DIMS) return fl_error_set("blob: tensor '%s' has %d dims", name, ndim);
    if (strlen(name) >= FL_NAME_MAX) return fl_error_set("blob: tensor name '%s' too long", name);
    fl_view *v = &b->views[b->nviews];
    memset(v, 0, sizeof *v);
    strcpy(v->name, name);
    v->ndim = ndim;
    v->numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) return fl_error_set("blob: tensor '%s' has dimension %d", name, shape[i]);
        v->shape[i] = shape[i];
        v->numel *= (size_t)shape[i];
    }
    v->offset = b->n;
    b->n += v->numel;
    return b->nviews++;
}

int fl_blob_alloc(fl_blob *b) {
    /* Round each slab up to 16 floats so every slab starts 64-byte aligned. */
    size_t slab = (b->n + 15) & ~(size_t)15;
    b->mem = aligned_alloc(64, 4 * slab * sizeof(float));
    if (!b->mem) return fl_error_set("out of memory (%zu parameters)", b->n);
    memset(b->mem, 0, 4 * slab * sizeof(float));
    b->params = b->mem;
    b->grads = b->mem + slab;
    b->m = b->mem + 2 * slab;
    b->v = b->mem + 3 * slab;
    return 0;
}

void fl_blob_free(fl_blob *b) {
    free(b->mem);
    fl_blob_init(b);
}

const fl_view *fl_blob_find(const fl_blob *b, const char *name) {
    for (int i = 0; i < b->nviews; i++)
        if (strcmp(b->views[i].name, name) == 0) return &b->views[i];
    return NULL;
}

float *fl_blob_param(const fl_blob *b, int view) { return b->params + b->views[view].offset; }

float *fl_blob_grad(const fl_blob *b, int view) { return b->grads + b->views[view].offset; }

void fl_blob_zero_grads(fl_blob *b) { memset(b->grads, 0, b->n * sizeof(float)); }

void fl_blob_zero_moments(fl_blob *b) {
    memset(b->m, 0, b->n * sizeof(float));
    memset(b->v, 0, b->n * sizeof(float));
}

int fl_blob_copy_params(fl_blob *dst, const fl_blob *src) {
    if (dst->n != src->n || dst->nviews != src->nviews)
        return fl_error_set("blob: copying between models of different shapes");
    memcpy(dst->params, src->params, src->n * sizeof(float));
    return 0;
}
