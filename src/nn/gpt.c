/* gpt.c: the byte-level language model (gpt.h), assembled from the
 * llm.c-style layers of layers.c and layers_seq.c: the forward pass keeps
 * every activation the backward pass needs, and the backward pass walks the
 * blocks in reverse, accumulating gradients with +=. */
#include "forgetlab/nn/gpt.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include "vmath.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_gpt_config_check(const fl_gpt_config *c) {
    if (c->vocab < 1) return fl_error_set("vocab %d: must be at least 1", c->vocab);
    if (c->ctx < 1) return fl_error_set("ctx %d: must be at least 1", c->ctx);
    if (c->n_layer < 1 || c->n_layer > FL_GPT_MAX_LAYERS)
        return fl_error_set("n_layer %d: must be in 1..%d", c->n_layer, FL_GPT_MAX_LAYERS);
    if (c->n_embd < 1 || c->n_head < 1 || c->n_embd % c->n_head)
        return fl_error_set("n_embd %d must be a positive multiple of n_head %d", c->n_embd, c->n_head);
    return 0;
}

void fl_gpt_spec_string(const fl_gpt_config *c, char *buf, size_t n) {
    snprintf(buf, n, "vocab=%d ctx=%d layers=%d embd=%d heads=%d", c->vocab, c->ctx, c->n_layer, c->n_embd, c->n_head);
}

int fl_gpt_parse_spec(const char *spec, fl_gpt_config *c) {
    int used = -1;
    if (sscanf(spec, "vocab=%d ctx=%d layers=%d embd=%d heads=%d%n", &c->vocab, &c->ctx, &c->n_layer, &c->n_embd,
               &c->n_head, &used) != 5 || used < 0 || spec[used])
        return fl_error_set("gpt spec '%s': expected vocab=V ctx=T layers=L embd=C heads=H", spec);
    /* Sizes a file could claim that no model of ours has. */
    if (c->vocab > 65536 || c->ctx > 65536 || c->n_embd > 65536)
        return fl_error_set("gpt spec '%s': sizes out of range", spec);
    return fl_gpt_config_check(c);
}

int64_t fl_gpt_param_count(const fl_gpt_config *c) {
    if (fl_gpt_config_check(c)) return -1;
    const int64_t C = c->n_embd, per_block = 4 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) +
                                             (4 * C * C + C);
    return (int64_t)(c->vocab + c->ctx) * C + c->n_layer * per_block + 2 * C;
}

static int add(fl_blob *b, const char *fmt, int i, int ndim, int d0, int d1) {
    char name[FL_NAME_MAX];
    snprintf(name, sizeof name, fmt, i);
    return fl_blob_add(b, name, ndim, (int[]){d0, d1});
}

int fl_gpt_create(fl_gpt *m, const fl_gpt_config *c) {
    memset(m, 0, sizeof *m);
    if (fl_gpt_config_check(c)) return -1;
    m->cfg = *c;
    const int C = c->n_embd;
    fl_blob *b = &m->blob;
    fl_blob_init(b);
    m->wte = add(b, "transformer.wte.weight", 0, 2, c->vocab, C);
    m->wpe = add(b, "transformer.wpe.weight", 0, 2, c->ctx, C);
    for (int l = 0; l < c->n_layer; l++) {
        fl_gpt_block_views *v = &m->blk[l];
        v->ln1_w = add(b, "transformer.h.%d.ln_1.weight", l, 1, C, 0);
        v->ln1_b = add(b, "transformer.h.%d.ln_1.bias", l, 1, C, 0);
        v->attn_w = add(b, "transformer.h.%d.attn.c_attn.weight", l, 2, 3 * C, C);
        v->attn_b = add(b, "transformer.h.%d.attn.c_attn.bias", l, 1, 3 * C, 0);
        v->proj_w = add(b, "transformer.h.%d.attn.c_proj.weight", l, 2, C, C);
        v->proj_b = add(b, "transformer.h.%d.attn.c_proj.bias", l, 1, C, 0);
        v->ln2_w = add(b, "transformer.h.%d.ln_2.weight", l, 1, C, 0);
        v->ln2_b = add(b, "transformer.h.%d.ln_2.bias", l, 1, C, 0);
        v->fc_w = add(b, "transformer.h.%d.mlp.c_fc.weight", l, 2, 4 * C, C);
        v->fc_b = add(b, "transformer.h.%d.mlp.c_fc.bias", l, 1, 4 * C, 0);
        v->fcp_w = add(b, "transformer.h.%d.mlp.c_proj.weight", l, 2, C, 4 * C);
        v->fcp_b = add(b, "transformer.h.%d.mlp.c_proj.bias", l, 1, C, 0);
    }
    m->lnf_w = add(b, "transformer.ln_f.weight", 0, 1, C, 0);
    m->lnf_b = add(b, "transformer.ln_f.bias", 0, 1, C, 0);
    if (m->lnf_b < 0 || fl_blob_alloc(b)) {
        fl_blob_free(b);
        return fl_error_set("gpt: cannot allocate the parameters");
    }
    return 0;
}

