/* gpt_sample.c: decoding the language model (gpt.h): one position at a
 * time with a key/value cache per layer, and batched sampling (greedy,
 * temperature, top-k, a stop token) that returns each sampled token's
 * log-probability with it. */
#include "forgetlab/nn/gpt.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include "vmath.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int fl_gpt_cache_alloc(fl_gpt_cache *c, const fl_gpt *m, int B) {
    memset(c, 0, sizeof *c);
    const fl_gpt_config *g = &m->cfg;
    const size_t C = (size_t)g->n_embd, T = (size_t)g->ctx, L = (size_t)g->n_layer, b = (size_t)B;
    if (B < 1) return fl_error_set("gpt cache: %d sequences", B);
    const size_t total = 2 * L * b * T * C + b * (C + C + 3 * C + C + C + 4 * C + 4 * C) + b * g->n_head * T + 2 * b +
                         2 * b * g->vocab;
    float *p = c->mem = calloc(total, sizeof(float));
    c->len = calloc(b, sizeof(int));
    if (!p || !c->len) {
        fl_gpt_cache_free(c);
        return fl_error_set("gpt cache: out of memory for %d sequences", B);
    }
#define TAKE(ptr, n) (ptr = p, p += (n))
    for (size_t l = 0; l < L; l++) TAKE(c->k[l], b * T * C), TAKE(c->v[l], b * T * C);
    TAKE(c->x, b * C), TAKE(c->ln, b * C), TAKE(c->qkv, b * 3 * C), TAKE(c->z, b * C), TAKE(c->x2, b * C);
    TAKE(c->fc, b * 4 * C), TAKE(c->fch, b * 4 * C), TAKE(c->att, b * g->n_head * T);
    TAKE(c->mean, b), TAKE(c->rstd, b), TAKE(c->logits, b * g->vocab), TAKE(c->next, b * g->vocab);
#undef TAKE
    c->B = B;
    return 0;
}

void fl_gpt_cache_free(fl_gpt_cache *c) {
    free(c->mem), free(c->len);
    memset(c, 0, sizeof *c);
}

void fl_gpt_cache_reset(fl_gpt_cache *c) { memset(c->len, 0, sizeof(int) * (size_t)c->B); }

