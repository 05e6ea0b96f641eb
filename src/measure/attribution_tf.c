/* attribution_tf.c: node and edge attribution patching for the transformer
 * (see attribution_tf.h), real activation patching to check them, and
 * circuit vectors per subtask. */
#include "forgetlab/measure/attribution_tf.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Examples per pass: bounds the memory of two runs whatever n. */
enum { CHUNK = 512 };

static int check_model(const fl_transformer *m) {
    if (!m->cfg.loss_last) return fl_error_set("attribution: the transformer must output at the last position only");
    return 0;
}

int fl_ap_tf_ncomponents(const fl_transformer *m) {
    return m->cfg.n_layers * (m->cfg.n_heads + 1 + m->cfg.d_mlp);
}

void fl_ap_tf_component(const fl_transformer *m, int c, int *layer, fl_tf_component *kind, int *index) {
    const int H = m->cfg.n_heads, per = H + 1 + m->cfg.d_mlp, r = c % per;
    *layer = c / per;
    *kind = r < H ? FL_TF_HEAD : r == H ? FL_TF_MLP : FL_TF_NEURON;
    *index = r < H ? r : r == H ? 0 : r - H - 1;
}

void fl_ap_tf_component_name(const fl_transformer *m, int c, char *buf, int n) {
    int l, i;
    fl_tf_component k;
    fl_ap_tf_component(m, c, &l, &k, &i);
    if (k == FL_TF_HEAD) snprintf(buf, (size_t)n, "blocks.%d.attn.head.%d", l, i);
    else if (k == FL_TF_MLP) snprintf(buf, (size_t)n, "blocks.%d.mlp", l);
    else snprintf(buf, (size_t)n, "blocks.%d.mlp.neuron.%d", l, i);
}

/* Where block l's activations start in the stacked per-example vector. */
static size_t stack_offset(const fl_transformer *m, int layer) {
    const size_t d = m->cfg.d_model, dm = m->cfg.d_mlp;
    size_t off = 0;
    for (int l = 0; l < layer; l++) {
        const size_t Tq = l == m->cfg.n_layers - 1 ? 1 : m->cfg.ctx;
        off += Tq * (2 * d + dm);
    }
    return off;
}

size_t fl_ap_tf_nacts(const fl_transformer *m) { return stack_offset(m, m->cfg.n_layers); }

/* Copies each example's node activations from a forward pass of B
 * examples into dst[B, nacts], stacked as stack_offset lays them out. */
static void stack_chunk(const fl_transformer *m, const fl_tf_acts *a, int B, float *dst) {
    const size_t na = fl_ap_tf_nacts(m), d = m->cfg.d_model, dm = m->cfg.d_mlp;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const fl_tf_block_acts *k = &a->blk[l];
        const size_t Tq = k->Tq, off = stack_offset(m, l);
        for (int b = 0; b < B; b++) {
            float *o = dst + (size_t)b * na + off;
            memcpy(o, k->z + b * Tq * d, sizeof(float) * Tq * d);
            memcpy(o + Tq * d, k->mlp + b * Tq * d, sizeof(float) * Tq * d);
            memcpy(o + 2 * Tq * d, k->post + b * Tq * dm, sizeof(float) * Tq * dm);
        }
    }
}

/* Every example's stacked activations (stack[n, nacts]), or with mean set
 * their mean over the examples (mean[nacts]) without keeping them all. */
static int stack_acts(fl_transformer *m, const int *tok, int n, float *stack, float *mean) {
    if (check_model(m)) return -1;
    const size_t na = fl_ap_tf_nacts(m), T = m->cfg.ctx;
    double *acc = mean ? calloc(na, sizeof(double)) : NULL;
    float *buf = mean ? malloc(sizeof(float) * CHUNK * na) : NULL;
    fl_tf_acts a;
    if (mean && (!acc || !buf)) {
        free(acc), free(buf);
        return fl_error_set("out of memory");
    }
    if (fl_tf_acts_alloc(&a, m, CHUNK)) {
        free(acc), free(buf);
        return -1;
    }
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        fl_tf_forward(m, &a, tok + (size_t)i * T, B);
        if (!mean) {
            stack_chunk(m, &a, B, stack + (size_t)i * na);
            continue;
        }
        stack_chunk(m, &a, B, buf);
        for (int b = 0; b < B; b++)
            for (size_t j = 0; j < na; j++) acc[j] += buf[(size_t)b * na + j];
    }
    if (mean)
        for (size_t j = 0; j < na; j++) mean[j] = (float)(acc[j] / n);
    free(acc), free(buf);
    fl_tf_acts_free(&a);
    return 0;
}