void fl_gpt_free(fl_gpt *m) {
    fl_blob_free(&m->blob);
    memset(m, 0, sizeof *m);
}

static void normal(fl_rng *rng, float *w, long n, double sd) {
    for (long i = 0; i < n; i++) w[i] = (float)(sd * fl_rng_normal(rng));
}

static void fill(float *w, long n, float v) {
    for (long i = 0; i < n; i++) w[i] = v;
}

void fl_gpt_init(fl_gpt *m, fl_rng *rng) {
    const fl_gpt_config *c = &m->cfg;
    const int C = c->n_embd;
    const double sd = 0.02, proj_sd = 0.02 / sqrt(2.0 * c->n_layer);
    fl_blob *b = &m->blob;
    /* Zero first: biases stay 0. */
    memset(b->params, 0, sizeof(float) * b->n);
    normal(rng, fl_blob_param(b, m->wte), (long)c->vocab * C, sd);
    normal(rng, fl_blob_param(b, m->wpe), (long)c->ctx * C, sd);
    for (int l = 0; l < c->n_layer; l++) {
        const fl_gpt_block_views *v = &m->blk[l];
        fill(fl_blob_param(b, v->ln1_w), C, 1.0f);
        fill(fl_blob_param(b, v->ln2_w), C, 1.0f);
        normal(rng, fl_blob_param(b, v->attn_w), 3L * C * C, sd);
        normal(rng, fl_blob_param(b, v->proj_w), (long)C * C, proj_sd);
        normal(rng, fl_blob_param(b, v->fc_w), 4L * C * C, sd);
        normal(rng, fl_blob_param(b, v->fcp_w), 4L * C * C, proj_sd);
    }
    fill(fl_blob_param(b, m->lnf_w), C, 1.0f);
}

