/* transformer.c: the decoder-only transformer (see transformer.h): its
 * tensors in one blob, the activation buffers, and the forward and backward
 * passes, composed from the layers of layers.c and layers_seq.c. */
#include "forgetlab/nn/transformer.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_tf_config_check(const fl_tf_config *c) {
    if (c->vocab < 1) return fl_error_set("transformer: vocab must be >= 1 (got %d)", c->vocab);
    if (c->n_out < 1) return fl_error_set("transformer: n_out must be >= 1 (got %d)", c->n_out);
    if (c->ctx < 1 || c->ctx > 4096) return fl_error_set("transformer: ctx must be in [1, 4096] (got %d)", c->ctx);
    if (c->n_layers < 1 || c->n_layers > FL_TF_MAX_LAYERS)
        return fl_error_set("transformer: layers must be in [1, %d] (got %d)", FL_TF_MAX_LAYERS, c->n_layers);
    if (c->d_model < 1 || c->n_heads < 1 || c->d_mlp < 1)
        return fl_error_set("transformer: d_model, heads and d_mlp must be >= 1");
    if (c->d_model % c->n_heads)
        return fl_error_set("transformer: d_model %d is not divisible by heads %d", c->d_model, c->n_heads);
    if (c->act != FL_TF_RELU && c->act != FL_TF_GELU) return fl_error_set("transformer: unknown activation");
    return 0;
}

/* Declares a Linear's weight [out, in] and bias [out]. */
static int add_linear(fl_blob *b, const char *prefix, int in, int out, int *w, int *bias) {
    char name[FL_NAME_MAX];
    snprintf(name, sizeof name, "%.50s.weight", prefix);
    *w = fl_blob_add(b, name, 2, (int[]){out, in});
    snprintf(name, sizeof name, "%.50s.bias", prefix);
    *bias = fl_blob_add(b, name, 1, (int[]){out});
    return *w < 0 || *bias < 0 ? -1 : 0;
}

static int add_layernorm(fl_blob *b, const char *prefix, int d, int *w, int *bias) {
    char name[FL_NAME_MAX];
    snprintf(name, sizeof name, "%.50s.weight", prefix);
    *w = fl_blob_add(b, name, 1, (int[]){d});
    snprintf(name, sizeof name, "%.50s.bias", prefix);
    *bias = fl_blob_add(b, name, 1, (int[]){d});
    return *w < 0 || *bias < 0 ? -1 : 0;
}

/* Declares the model's views in m->blob (nothing allocated yet). */
static int declare(fl_transformer *m, const fl_tf_config *c) {
    memset(m, 0, sizeof *m);
    if (fl_tf_config_check(c)) return -1;
    m->cfg = *c;
    m->d_head = c->d_model / c->n_heads;
    const int d = c->d_model;
    fl_blob *b = &m->blob;
    fl_blob_init(b);
    int rc = 0;
    m->wte = fl_blob_add(b, "embed.weight", 2, (int[]){c->vocab, d});
    m->wpe = fl_blob_add(b, "pos_embed.weight", 2, (int[]){c->ctx, d});
    rc |= m->wte < 0 || m->wpe < 0;
    for (int l = 0; l < c->n_layers; l++) {
        fl_tf_block_views *v = &m->blk[l];
        char p[FL_NAME_MAX];
        memset(v, -1, sizeof *v);
#define BLOCK_PART(part) (snprintf(p, sizeof p, "blocks.%d.%s", l, part), p)
        if (c->layernorm) rc |= add_layernorm(b, BLOCK_PART("ln1"), d, &v->ln1_w, &v->ln1_b);
        rc |= add_linear(b, BLOCK_PART("attn.q"), d, d, &v->q_w, &v->q_b);
        rc |= add_linear(b, BLOCK_PART("attn.k"), d, d, &v->k_w, &v->k_b);
        rc |= add_linear(b, BLOCK_PART("attn.v"), d, d, &v->v_w, &v->v_b);
        rc |= add_linear(b, BLOCK_PART("attn.o"), d, d, &v->o_w, &v->o_b);
        if (c->layernorm) rc |= add_layernorm(b, BLOCK_PART("ln2"), d, &v->ln2_w, &v->ln2_b);
        rc |= add_linear(b, BLOCK_PART("mlp.fc_in"), d, c->d_mlp, &v->in_w, &v->in_b);
        rc |= add_linear(b, BLOCK_PART("mlp.fc_out"), c->d_mlp, d, &v->out_w, &v->out_b);
#undef BLOCK_PART
    }
    m->lnf_w = m->lnf_b = -1;
    if (c->layernorm) rc |= add_layernorm(b, "ln_f", d, &m->lnf_w, &m->lnf_b);
    rc |= add_linear(b, "unembed", d, c->n_out, &m->wu, &m->bu);
    return rc ? fl_error_set("transformer: too many tensors") : 0;
}