int fl_ap_tf_mean_acts(fl_transformer *m, const int *tok, int n, float *mean) {
    return stack_acts(m, tok, n, NULL, mean);
}

/* a' for one activation element: 0, the mean, or the counterfactual run's
 * value. */
static float corrupted(const fl_ap_opts *o, const float *cf, size_t cf_i, size_t mean_i) {
    return o->corrupt == FL_AP_CORRUPT_ZERO ? 0.0f : o->corrupt == FL_AP_CORRUPT_MEAN ? o->mean_acts[mean_i] : cf[cf_i];
}

/* The clean run of a chunk with its loss gradient, and the counterfactual
 * run when there is one. */
typedef struct {
    fl_tf_acts a, ac;
    float *losses, *dlogits;
} runs;

static int runs_alloc(runs *r, fl_transformer *m, int counterfactual) {
    memset(r, 0, sizeof *r);
    r->losses = malloc(sizeof(float) * CHUNK);
    r->dlogits = malloc(sizeof(float) * CHUNK * m->cfg.n_out);
    if (!r->losses || !r->dlogits || fl_tf_acts_alloc(&r->a, m, CHUNK) ||
        (counterfactual && fl_tf_acts_alloc(&r->ac, m, CHUNK)))
        return fl_error_set("attribution: out of memory");
    return 0;
}

static void runs_free(runs *r) {
    fl_tf_acts_free(&r->a);
    fl_tf_acts_free(&r->ac);
    free(r->losses), free(r->dlogits);
}

static void run_chunk(fl_transformer *m, runs *r, const fl_ap_opts *o, const int *tok, const int *tokc,
                      const int *target, int B) {
    if (r->ac.mem) fl_tf_forward(m, &r->ac, tokc, B);
    const float *z = fl_tf_forward(m, &r->a, tok, B);
    fl_ap_loss_eval(o->loss, 0, z, target, NULL, B, m->cfg.n_out, r->losses, r->dlogits);
    fl_blob_zero_grads(&m->blob);
    fl_tf_backward(m, &r->a, r->dlogits);
}

/* Rows per interpolated pass of AP-IG (examples x steps). */
enum { IG_ROWS = 1024 };

/* Per block, over the nodes' activations (z, mlp, post): the clean run's
 * gradients (AP); for AP-IG the accumulated scores (path form) or mean
 * gradients (averaged form), with the previous point's activations and
 * gradients as scratch (path form). */
typedef struct {
    float *dz[FL_TF_MAX_LAYERS], *dmlp[FL_TF_MAX_LAYERS], *dpost[FL_TF_MAX_LAYERS];
    float *mem;     /* [3][CHUNK * nacts]: accumulators, previous activations, previous gradients */
} node_grads;

/* acc -= (gprev + g)/2 (act - prev) (path form) or acc += g / M (averaged
 * form) over n floats; the path form then keeps act and g as the previous
 * point's. */
static void ig_step(int path, int first, int M, size_t n, const float *act, const float *g, float *acc, float *prev,
                    float *gprev) {
    if (!path) {
        for (size_t i = 0; i < n; i++) acc[i] += g[i] / M;
        return;
    }
    if (!first)
        for (size_t i = 0; i < n; i++) acc[i] -= 0.5f * (gprev[i] + g[i]) * (act[i] - prev[i]);
    memcpy(prev, act, sizeof(float) * n);
    memcpy(gprev, g, sizeof(float) * n);
}

/* AP-IG (attribution.h): block-0 inputs interpolated from e(x') to e(x),
 * points j = 1..M (averaged form) or 0..M (path form, trapezoidal), the
 * loss keeping the clean target and (KL) the clean logits z as its
 * reference. r->a holds the clean run, r->ac the corrupted one; ai runs up
 * to IG_ROWS interpolated rows. */