int fl_gpt_acts_alloc(fl_gpt_acts *a, const fl_gpt *m, int B, int T) {
    memset(a, 0, sizeof *a);
    const fl_gpt_config *c = &m->cfg;
    if (B < 1 || T < 1 || T > c->ctx) return fl_error_set("gpt: batch %d x %d tokens (context %d)", B, T, c->ctx);
    const size_t N = (size_t)B * T, C = (size_t)c->n_embd, V = (size_t)c->vocab, L = (size_t)c->n_layer;
    const size_t att = (size_t)B * c->n_head * T * T;
    /* Per layer: x ln1 ln2 q k v z x2 (8 C) + qkv (3C) + fc fch (8C) + 4 stats; then the rest. */
    const size_t per_layer = N * (8 * C + 3 * C + 8 * C + 4) + att;
    const size_t total = L * per_layer + N * C /* x[L] */ + N * C + 3 * N /* lnf, mf, rf, nll */ + 2 * N * V +
                         N * (C + C + 3 * C + 3 * C + C + 8 * C) + N * V + att /* dscore */;
    float *p = a->mem = calloc(total, sizeof(float));
    if (!p) return fl_error_set("gpt: out of memory for the activations of %d x %d tokens", B, T);
#define TAKE(ptr, n) (ptr = p, p += (n))
    for (size_t l = 0; l < L; l++) {
        TAKE(a->x[l], N * C), TAKE(a->ln1[l], N * C), TAKE(a->ln2[l], N * C), TAKE(a->q[l], N * C);
        TAKE(a->k[l], N * C), TAKE(a->v[l], N * C), TAKE(a->z[l], N * C), TAKE(a->x2[l], N * C);
        TAKE(a->qkv[l], N * 3 * C), TAKE(a->fc[l], N * 4 * C), TAKE(a->fch[l], N * 4 * C);
        TAKE(a->m1[l], N), TAKE(a->r1[l], N), TAKE(a->m2[l], N), TAKE(a->r2[l], N), TAKE(a->att[l], att);
    }
    TAKE(a->x[L], N * C), TAKE(a->lnf, N * C), TAKE(a->mf, N), TAKE(a->rf, N), TAKE(a->nll, N);
    TAKE(a->logits, N * V), TAKE(a->probs, N * V);
    TAKE(a->dx, N * C), TAKE(a->dln, N * C), TAKE(a->dqkv, N * 3 * C), TAKE(a->dq, N * C), TAKE(a->dk, N * C);
    TAKE(a->dv, N * C), TAKE(a->dz, N * C), TAKE(a->dfc, N * 4 * C), TAKE(a->dfch, N * 4 * C);
    TAKE(a->dlogits, N * V), TAKE(a->dscore, att);
#undef TAKE
    a->B = B, a->T = T;
    return 0;
}

void fl_gpt_acts_free(fl_gpt_acts *a) {
    free(a->mem);
    memset(a, 0, sizeof *a);
}

/* qkv [N, 3C] -> q, k, v [N, C] (and back, adding, for the gradients). */
static void split_qkv(float *q, float *k, float *v, const float *qkv, size_t N, int C) {
    for (size_t i = 0; i < N; i++) {
        memcpy(q + i * C, qkv + i * 3 * C, sizeof(float) * C);
        memcpy(k + i * C, qkv + i * 3 * C + C, sizeof(float) * C);
        memcpy(v + i * C, qkv + i * 3 * C + 2 * C, sizeof(float) * C);
    }
}

static void join_qkv(float *dqkv, const float *dq, const float *dk, const float *dv, size_t N, int C) {
    for (size_t i = 0; i < N; i++) {
        memcpy(dqkv + i * 3 * C, dq + i * C, sizeof(float) * C);
        memcpy(dqkv + i * 3 * C + C, dk + i * C, sizeof(float) * C);
        memcpy(dqkv + i * 3 * C + 2 * C, dv + i * C, sizeof(float) * C);
    }
}