int64_t fl_tf_param_count(const fl_tf_config *c) {
    fl_transformer m;
    return declare(&m, c) ? -1 : (int64_t)m.blob.n;
}

int fl_tf_create(fl_transformer *m, const fl_tf_config *c) {
    if (declare(m, c)) return -1;
    if (fl_blob_alloc(&m->blob)) {
        fl_blob_free(&m->blob);
        return fl_error_set("transformer: cannot allocate the model");
    }
    return 0;
}

void fl_tf_free(fl_transformer *m) { fl_blob_free(&m->blob); }

void fl_tf_init(fl_transformer *m, fl_tf_init_kind kind, fl_rng *rng) {
    fl_blob *b = &m->blob;
    for (int i = 0; i < b->nviews; i++) {
        const fl_view *v = &b->views[i];
        float *p = fl_blob_param(b, i);
        const char *name = v->name;
        const int is_ln = strstr(name, "ln1.") || strstr(name, "ln2.") || strncmp(name, "ln_f.", 5) == 0;
        const int is_embed = i == m->wte || i == m->wpe, is_bias = v->ndim == 1;
        /* The fan-in of a Linear is its weight's second dimension; a bias
         * follows its weight. */
        const int fan_in = is_embed ? m->cfg.d_model : (is_bias ? &b->views[i - 1] : v)->shape[1];
        for (size_t j = 0; j < v->numel; j++) {
            if (is_ln) p[j] = is_bias ? 0.0f : 1.0f;
            else if (kind == FL_TF_INIT_SCALED) p[j] = is_bias ? 0.0f : (float)(fl_rng_normal(rng) / sqrt(fan_in));
            else if (is_embed) p[j] = (float)fl_rng_normal(rng);
            else p[j] = (2.0f * fl_rng_float(rng) - 1.0f) / sqrtf((float)fan_in);
        }
    }
}

int fl_tf_out_positions(const fl_transformer *m) { return m->cfg.loss_last ? 1 : m->cfg.ctx; }

/* ---- activation buffers ----
 * Laid out twice: once to count (base NULL), once to assign; pass 0 of
 * the loop lays out the activations, pass 1 their gradients. */
typedef struct {
    float *base;
    size_t used;
} arena;

static float *take(arena *ar, size_t n) {
    float *p = ar->base ? ar->base + ar->used : NULL;
    ar->used += (n + 15) & ~(size_t)15; /* 64-byte aligned slices */
    return p;
}