static void ig_node_grads(fl_transformer *m, runs *r, fl_tf_acts *ai, const fl_ap_opts *o, const int *tok,
                          const int *target, const float *z, int B, node_grads *g, float *emb, int *rtok,
                          int *rtarget, float *rref, float *rdlogits, float *rlosses) {
    const int T = m->cfg.ctx, d = m->cfg.d_model, dm = m->cfg.d_mlp, V = m->cfg.n_out, M = o->ig_steps;
    const int per = IG_ROWS / B > 0 ? IG_ROWS / B : 1, path = o->ig_form == FL_IG_PATH;
    const size_t na = fl_ap_tf_nacts(m), stride = (size_t)CHUNK * na; /* accumulators, then prev, then gprev */
    memset(g->mem, 0, sizeof(float) * stride);
    for (int k0 = path ? 0 : 1; k0 <= M; k0 += per) {
        const int S = M - k0 + 1 < per ? M - k0 + 1 : per, R = S * B;
        for (int s = 0; s < S; s++) {
            const float alpha = (float)(k0 + s) / (float)M;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++) {
                    const float *e = r->a.xt + ((size_t)tok[b * T + t] * T + t) * d;
                    const float *ec = r->ac.xt + ((size_t)r->ac.tok[b * T + t] * T + t) * d;
                    float *ei = emb + (((size_t)s * B + b) * T + t) * d;
                    for (int c = 0; c < d; c++) ei[c] = ec[c] + alpha * (e[c] - ec[c]);
                }
            memcpy(rtok + (size_t)s * B * T, tok, sizeof(int) * B * T);
            memcpy(rtarget + (size_t)s * B, target, sizeof(int) * B);
            memcpy(rref + (size_t)s * B * V, z, sizeof(float) * B * V);
        }
        fl_tf_run_embedded(m, ai, o, emb, rtok, rtarget, rref, R, rlosses, rdlogits);
        for (int l = 0; l < m->cfg.n_layers; l++) {
            const fl_tf_block_acts *k = &ai->blk[l];
            const size_t nz = (size_t)B * k->Tq * d, np = (size_t)B * k->Tq * dm;
            for (int s = 0; s < S; s++) {
                const int first = k0 + s == 0;
                ig_step(path, first, M, nz, k->z + s * nz, k->dz + s * nz, g->dz[l], g->dz[l] + stride,
                        g->dz[l] + 2 * stride);
                ig_step(path, first, M, nz, k->mlp + s * nz, k->dmlp + s * nz, g->dmlp[l], g->dmlp[l] + stride,
                        g->dmlp[l] + 2 * stride);
                ig_step(path, first, M, np, k->post + s * np, k->dpost + s * np, g->dpost[l], g->dpost[l] + stride,
                        g->dpost[l] + 2 * stride);
            }
        }
    }
}

/* The node scores of the B examples of a chunk into scores [B, nc]: per
 * layer, each head's and the MLP's output and each MLP neuron, the
 * gradient g times the activation's change (corrupted minus clean), or,
 * in the integrated path form, the integral g already holds. */
static void chunk_scores(const fl_transformer *m, const fl_ap_opts *o, const runs *r, const node_grads *g, int B,
                         int path, int nc, float *scores) {
    const int d = m->cfg.d_model, dm = m->cfg.d_mlp, H = m->cfg.n_heads, HS = m->d_head, L = m->cfg.n_layers;
    for (int b = 0; b < B; b++) {
        float *s = scores + (size_t)b * nc;
        for (int l = 0; l < L; l++) {
            const fl_tf_block_acts *k = &r->a.blk[l], *kc = &r->ac.blk[l];
            const int Tq = k->Tq;
            const size_t off = stack_offset(m, l);
            float *sl = s + l * (H + 1 + dm);
            for (int h = 0; h <= H; h++) sl[h] = 0.0f;
            for (int t = 0; t < Tq; t++) {
                const size_t row = ((size_t)b * Tq + t) * d;
                for (int c = 0; c < d; c++) {
                    const size_t mi = off + (size_t)t * d + c;
                    if (path) {
                        sl[c / HS] += g->dz[l][row + c];
                        sl[H] += g->dmlp[l][row + c];
                        continue;
                    }
                    sl[c / HS] += (corrupted(o, kc->z, row + c, mi) - k->z[row + c]) * g->dz[l][row + c];
                    sl[H] += (corrupted(o, kc->mlp, row + c, mi + (size_t)Tq * d) - k->mlp[row + c]) *
                             g->dmlp[l][row + c];
                }
            }
            for (int j = 0; j < dm; j++) {
                float tot = 0.0f;
                for (int t = 0; t < Tq; t++) {
                    const size_t at = ((size_t)b * Tq + t) * dm + j;
                    const size_t mi = off + 2 * (size_t)Tq * d + (size_t)t * dm + j;
                    tot += path ? g->dpost[l][at] : (corrupted(o, kc->post, at, mi) - k->post[at]) * g->dpost[l][at];
                }
                sl[H + 1 + j] = tot;
            }
        }
    }
}