float fl_gpt_forward(const fl_gpt *m, fl_gpt_acts *a, const int *tok, const int *targets, const float *mask, int B,
                     int T) {
    const fl_gpt_config *c = &m->cfg;
    const fl_blob *b = &m->blob;
    const int C = c->n_embd, NH = c->n_head, V = c->vocab, L = c->n_layer;
    const size_t N = (size_t)B * T;
    a->B = B, a->T = T, a->tok = tok, a->targets = targets, a->mask = mask;
    if (a->embeds) memcpy(a->x[0], a->embeds, sizeof(float) * N * C);
    else fl_embedding_forward(a->x[0], tok, fl_blob_param(b, m->wte), fl_blob_param(b, m->wpe), B, T, C);
    for (int l = 0; l < L; l++) {
        const fl_gpt_block_views *v = &m->blk[l];
        fl_layernorm_forward(a->ln1[l], a->m1[l], a->r1[l], a->x[l], fl_blob_param(b, v->ln1_w),
                             fl_blob_param(b, v->ln1_b), (int)N, C);
        fl_linear_forward(a->qkv[l], a->ln1[l], fl_blob_param(b, v->attn_w), fl_blob_param(b, v->attn_b), (int)N, C,
                          3 * C);
        split_qkv(a->q[l], a->k[l], a->v[l], a->qkv[l], N, C);
        fl_attention_forward(a->z[l], a->att[l], a->q[l], a->k[l], a->v[l], B, T, T, NH, C / NH);
        /* x2 = x + c_proj(z): the projection lands in x2, then x is added. */
        fl_linear_forward(a->x2[l], a->z[l], fl_blob_param(b, v->proj_w), fl_blob_param(b, v->proj_b), (int)N, C, C);
        cblas_saxpy((int)(N * C), 1.0f, a->x[l], 1, a->x2[l], 1);
        fl_layernorm_forward(a->ln2[l], a->m2[l], a->r2[l], a->x2[l], fl_blob_param(b, v->ln2_w),
                             fl_blob_param(b, v->ln2_b), (int)N, C);
        fl_linear_forward(a->fc[l], a->ln2[l], fl_blob_param(b, v->fc_w), fl_blob_param(b, v->fc_b), (int)N, C, 4 * C);
        fl_gelu_forward(a->fch[l], a->fc[l], (long)(N * 4 * C));
        fl_linear_forward(a->x[l + 1], a->fch[l], fl_blob_param(b, v->fcp_w), fl_blob_param(b, v->fcp_b), (int)N,
                          4 * C, C);
        cblas_saxpy((int)(N * C), 1.0f, a->x2[l], 1, a->x[l + 1], 1);
    }
    fl_layernorm_forward(a->lnf, a->mf, a->rf, a->x[L], fl_blob_param(b, m->lnf_w), fl_blob_param(b, m->lnf_b),
                         (int)N, C);
    /* Tied output layer: logits = lnf wte^T. */
    fl_linear_forward(a->logits, a->lnf, fl_blob_param(b, m->wte), NULL, (int)N, C, V);
    if (!targets) return NAN;
    /* Softmax and -log p(target) row by row: log p = z - max - log(sum exp(z - max)),
     * stable for any logits; the rows' losses summed in a fixed order. */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) {
        const float *z = a->logits + i * V;
        float *p = a->probs + i * V, mx = z[0], s = 0.0f;
        for (int j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        for (int j = 0; j < V; j++) s += (p[j] = fl_vexpf(z[j] - mx));
        const float inv = 1.0f / s;
        for (int j = 0; j < V; j++) p[j] *= inv;
        a->nll[i] = mx + logf(s) - z[targets[i]];
    }
    double loss = 0, wsum = 0;
    for (size_t i = 0; i < N; i++) {
        const double w = mask ? mask[i] : 1.0;
        if (w == 0) continue;
        loss += w * a->nll[i];
        wsum += w;
    }
    a->mask_sum = wsum;
    return wsum > 0 ? (float)(loss / wsum) : NAN;
}

void fl_gpt_backward(fl_gpt *m, fl_gpt_acts *a) {
    const int V = m->cfg.vocab;
    const size_t N = (size_t)a->B * a->T;
    if (!a->targets || !(a->mask_sum > 0)) return;
    /* dlogits = w (p - onehot) / sum(w). */
    const float scale = (float)(1.0 / a->mask_sum);
    for (size_t i = 0; i < N; i++) {
        const float w = (a->mask ? a->mask[i] : 1.0f) * scale;
        float *d = a->dlogits + i * V;
        const float *p = a->probs + i * V;
        for (int j = 0; j < V; j++) d[j] = w * p[j];
        d[a->targets[i]] -= w;
    }
    fl_gpt_backward_logits(m, a);
}

