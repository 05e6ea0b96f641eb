/* mlp.h: the multilayer perceptron (Linear -> ReLU -> ... -> Linear).
 *
 * Built from a spec such as "785-512-256-10": widths of the input, each
 * hidden layer and the output. The tensors live in one fl_blob and are named
 * like PyTorch's nn.Sequential of nn.Linear layers counted over Linear layers
 * only: layers.{i}.weight [out, in], layers.{i}.bias [out]. */
#ifndef FORGETLAB_MLP_H
#define FORGETLAB_MLP_H

#include "forgetlab/core/blob.h"
#include "forgetlab/core/rng.h"

#define FL_MLP_MAX_LAYERS 16

typedef struct {
    int nlayers;                     /* number of Linear layers */
    int dims[FL_MLP_MAX_LAYERS + 1]; /* dims[0] = input ... dims[nlayers] = output */
    fl_blob blob;
    /* views into blob: W[l] [dims[l+1], dims[l]], b[l] [dims[l+1]] */
    int w_view[FL_MLP_MAX_LAYERS], b_view[FL_MLP_MAX_LAYERS];
} fl_mlp;

/* Activations of one batch, kept for the backward pass.
 *   pre[l]  [B, dims[l+1]]  output of Linear l (pre[nlayers-1] are the logits)
 *   post[l] [B, dims[l+1]]  ReLU(pre[l]) for hidden layers l < nlayers-1
 * and the matching gradient buffers. */
typedef struct {
    int cap_B;                       /* batch capacity */
    int nlayers;
    const float *inp;                /* [B, dims[0]], borrowed from the caller */
    float *pre[FL_MLP_MAX_LAYERS], *post[FL_MLP_MAX_LAYERS];
    float *dpre[FL_MLP_MAX_LAYERS], *dpost[FL_MLP_MAX_LAYERS];
    float *mem;
} fl_mlp_acts;

/* Parses "785-512-256-10" into dims; at least two widths, each >= 1. */
int fl_mlp_parse_spec(const char *spec, int *nlayers, int *dims);
/* Writes the spec string for the model's dims into buf. */
void fl_mlp_spec_string(const fl_mlp *m, char *buf, int bufsize);

/* Allocates the model (parameters zero). */
int fl_mlp_create(fl_mlp *m, int nlayers, const int *dims);
int fl_mlp_create_from_spec(fl_mlp *m, const char *spec);
void fl_mlp_free(fl_mlp *m);
/* PyTorch's nn.Linear default: W, b ~ U(-1/sqrt(in), 1/sqrt(in)). */
void fl_mlp_init(fl_mlp *m, fl_rng *rng);

int fl_mlp_acts_alloc(fl_mlp_acts *a, const fl_mlp *m, int cap_B);
void fl_mlp_acts_free(fl_mlp_acts *a);

/* Forward pass of inp[B, dims[0]]; returns the logits [B, dims[nlayers]]
 * (a pointer into acts). B <= acts->cap_B. */
const float *fl_mlp_forward(const fl_mlp *m, fl_mlp_acts *a, const float *inp, int B);
/* Backward from dlogits[B, out]: accumulates into m->blob.grads; and into
 * dinp[B, dims[0]] when dinp is not NULL. Needs the forward's acts. */
void fl_mlp_backward(fl_mlp *m, fl_mlp_acts *a, const float *dlogits, float *dinp, int B);

/* Logits of n examples x[n, dims[0]], in chunks (no gradients kept). */
int fl_mlp_logits(const fl_mlp *m, const float *x, int n, float *logits);

#endif