void fl_tf_run_embedded(fl_transformer *m, fl_tf_acts *a, const fl_ap_opts *o, float *emb, const int *tok,
                        const int *target, const float *ref, int n, float *losses, float *dlogits) {
    a->embeds = emb;
    const float *z = fl_tf_forward(m, a, tok, n);
    fl_ap_loss_eval(o->loss, 0, z, target, ref, n, m->cfg.n_out, losses, dlogits);
    fl_blob_zero_grads(&m->blob);
    fl_tf_backward(m, a, dlogits);
    a->embeds = NULL;
}

int fl_ap_tf_scores(fl_transformer *m, const fl_ap_opts *o, const int *tok, const int *tokc, const int *target,
                   int n, float *scores) {
    if (check_model(m) || fl_ap_check(o, tokc != NULL)) return -1;
    const int T = m->cfg.ctx, d = m->cfg.d_model, dm = m->cfg.d_mlp;
    const int V = m->cfg.n_out, L = m->cfg.n_layers, M = o->ig_steps;
    const int nc = fl_ap_tf_ncomponents(m), cf = fl_ap_corrupt_is_input(o->corrupt);
    const int path = M > 0 && o->ig_form == FL_IG_PATH;
    const int rows = M > 0 ? (int)IG_ROWS : CHUNK; /* IG_ROWS >= CHUNK */
    runs r;
    fl_tf_acts ai = {0};
    node_grads g = {0};
    float *emb = NULL, *rref = NULL, *rdl = NULL, *rloss = NULL;
    int *rtok = NULL, *rtarget = NULL, rc = -1;
    if (runs_alloc(&r, m, cf)) goto out;
    if (M > 0) {
        emb = malloc(sizeof(float) * (size_t)rows * T * d), rref = malloc(sizeof(float) * (size_t)rows * V);
        rdl = malloc(sizeof(float) * (size_t)rows * V), rloss = malloc(sizeof(float) * rows);
        rtok = malloc(sizeof(int) * (size_t)rows * T), rtarget = malloc(sizeof(int) * rows);
        g.mem = malloc(sizeof(float) * 3 * (size_t)CHUNK * fl_ap_tf_nacts(m));
        if (!emb || !rref || !rdl || !rloss || !rtok || !rtarget || !g.mem || fl_tf_acts_alloc(&ai, m, rows)) {
            fl_error_set("attribution: out of memory for %d interpolated rows", rows);
            goto out;
        }
        float *p = g.mem;
        for (int l = 0; l < L; l++) {
            const size_t Tq = l == L - 1 ? 1 : (size_t)T;
            g.dz[l] = p, p += (size_t)CHUNK * Tq * d;
            g.dmlp[l] = p, p += (size_t)CHUNK * Tq * d;
            g.dpost[l] = p, p += (size_t)CHUNK * Tq * dm;
        }
    }
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        if (M > 0) {
            if (cf) fl_tf_forward(m, &r.ac, tokc + (size_t)i * T, B);
            const float *z = fl_tf_forward(m, &r.a, tok + (size_t)i * T, B);
            ig_node_grads(m, &r, &ai, o, tok + (size_t)i * T, target + i, z, B, &g, emb, rtok, rtarget, rref, rdl,
                          rloss);
        } else {
            run_chunk(m, &r, o, tok + (size_t)i * T, cf ? tokc + (size_t)i * T : NULL, target + i, B);
            for (int l = 0; l < L; l++) g.dz[l] = r.a.blk[l].dz, g.dmlp[l] = r.a.blk[l].dmlp, g.dpost[l] = r.a.blk[l].dpost;
        }
        chunk_scores(m, o, &r, &g, B, path, nc, scores + (size_t)i * nc);
    }
    rc = 0;
out:
    fl_blob_zero_grads(&m->blob);
    runs_free(&r);
    fl_tf_acts_free(&ai);
    free(emb), free(rref), free(rdl), free(rloss), free(rtok), free(rtarget), free(g.mem);
    return rc;
}

/* Forward passes over n sequences in chunks, optionally patched: the
 * logits into logits (if not NULL) and each sequence's loss into losses
 * (if not NULL). */
