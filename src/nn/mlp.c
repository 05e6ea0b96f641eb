/* mlp.c: the multilayer perceptron: spec parsing, initialisation, and the
 * forward and backward passes chained from the layers of layers.c. */
#include "forgetlab/nn/mlp.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_mlp_parse_spec(const char *spec, int *nlayers, int *dims) {
    int n = 0;
    const char *p = spec;
    for (;;) {
        char *end;
        errno = 0;
        long w = strtol(p, &end, 10);
        if (end == p || errno || w < 1 || w > 1000000)
            return fl_error_set("model spec '%s': expected widths like 785-512-256-10", spec);
        if (n > FL_MLP_MAX_LAYERS)
            return fl_error_set("model spec '%s': more than %d layers", spec, FL_MLP_MAX_LAYERS);
        dims[n++] = (int)w;
        if (*end == '\0') break;
        if (*end != '-')
            return fl_error_set("model spec '%s': expected widths like 785-512-256-10", spec);
        p = end + 1;
    }
    if (n < 2) return fl_error_set("model spec '%s': needs an input and an output width", spec);
    *nlayers = n - 1;
    return 0;
}

void fl_mlp_spec_string(const fl_mlp *m, char *buf, int bufsize) {
    int off = 0;
    for (int l = 0; l <= m->nlayers && off < bufsize; l++)
        off += snprintf(buf + off, (size_t)(bufsize - off), l ? "-%d" : "%d", m->dims[l]);
}

int fl_mlp_create(fl_mlp *m, int nlayers, const int *dims) {
    memset(m, 0, sizeof *m);
    if (nlayers < 1 || nlayers > FL_MLP_MAX_LAYERS)
        return fl_error_set("mlp: %d layers (1..%d allowed)", nlayers, FL_MLP_MAX_LAYERS);
    m->nlayers = nlayers;
    memcpy(m->dims, dims, (size_t)(nlayers + 1) * sizeof(int));
    fl_blob_init(&m->blob);
    for (int l = 0; l < nlayers; l++) {
        char name[FL_NAME_MAX];
        int wshape[2] = {dims[l + 1], dims[l]}, bshape[1] = {dims[l + 1]};
        snprintf(name, sizeof name, "layers.%d.weight", l);
        if ((m->w_view[l] = fl_blob_add(&m->blob, name, 2, wshape)) < 0) return -1;
        snprintf(name, sizeof name, "layers.%d.bias", l);
        if ((m->b_view[l] = fl_blob_add(&m->blob, name, 1, bshape)) < 0) return -1;
    }
    return fl_blob_alloc(&m->blob);
}

int fl_mlp_create_from_spec(fl_mlp *m, const char *spec) {
    int nlayers, dims[FL_MLP_MAX_LAYERS + 1];
    if (fl_mlp_parse_spec(spec, &nlayers, dims)) return -1;
    return fl_mlp_create(m, nlayers, dims);
}

void fl_mlp_free(fl_mlp *m) {
    fl_blob_free(&m->blob);
    memset(m, 0, sizeof *m);
}

void fl_mlp_init(fl_mlp *m, fl_rng *rng) {
    for (int l = 0; l < m->nlayers; l++) {
        float bound = 1.0f / sqrtf((float)m->dims[l]);
        int views[2] = {m->w_view[l], m->b_view[l]};
        for (int k = 0; k < 2; k++) {
            float *p = fl_blob_param(&m->blob, views[k]);
            size_t n = m->blob.views[views[k]].numel;
            for (size_t i = 0; i < n; i++) p[i] = (2.0f * fl_rng_float(rng) - 1.0f) * bound;
        }
    }
}