static size_t layout(fl_tf_acts *a, const fl_transformer *m, int B, float *base) {
    const fl_tf_config *c = &m->cfg;
    const size_t T = c->ctx, d = c->d_model, dm = c->d_mlp, H = c->n_heads;
    arena ar = {base, 0};
    for (int pass = 0; pass < 2; pass++) {
        for (int l = 0; l < c->n_layers; l++) {
            fl_tf_block_acts *k = &a->blk[l];
            const size_t Tq = (l == c->n_layers - 1 && c->loss_last) ? 1 : T;
            const int ln = c->layernorm, sub = Tq < T;
            k->Tq = (int)Tq;
            float **x = pass ? &k->dx : &k->x, **h = pass ? &k->dh : &k->h;
            float **hq = pass ? &k->dhq : &k->hq, **xq = pass ? &k->dxq : &k->xq;
            float **q = pass ? &k->dq : &k->q, **kk = pass ? &k->dk : &k->k, **v = pass ? &k->dv : &k->v;
            float **z = pass ? &k->dz : &k->z, **attn = pass ? &k->dattn : &k->attn;
            float **mid = pass ? &k->dmid : &k->mid, **h2 = pass ? &k->dh2 : &k->h2;
            float **pre = pass ? &k->dpre : &k->pre, **post = pass ? &k->dpost : &k->post;
            float **mlp = pass ? &k->dmlp : &k->mlp;
            /* Block l's input is block l-1's output; block 0's comes from
             * the (token, position) tables below, or from acts.embeds. */
            *x = take(&ar, B * T * d);
            *h = ln ? take(&ar, B * T * d) : *x;
            *hq = sub ? take(&ar, B * Tq * d) : *h;
            *xq = sub ? take(&ar, B * Tq * d) : *x;
            *q = take(&ar, B * Tq * d);
            *kk = take(&ar, B * T * d);
            *v = take(&ar, B * T * d);
            *z = take(&ar, B * Tq * d);
            *attn = take(&ar, B * Tq * d);
            *mid = take(&ar, B * Tq * d);
            *h2 = ln ? take(&ar, B * Tq * d) : *mid;
            *pre = take(&ar, B * Tq * dm);
            *post = take(&ar, B * Tq * dm);
            *mlp = take(&ar, B * Tq * d);
            if (pass == 1) k->dscore = take(&ar, B * H * Tq * T);
            if (pass == 0) {
                k->att = take(&ar, B * H * Tq * T);
                k->ln1_mean = take(&ar, B * T);
                k->ln1_rstd = take(&ar, B * T);
                k->ln2_mean = take(&ar, B * Tq);
                k->ln2_rstd = take(&ar, B * Tq);
            }
        }
        const size_t U = (size_t)c->vocab * T;
        float **xt = pass ? &a->dxt : &a->xt, **ht = pass ? &a->dht : &a->ht;
        *xt = take(&ar, U * d);
        *ht = c->layernorm ? take(&ar, U * d) : *xt;
        *(pass ? &a->dqt : &a->qt) = take(&ar, U * d);
        *(pass ? &a->dkt : &a->kt) = take(&ar, U * d);
        *(pass ? &a->dvt : &a->vt) = take(&ar, U * d);
        if (pass == 0) {
            a->tln_mean = take(&ar, U);
            a->tln_rstd = take(&ar, U);
        }
        const size_t Tq = fl_tf_out_positions(m);
        float **res = pass ? &a->dres : &a->res, **hf = pass ? &a->dhf : &a->hf;
        *res = take(&ar, B * Tq * d);
        *hf = c->layernorm ? take(&ar, B * Tq * d) : *res;
        if (pass == 0) {
            a->lnf_mean = take(&ar, B * Tq);
            a->lnf_rstd = take(&ar, B * Tq);
            a->logits = take(&ar, B * Tq * c->n_out);
        }
    }
    return ar.used;
}

int fl_tf_acts_alloc(fl_tf_acts *a, const fl_transformer *m, int cap_B) {
    memset(a, 0, sizeof *a);
    size_t n = layout(a, m, cap_B, NULL);
    a->mem = aligned_alloc(64, n * sizeof(float));
    if (!a->mem) return fl_error_set("transformer: cannot allocate activations for batch %d", cap_B);
    memset(a->mem, 0, n * sizeof(float));
    layout(a, m, cap_B, a->mem);
    a->cap_B = cap_B;
    a->U = m->cfg.vocab * m->cfg.ctx;
    if (!(a->ttok = malloc(sizeof(int) * a->U))) {
        fl_tf_acts_free(a);
        return fl_error_set("transformer: out of memory");
    }
    for (int r = 0; r < a->U; r++) a->ttok[r] = r / m->cfg.ctx;
    return 0;
}

void fl_tf_acts_free(fl_tf_acts *a) {
    free(a->mem);
    free(a->ttok);
    memset(a, 0, sizeof *a);
}

/* dst[b, :] = src[b, T-1, :]: the last position of each sequence. */
static void gather_last(float *dst, const float *src, int B, int T, int d) {
    for (int b = 0; b < B; b++)
        memcpy(dst + (size_t)b * d, src + ((size_t)b * T + T - 1) * d, (size_t)d * sizeof(float));
}

/* dst[b, i, :] = table[tok[b, t] * T + t, :] with t = t0 + i, i < n: the
 * rows of a (token, position) table that positions t0 .. t0+n-1 use. */
static void gather_table(float *dst, const float *table, const int *tok, int B, int T, int t0, int n, int d) {
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            const int t = t0 + i;
            memcpy(dst + ((size_t)b * n + i) * d, table + ((size_t)tok[b * T + t] * T + t) * d, sizeof(float) * d);
        }
}

/* The adjoint of gather_table: table rows += the gradients of their uses. */
static void scatter_add_table(float *table, const float *src, const int *tok, int B, int T, int t0, int n, int d) {
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            const int t = t0 + i;
            float *o = table + ((size_t)tok[b * T + t] * T + t) * d;
            const float *g = src + ((size_t)b * n + i) * d;
            for (int c = 0; c < d; c++) o[c] += g[c];
        }
}