static int patched_pass(fl_transformer *m, const int *tok, int n, const fl_tf_patch *patch, fl_ap_loss loss,
                        const int *target, const float *ref, float *losses, float *logits) {
    if (check_model(m)) return -1;
    const int T = m->cfg.ctx, V = m->cfg.n_out;
    fl_tf_acts a;
    if (fl_tf_acts_alloc(&a, m, CHUNK)) return -1;
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        fl_tf_patch p;
        if (patch) {
            const int Tq = a.blk[patch->layer].Tq;
            const int width = patch->kind == FL_TF_HEAD ? m->d_head : patch->kind == FL_TF_MLP ? m->cfg.d_model : 1;
            p = *patch;
            p.values = patch->values + (size_t)i * Tq * width;
            a.patch = &p;
        }
        const float *z = fl_tf_forward(m, &a, tok + (size_t)i * T, B);
        if (logits) memcpy(logits + (size_t)i * V, z, sizeof(float) * B * V);
        if (losses)
            fl_ap_loss_eval(loss, 0, z, target + i, ref ? ref + (size_t)i * V : NULL, B, V, losses + i, NULL);
    }
    fl_tf_acts_free(&a);
    return 0;
}

int fl_tf_logits(fl_transformer *m, const int *tok, int n, float *logits) {
    return patched_pass(m, tok, n, NULL, FL_AP_LOSS_CE, NULL, NULL, NULL, logits);
}

int fl_ap_tf_patched_loss(fl_transformer *m, fl_ap_loss loss, const int *tok, const int *target, const float *ref,
                         int n, const fl_tf_patch *patch, float *losses) {
    return patched_pass(m, tok, n, patch, loss, target, ref, losses, NULL);
}

/* Node c's place in a stacked activation vector: its first value, how many
 * positions it has (Tq), the stride between positions and its width. */
static void node_slice(const fl_transformer *m, int c, size_t *off, int *Tq, int *stride, int *width) {
    int l, idx;
    fl_tf_component k;
    fl_ap_tf_component(m, c, &l, &k, &idx);
    const int d = m->cfg.d_model, dm = m->cfg.d_mlp;
    *Tq = l == m->cfg.n_layers - 1 ? 1 : m->cfg.ctx;
    *off = stack_offset(m, l);
    if (k == FL_TF_HEAD) *off += (size_t)idx * m->d_head, *width = m->d_head, *stride = d;
    else if (k == FL_TF_MLP) *off += (size_t)*Tq * d, *width = d, *stride = d;
    else *off += 2 * (size_t)*Tq * d + idx, *width = 1, *stride = dm;
}

int fl_ap_tf_patched_changes(fl_transformer *m, const fl_ap_opts *o, const int *tok, const int *tokc,
                            const int *target, int n, float *change) {
    if (check_model(m)) return -1;
    const size_t na = fl_ap_tf_nacts(m);
    const int nc = fl_ap_tf_ncomponents(m), cf = fl_ap_corrupt_is_input(o->corrupt);
    float *stack = cf ? malloc(sizeof(float) * (size_t)n * na) : NULL;
    float *clean = malloc(sizeof(float) * n), *patched = malloc(sizeof(float) * n);
    /* KL's reference: the clean run's logits. */
    float *ref = o->loss == FL_AP_LOSS_KL ? malloc(sizeof(float) * (size_t)n * m->cfg.n_out) : NULL;
    /* The widest node is an MLP output: ctx positions of d_model at most. */
    float *values = malloc(sizeof(float) * (size_t)n * m->cfg.ctx * m->cfg.d_model);
    int rc = -1;
    if ((cf && !stack) || !clean || !patched || !values || (o->loss == FL_AP_LOSS_KL && !ref)) {
        fl_error_set("activation patching: out of memory for %d examples", n);
        goto out;
    }
    if ((cf && stack_acts(m, tokc, n, stack, NULL)) || (ref && fl_tf_logits(m, tok, n, ref)) ||
        fl_ap_tf_patched_loss(m, o->loss, tok, target, ref, n, NULL, clean))
        goto out;
    for (int c = 0; c < nc; c++) {
        size_t off;
        int Tq, stride, width, l, idx;
        node_slice(m, c, &off, &Tq, &stride, &width);
        for (int e = 0; e < n; e++)
            for (int t = 0; t < Tq; t++)
                for (int j = 0; j < width; j++) {
                    const size_t at = off + (size_t)t * stride + j;
                    values[((size_t)e * Tq + t) * width + j] =
                        corrupted(o, cf ? stack + (size_t)e * na : NULL, at, at);
                }
        fl_tf_component kind;
        fl_ap_tf_component(m, c, &l, &kind, &idx);
        const fl_tf_patch p = {.layer = l, .kind = kind, .index = idx, .values = values};
        if (fl_ap_tf_patched_loss(m, o->loss, tok, target, ref, n, &p, patched)) goto out;
        for (int e = 0; e < n; e++) change[(size_t)e * nc + c] = patched[e] - clean[e];
    }
    rc = 0;
out:
    free(stack), free(clean), free(patched), free(values), free(ref);
    return rc;
}