int fl_mlp_acts_alloc(fl_mlp_acts *a, const fl_mlp *m, int cap_B) {
    memset(a, 0, sizeof *a);
    size_t total = 0;
    for (int l = 0; l < m->nlayers; l++) total += 4 * (size_t)cap_B * m->dims[l + 1];
    a->mem = fl_calloc(total, sizeof(float), "activations");
    if (!a->mem) return -1;
    a->cap_B = cap_B;
    a->nlayers = m->nlayers;
    float *p = a->mem;
    for (int l = 0; l < m->nlayers; l++) {
        size_t n = (size_t)cap_B * m->dims[l + 1];
        a->pre[l] = p; p += n;
        a->post[l] = p; p += n;
        a->dpre[l] = p; p += n;
        a->dpost[l] = p; p += n;
    }
    return 0;
}

void fl_mlp_acts_free(fl_mlp_acts *a) {
    free(a->mem);
    memset(a, 0, sizeof *a);
}

const float *fl_mlp_forward(const fl_mlp *m, fl_mlp_acts *a, const float *inp, int B) {
    a->inp = inp;
    const float *h = inp;
    for (int l = 0; l < m->nlayers; l++) {
        int C = m->dims[l], OC = m->dims[l + 1];
        fl_linear_forward(a->pre[l], h, fl_blob_param(&m->blob, m->w_view[l]),
                          fl_blob_param(&m->blob, m->b_view[l]), B, C, OC);
        if (l == m->nlayers - 1) break;
        fl_relu_forward(a->post[l], a->pre[l], (long)B * OC);
        h = a->post[l];
    }
    return a->pre[m->nlayers - 1];
}

void fl_mlp_backward(fl_mlp *m, fl_mlp_acts *a, const float *dlogits, float *dinp, int B) {
    const float *dz = dlogits;
    for (int l = m->nlayers - 1; l >= 0; l--) {
        int C = m->dims[l], OC = m->dims[l + 1];
        const float *h = l ? a->post[l - 1] : a->inp;
        /* The layer's input gradient is needed below layer 0 only if the
         * caller asked for it (attribution); otherwise skip the GEMM. */
        float *dh = l ? a->dpost[l - 1] : dinp;
        if (l) memset(dh, 0, (size_t)B * C * sizeof(float));
        fl_linear_backward(dh, fl_blob_grad(&m->blob, m->w_view[l]),
                           fl_blob_grad(&m->blob, m->b_view[l]), dz, h,
                           fl_blob_param(&m->blob, m->w_view[l]), B, C, OC);
        if (l == 0) break;
        memset(a->dpre[l - 1], 0, (size_t)B * C * sizeof(float));
        fl_relu_backward(a->dpre[l - 1], dh, a->pre[l - 1], (long)B * C);
        dz = a->dpre[l - 1];
    }
}

/* Inference alone needs no saved activations: two buffers a chunk wide,
 * used in turn, the ReLU applied in place and the last layer written
 * straight into logits (not the four zeroed arrays per layer of
 * fl_mlp_acts_alloc). The products are the same calls on the same chunks
 * as fl_mlp_forward's, so the logits are identical. */
int fl_mlp_logits(const fl_mlp *m, const float *x, int n, float *logits) {
    enum { CHUNK = 1024 };
    const int L = m->nlayers, out = m->dims[L];
    int wmax = 1;
    for (int l = 0; l + 1 < L; l++) wmax = m->dims[l + 1] > wmax ? m->dims[l + 1] : wmax;
    float *buf = fl_malloc(sizeof(float) * 2 * (size_t)CHUNK * wmax, "activations");
    if (!buf) return -1;
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        const float *h = x + (size_t)i * m->dims[0];
        for (int l = 0; l < L; l++) {
            float *z = l == L - 1 ? logits + (size_t)i * out : buf + (size_t)(l % 2) * CHUNK * wmax;
            fl_linear_forward(z, h, fl_blob_param(&m->blob, m->w_view[l]), fl_blob_param(&m->blob, m->b_view[l]), B,
                              m->dims[l], m->dims[l + 1]);
            if (l < L - 1) fl_relu_forward(z, z, (long)B * m->dims[l + 1]);
            h = z;
        }
    }
    free(buf);
    return 0;
}