static void scatter_add_last(float *dst, const float *src, int B, int T, int d) {
    for (int b = 0; b < B; b++) {
        float *o = dst + ((size_t)b * T + T - 1) * d;
        const float *s = src + (size_t)b * d;
        for (int c = 0; c < d; c++) o[c] += s[c];
    }
}

static void add(float *out, const float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = x[i] + y[i];
}

static void acc(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] += x[i];
}

/* Clears the B sequences' rows of every activation gradient (buffers are
 * sized for cap_B; an aliased buffer is simply cleared twice). */
static void zero_grads(fl_tf_acts *a, const fl_transformer *m, int B) {
    const fl_tf_config *c = &m->cfg;
    const size_t T = c->ctx, d = c->d_model, dm = c->d_mlp;
    for (int l = 0; l < c->n_layers; l++) {
        fl_tf_block_acts *k = &a->blk[l];
        const size_t Tq = k->Tq, full = B * T * d, part = B * Tq * d;
        float *bufs[] = {k->dx, k->dh, k->dk, k->dv, k->dhq, k->dxq, k->dq, k->dz, k->dattn, k->dmid, k->dh2, k->dmlp};
        const size_t sizes[] = {full, full, full, full, part, part, part, part, part, part, part, part};
        for (int i = 0; i < 12; i++)
            if (bufs[i]) memset(bufs[i], 0, sizes[i] * sizeof(float));
        memset(k->dpre, 0, B * Tq * dm * sizeof(float));
        memset(k->dpost, 0, B * Tq * dm * sizeof(float));
    }
    float *tables[] = {a->dxt, a->dht, a->dqt, a->dkt, a->dvt};
    for (int i = 0; i < 5; i++) memset(tables[i], 0, (size_t)a->U * d * sizeof(float));
    const size_t out = (size_t)B * fl_tf_out_positions(m) * d;
    memset(a->dres, 0, out * sizeof(float));
    memset(a->dhf, 0, out * sizeof(float));
}

/* Overwrites columns [index*width, (index+1)*width) of the N rows of
 * act[N, cols] with the patch's values when it targets (layer, kind). */
static void apply_patch(const fl_tf_acts *a, int layer, fl_tf_component kind, float *act, int N, int cols,
                        int width) {
    const fl_tf_patch *p = a->patch;
    if (!p || p->layer != layer || p->kind != kind) return;
    const int c0 = kind == FL_TF_MLP ? 0 : p->index * width;
    for (int r = 0; r < N; r++)
        memcpy(act + (size_t)r * cols + c0, p->values + (size_t)r * width, sizeof(float) * width);
}

#define P(view) fl_blob_param(&m->blob, (view))
#define G(view) fl_blob_grad(&m->blob, (view))