void fl_gpt_backward_logits(fl_gpt *m, fl_gpt_acts *a) {
    const fl_gpt_config *c = &m->cfg;
    fl_blob *b = &m->blob;
    const int C = c->n_embd, NH = c->n_head, V = c->vocab, L = c->n_layer, B = a->B, T = a->T;
    const size_t N = (size_t)B * T;
    memset(a->dln, 0, sizeof(float) * N * C);
    fl_linear_backward(a->dln, fl_blob_grad(b, m->wte), NULL, a->dlogits, a->lnf, fl_blob_param(b, m->wte), (int)N, C,
                       V);
    memset(a->dx, 0, sizeof(float) * N * C);
    fl_layernorm_backward(a->dx, fl_blob_grad(b, m->lnf_w), fl_blob_grad(b, m->lnf_b), a->dln, a->x[L],
                          fl_blob_param(b, m->lnf_w), a->mf, a->rf, (int)N, C);
    /* a->dx holds the gradient of the residual stream as the walk goes down. */
    for (int l = L - 1; l >= 0; l--) {
        const fl_gpt_block_views *v = &m->blk[l];
        /* MLP: x[l+1] = x2 + c_proj(GELU(c_fc(ln_2(x2)))). */
        if (a->g_mlp[l]) memcpy(a->g_mlp[l], a->dx, sizeof(float) * N * C);
        memset(a->dfch, 0, sizeof(float) * N * 4 * C);
        fl_linear_backward(a->dfch, fl_blob_grad(b, v->fcp_w), fl_blob_grad(b, v->fcp_b), a->dx, a->fch[l],
                           fl_blob_param(b, v->fcp_w), (int)N, 4 * C, C);
        if (a->g_fch[l]) memcpy(a->g_fch[l], a->dfch, sizeof(float) * N * 4 * C);
        memset(a->dfc, 0, sizeof(float) * N * 4 * C);
        fl_gelu_backward(a->dfc, a->dfch, a->fc[l], (long)(N * 4 * C));
        memset(a->dln, 0, sizeof(float) * N * C);
        fl_linear_backward(a->dln, fl_blob_grad(b, v->fc_w), fl_blob_grad(b, v->fc_b), a->dfc, a->ln2[l],
                           fl_blob_param(b, v->fc_w), (int)N, C, 4 * C);
        fl_layernorm_backward(a->dx, fl_blob_grad(b, v->ln2_w), fl_blob_grad(b, v->ln2_b), a->dln, a->x2[l],
                              fl_blob_param(b, v->ln2_w), a->m2[l], a->r2[l], (int)N, C);
        /* Attention: x2 = x + c_proj(Attn(c_attn(ln_1(x)))). */
        if (a->g_attn[l]) memcpy(a->g_attn[l], a->dx, sizeof(float) * N * C);
        memset(a->dz, 0, sizeof(float) * N * C);
        fl_linear_backward(a->dz, fl_blob_grad(b, v->proj_w), fl_blob_grad(b, v->proj_b), a->dx, a->z[l],
                           fl_blob_param(b, v->proj_w), (int)N, C, C);
        if (a->g_z[l]) memcpy(a->g_z[l], a->dz, sizeof(float) * N * C);
        memset(a->dq, 0, sizeof(float) * N * C);
        memset(a->dk, 0, sizeof(float) * N * C);
        memset(a->dv, 0, sizeof(float) * N * C);
        fl_attention_backward(a->dq, a->dk, a->dv, a->dscore, a->dz, a->att[l], a->q[l], a->k[l], a->v[l], B, T, T, NH, C / NH);
        join_qkv(a->dqkv, a->dq, a->dk, a->dv, N, C);
        memset(a->dln, 0, sizeof(float) * N * C);
        fl_linear_backward(a->dln, fl_blob_grad(b, v->attn_w), fl_blob_grad(b, v->attn_b), a->dqkv, a->ln1[l],
                           fl_blob_param(b, v->attn_w), (int)N, C, 3 * C);
        fl_layernorm_backward(a->dx, fl_blob_grad(b, v->ln1_w), fl_blob_grad(b, v->ln1_b), a->dln, a->x[l],
                              fl_blob_param(b, v->ln1_w), a->m1[l], a->r1[l], (int)N, C);
    }
    if (a->g_embed) memcpy(a->g_embed, a->dx, sizeof(float) * N * C);
    if (!a->embeds) fl_embedding_backward(fl_blob_grad(b, m->wte), fl_blob_grad(b, m->wpe), a->dx, a->tok, B, T, C);
}