int fl_gpt_step(const fl_gpt *m, fl_gpt_cache *c, const int *tok, const unsigned char *active) {
    const fl_gpt_config *g = &m->cfg;
    const fl_blob *bl = &m->blob;
    const int B = c->B, C = g->n_embd, NH = g->n_head, HS = C / NH, T = g->ctx;
    for (int b = 0; b < B; b++)
        if ((!active || active[b]) && c->len[b] >= T)
            return fl_error_set("sequence %d is full (%d tokens, the context)", b, T);
    const float *wte = fl_blob_param(bl, m->wte), *wpe = fl_blob_param(bl, m->wpe);
    /* Inactive rows are computed too (on position 0's slot they do not
     * write): one GEMM for the batch is cheaper than gathering rows. */
    for (int b = 0; b < B; b++) {
        const int t = c->len[b] < T ? c->len[b] : T - 1, v = tok[b] >= 0 && tok[b] < g->vocab ? tok[b] : 0;
        for (int i = 0; i < C; i++) c->x[(size_t)b * C + i] = wte[(size_t)v * C + i] + wpe[(size_t)t * C + i];
    }
    for (int l = 0; l < g->n_layer; l++) {
        const fl_gpt_block_views *w = &m->blk[l];
        fl_layernorm_forward(c->ln, c->mean, c->rstd, c->x, fl_blob_param(bl, w->ln1_w), fl_blob_param(bl, w->ln1_b),
                             B, C);
        fl_linear_forward(c->qkv, c->ln, fl_blob_param(bl, w->attn_w), fl_blob_param(bl, w->attn_b), B, C, 3 * C);
        /* Each sequence's new query over its keys 0..t: the layer of the
         * full pass with one query (Tq = 1), so the same sums. One thread
         * per sequence; the layer's own parallel loop then runs on it. */
#pragma omp parallel for schedule(dynamic, 4)
        for (int b = 0; b < B; b++) {
            if (active && !active[b]) continue;
            const int t = c->len[b];
            const float *row = c->qkv + (size_t)b * 3 * C;
            float *kb = c->k[l] + (size_t)b * T * C, *vb = c->v[l] + (size_t)b * T * C;
            memcpy(kb + (size_t)t * C, row + C, sizeof(float) * C);
            memcpy(vb + (size_t)t * C, row + 2 * C, sizeof(float) * C);
            fl_attention_forward(c->z + (size_t)b * C, c->att + (size_t)b * NH * T, row, kb, vb, 1, t + 1, 1, NH, HS);
        }
        fl_linear_forward(c->x2, c->z, fl_blob_param(bl, w->proj_w), fl_blob_param(bl, w->proj_b), B, C, C);
        cblas_saxpy(B * C, 1.0f, c->x, 1, c->x2, 1);
        fl_layernorm_forward(c->ln, c->mean, c->rstd, c->x2, fl_blob_param(bl, w->ln2_w), fl_blob_param(bl, w->ln2_b),
                             B, C);
        fl_linear_forward(c->fc, c->ln, fl_blob_param(bl, w->fc_w), fl_blob_param(bl, w->fc_b), B, C, 4 * C);
        fl_gelu_forward(c->fch, c->fc, (long)B * 4 * C);
        fl_linear_forward(c->x, c->fch, fl_blob_param(bl, w->fcp_w), fl_blob_param(bl, w->fcp_b), B, 4 * C, C);
        cblas_saxpy(B * C, 1.0f, c->x2, 1, c->x, 1);
    }
    fl_layernorm_forward(c->ln, c->mean, c->rstd, c->x, fl_blob_param(bl, m->lnf_w), fl_blob_param(bl, m->lnf_b), B, C);
    fl_linear_forward(c->next, c->ln, wte, NULL, B, C, g->vocab);
    /* Only the rows that advanced: the others keep their last token's. */
    for (int b = 0; b < B; b++)
        if (!active || active[b]) {
            memcpy(c->logits + (size_t)b * g->vocab, c->next + (size_t)b * g->vocab, sizeof(float) * g->vocab);
            c->len[b]++;
        }
    return 0;
}

/* log p(v) under softmax(z): z_v - max - log sum exp(z - max). */
static float log_prob(const float *z, int V, int v) {
    float mx = z[0], s = 0.0f;
    for (int j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < V; j++) s += fl_vexpf(z[j] - mx);
    return z[v] - mx - logf(s);
}

/* One token from logits z: the argmax (temperature 0), or a draw from
 * softmax(z / temperature) over the top_k largest (all when 0). */
static int draw(const float *z, int V, const fl_sample_opts *o, fl_rng *rng, float *w) {
    int best = 0;
    for (int j = 1; j < V; j++) best = z[j] > z[best] ? j : best;
    if (o->temperature <= 0) return best;
    /* The k-th largest logit is the cut (ties at it are all kept). */
    float cut = -INFINITY;
    if (o->top_k > 0 && o->top_k < V) {
        int above = 0;
        for (cut = z[best];; ) {
            float next = -INFINITY;
            above = 0;
            for (int j = 0; j < V; j++) above += z[j] >= cut, next = z[j] < cut && z[j] > next ? z[j] : next;
            if (above >= o->top_k || next == -INFINITY) break;
            cut = next;
        }
    }
    const float inv_t = (float)(1.0 / o->temperature), top = z[best];
    for (int j = 0; j < V; j++) w[j] = fl_vexpf((z[j] - top) * inv_t);
    double s = 0;
    for (int j = 0; j < V; j++) s += w[j] = z[j] >= cut ? w[j] : 0.0f;
    double u = fl_rng_double(rng) * s;
    for (int j = 0; j < V; j++) {
        if ((u -= w[j]) < 0) return j;
    }
    return best;
}

/* The first P tokens of prompts 0..B-1 (P: the shortest prompt's length)
 * in one forward pass of the whole model, their keys and values copied
 * into the cache and each row's next-token logits kept: one large matrix
 * product per layer instead of P small ones. */