const float *fl_tf_forward(const fl_transformer *m, fl_tf_acts *a, const int *tok, int B) {
    const fl_tf_config *c = &m->cfg;
    const int T = c->ctx, d = c->d_model, dm = c->d_mlp, H = c->n_heads, HS = m->d_head;
    a->B = B;
    a->tok = tok;
    for (int l = 0; l < c->n_layers; l++) {
        const fl_tf_block_views *w = &m->blk[l];
        fl_tf_block_acts *k = &a->blk[l];
        const int Tq = k->Tq, Nq = B * Tq;
        if (l == 0 && !a->embeds) {
            const int U = a->U;
            fl_embedding_forward(a->xt, a->ttok, P(m->wte), P(m->wpe), c->vocab, T, d);
            if (c->layernorm)
                fl_layernorm_forward(a->ht, a->tln_mean, a->tln_rstd, a->xt, P(w->ln1_w), P(w->ln1_b), U, d);
            fl_linear_forward(a->qt, a->ht, P(w->q_w), P(w->q_b), U, d, d);
            fl_linear_forward(a->kt, a->ht, P(w->k_w), P(w->k_b), U, d, d);
            fl_linear_forward(a->vt, a->ht, P(w->v_w), P(w->v_b), U, d, d);
            gather_table(k->q, a->qt, tok, B, T, T - Tq, Tq, d);
            gather_table(k->k, a->kt, tok, B, T, 0, T, d);
            gather_table(k->v, a->vt, tok, B, T, 0, T, d);
            gather_table(k->xq, a->xt, tok, B, T, T - Tq, Tq, d);
        } else {
            if (l == 0) memcpy(k->x, a->embeds, sizeof(float) * B * T * d);
            if (c->layernorm)
                fl_layernorm_forward(k->h, k->ln1_mean, k->ln1_rstd, k->x, P(w->ln1_w), P(w->ln1_b), B * T, d);
            if (Tq < T) {
                gather_last(k->hq, k->h, B, T, d);
                gather_last(k->xq, k->x, B, T, d);
            }
            fl_linear_forward(k->q, k->hq, P(w->q_w), P(w->q_b), Nq, d, d);
            fl_linear_forward(k->k, k->h, P(w->k_w), P(w->k_b), B * T, d, d);
            fl_linear_forward(k->v, k->h, P(w->v_w), P(w->v_b), B * T, d, d);
        }
        fl_attention_forward(k->z, k->att, k->q, k->k, k->v, B, T, Tq, H, HS);
        apply_patch(a, l, FL_TF_HEAD, k->z, Nq, d, HS);
        fl_linear_forward(k->attn, k->z, P(w->o_w), P(w->o_b), Nq, d, d);
        add(k->mid, k->xq, k->attn, (size_t)Nq * d);
        if (c->layernorm)
            fl_layernorm_forward(k->h2, k->ln2_mean, k->ln2_rstd, k->mid, P(w->ln2_w), P(w->ln2_b), Nq, d);
        fl_linear_forward(k->pre, k->h2, P(w->in_w), P(w->in_b), Nq, d, dm);
        if (c->act == FL_TF_RELU) fl_relu_forward(k->post, k->pre, (long)Nq * dm);
        else fl_gelu_forward(k->post, k->pre, (long)Nq * dm);
        apply_patch(a, l, FL_TF_NEURON, k->post, Nq, dm, 1);
        fl_linear_forward(k->mlp, k->post, P(w->out_w), P(w->out_b), Nq, dm, d);
        apply_patch(a, l, FL_TF_MLP, k->mlp, Nq, d, d);
        float *out = l + 1 < c->n_layers ? a->blk[l + 1].x : a->res;
        add(out, k->mid, k->mlp, (size_t)Nq * d);
    }
    const int No = B * fl_tf_out_positions(m);
    if (c->layernorm) fl_layernorm_forward(a->hf, a->lnf_mean, a->lnf_rstd, a->res, P(m->lnf_w), P(m->lnf_b), No, d);
    fl_linear_forward(a->logits, a->hf, P(m->wu), P(m->bu), No, d, c->n_out);
    return a->logits;
}

/* Block 0 from its q, k, v and residual gradients back to the embeddings,
 * through the (token, position) tables. */
static void block0_backward(fl_transformer *m, fl_tf_acts *a, int B) {
    const fl_tf_config *c = &m->cfg;
    const fl_tf_block_views *w = &m->blk[0];
    fl_tf_block_acts *k = &a->blk[0];
    const int T = c->ctx, d = c->d_model, Tq = k->Tq, U = a->U;
    scatter_add_table(a->dqt, k->dq, a->tok, B, T, T - Tq, Tq, d);
    scatter_add_table(a->dkt, k->dk, a->tok, B, T, 0, T, d);
    scatter_add_table(a->dvt, k->dv, a->tok, B, T, 0, T, d);
    scatter_add_table(a->dxt, k->dxq, a->tok, B, T, T - Tq, Tq, d);
    fl_linear_backward(a->dht, G(w->q_w), G(w->q_b), a->dqt, a->ht, P(w->q_w), U, d, d);
    fl_linear_backward(a->dht, G(w->k_w), G(w->k_b), a->dkt, a->ht, P(w->k_w), U, d, d);
    fl_linear_backward(a->dht, G(w->v_w), G(w->v_b), a->dvt, a->ht, P(w->v_w), U, d, d);
    if (c->layernorm)
        fl_layernorm_backward(a->dxt, G(w->ln1_w), G(w->ln1_b), a->dht, a->xt, P(w->ln1_w), a->tln_mean,
                              a->tln_rstd, U, d);
    fl_embedding_backward(G(m->wte), G(m->wpe), a->dxt, a->ttok, c->vocab, T, d);
}

void fl_tf_backward(fl_transformer *m, fl_tf_acts *a, const float *dlogits) {
    const fl_tf_config *c = &m->cfg;
    const int T = c->ctx, d = c->d_model, dm = c->d_mlp, H = c->n_heads, HS = m->d_head, B = a->B;
    zero_grads(a, m, B);
    const int No = B * fl_tf_out_positions(m);
    fl_linear_backward(a->dhf, G(m->wu), G(m->bu), dlogits, a->hf, P(m->wu), No, d, c->n_out);
    if (c->layernorm)
        fl_layernorm_backward(a->dres, G(m->lnf_w), G(m->lnf_b), a->dhf, a->res, P(m->lnf_w), a->lnf_mean,
                              a->lnf_rstd, No, d);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const fl_tf_block_views *w = &m->blk[l];
        fl_tf_block_acts *k = &a->blk[l];
        const int Tq = k->Tq, Nq = B * Tq;
        const float *dout = l + 1 < c->n_layers ? a->blk[l + 1].dx : a->dres;
        acc(k->dmlp, dout, (size_t)Nq * d);
        acc(k->dmid, dout, (size_t)Nq * d);
        fl_linear_backward(k->dpost, G(w->out_w), G(w->out_b), k->dmlp, k->post, P(w->out_w), Nq, dm, d);
        if (c->act == FL_TF_RELU) fl_relu_backward(k->dpre, k->dpost, k->pre, (long)Nq * dm);
        else fl_gelu_backward(k->dpre, k->dpost, k->pre, (long)Nq * dm);
        fl_linear_backward(k->dh2, G(w->in_w), G(w->in_b), k->dpre, k->h2, P(w->in_w), Nq, d, dm);
        if (c->layernorm)
            fl_layernorm_backward(k->dmid, G(w->ln2_w), G(w->ln2_b), k->dh2, k->mid, P(w->ln2_w), k->ln2_mean,
                                  k->ln2_rstd, Nq, d);
        acc(k->dxq, k->dmid, (size_t)Nq * d);
        acc(k->dattn, k->dmid, (size_t)Nq * d);
        fl_linear_backward(k->dz, G(w->o_w), G(w->o_b), k->dattn, k->z, P(w->o_w), Nq, d, d);
        fl_attention_backward(k->dq, k->dk, k->dv, k->dscore, k->dz, k->att, k->q, k->k, k->v, B, T, Tq, H, HS);
        if (l == 0 && !a->embeds) {
            block0_backward(m, a, B);
            continue;
        }
        fl_linear_backward(k->dhq, G(w->q_w), G(w->q_b), k->dq, k->hq, P(w->q_w), Nq, d, d);
        fl_linear_backward(k->dh, G(w->k_w), G(w->k_b), k->dk, k->h, P(w->k_w), B * T, d, d);
        fl_linear_backward(k->dh, G(w->v_w), G(w->v_b), k->dv, k->h, P(w->v_w), B * T, d, d);
        if (Tq < T) {
            scatter_add_last(k->dh, k->dhq, B, T, d);
            scatter_add_last(k->dx, k->dxq, B, T, d);
        }
        if (c->layernorm)
            fl_layernorm_backward(k->dx, G(w->ln1_w), G(w->ln1_b), k->dh, k->x, P(w->ln1_w), k->ln1_mean,
                                  k->ln1_rstd, B * T, d);
    }
}

#undef P
#undef G

void fl_tf_spec_string(const fl_tf_config *c, char *buf, int n) {
    snprintf(buf, n, "ctx=%d layers=%d d_model=%d heads=%d d_mlp=%d act=%s ln=%d last=%d vocab=%d n_out=%d",
             c->ctx, c->n_layers, c->d_model, c->n_heads, c->d_mlp, c->act == FL_TF_GELU ? "gelu" : "relu",
             c->layernorm, c->loss_last, c->vocab, c->n_out);
}

int fl_tf_parse_spec(const char *spec, fl_tf_config *c) {
    char act[8];
    memset(c, 0, sizeof *c);
    if (sscanf(spec, "ctx=%d layers=%d d_model=%d heads=%d d_mlp=%d act=%7s ln=%d last=%d vocab=%d n_out=%d",
               &c->ctx, &c->n_layers, &c->d_model, &c->n_heads, &c->d_mlp, act, &c->layernorm, &c->loss_last,
               &c->vocab, &c->n_out) != 10)
        return fl_error_set("transformer spec '%s' is malformed", spec);
    if (strcmp(act, "relu") == 0) c->act = FL_TF_RELU;
    else if (strcmp(act, "gelu") == 0) c->act = FL_TF_GELU;
    else return fl_error_set("transformer spec: unknown activation '%s'", act);
    return fl_tf_config_check(c);
}