static int prefill(const fl_gpt *m, fl_gpt_cache *c, const int *const *prompts, int B, int P) {
    const int C = m->cfg.n_embd, T = m->cfg.ctx, V = m->cfg.vocab;
    int *tok = malloc(sizeof(int) * (size_t)B * P);
    fl_gpt_acts a;
    if (!tok) return fl_error_set("sample: out of memory");
    if (fl_gpt_acts_alloc(&a, m, B, P)) {
        free(tok);
        return -1;
    }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < P; t++) tok[b * P + t] = prompts[b][t] >= 0 && prompts[b][t] < V ? prompts[b][t] : 0;
    fl_gpt_forward(m, &a, tok, NULL, NULL, B, P);
    for (int l = 0; l < m->cfg.n_layer; l++)
        for (int b = 0; b < B; b++) {
            memcpy(c->k[l] + (size_t)b * T * C, a.k[l] + (size_t)b * P * C, sizeof(float) * (size_t)P * C);
            memcpy(c->v[l] + (size_t)b * T * C, a.v[l] + (size_t)b * P * C, sizeof(float) * (size_t)P * C);
        }
    for (int b = 0; b < B; b++) {
        memcpy(c->logits + (size_t)b * V, a.logits + ((size_t)b * P + P - 1) * V, sizeof(float) * V);
        c->len[b] = P;
    }
    fl_gpt_acts_free(&a);
    free(tok);
    return 0;
}

int fl_gpt_sample(const fl_gpt *m, fl_gpt_cache *c, const int *const *prompts, const int *plen, int B,
                  const fl_sample_opts *o, int *out, int *out_len, float *logp) {
    const int V = m->cfg.vocab, T = m->cfg.ctx;
    if (B > c->B) return fl_error_set("sample: %d prompts, a cache for %d", B, c->B);
    if (!(o->temperature >= 0) || !isfinite(o->temperature)) return fl_error_set("temperature %g: must be >= 0", o->temperature);
    if (o->top_k < 0 || o->max_new < 1) return fl_error_set("top-k %d, max-new %d: must be >= 0 and >= 1", o->top_k, o->max_new);
    int longest = 0, shortest = T;
    for (int b = 0; b < B; b++) {
        if (plen[b] < 1) return fl_error_set("prompt %d is empty", b);
        if (plen[b] + o->max_new > T)
            return fl_error_set("prompt %d: %d tokens and %d new ones pass the context of %d", b, plen[b], o->max_new, T);
        longest = plen[b] > longest ? plen[b] : longest;
        shortest = plen[b] < shortest ? plen[b] : shortest;
    }
    unsigned char *active = calloc((size_t)c->B, 1);
    int *tok = calloc((size_t)c->B, sizeof(int));
    float *w = malloc(sizeof(float) * (size_t)V);
    if (!active || !tok || !w) {
        free(active), free(tok), free(w);
        return fl_error_set("sample: out of memory");
    }
    fl_rng rng;
    fl_rng_init(&rng, o->seed, FL_STREAM_SAMPLE);
    fl_gpt_cache_reset(c);
    /* The prompts: their common length at once, then position by position
     * (a shorter one waits, inactive). */
    int rc = prefill(m, c, prompts, B, shortest);
    for (int t = shortest; t < longest && rc == 0; t++) {
        for (int b = 0; b < c->B; b++) active[b] = b < B && t < plen[b], tok[b] = active[b] ? prompts[b][t] : 0;
        rc = fl_gpt_step(m, c, tok, active);
    }
    /* Every row's logits are its own last token's: a step writes only the
     * rows it advances (fl_gpt_step). */
    for (int b = 0; b < B; b++) out_len[b] = 0;
    for (int step = 0; step < o->max_new && rc == 0; step++) {
        int any = 0;
        for (int b = 0; b < c->B; b++) {
            active[b] = b < B && (step == 0 || (out_len[b] == step && (o->stop < 0 || out[(size_t)b * o->max_new + step - 1] != o->stop)));
            if (!active[b]) continue;
            const float *z = c->logits + (size_t)b * V;
            const int v = draw(z, V, o, &rng, w);
            out[(size_t)b * o->max_new + step] = v;
            if (logp) logp[(size_t)b * o->max_new + step] = log_prob(z, V, v);
            out_len[b] = step + 1;
            tok[b] = v;
            any = 1;
        }
        if (!any || step + 1 == o->max_new) break;
        rc = fl_gpt_step(m, c, tok, active);
    }
    free(active), free(tok), free(w);
    return rc;
}
