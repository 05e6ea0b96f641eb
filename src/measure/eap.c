/* eap.c: edge attribution patching on the transformer's residual graph
 * (attribution_tf.h): every node's write into the residual stream, every
 * node's read from it along its own path, and their dot products.
 *
 * The stream is ordered: the embedding writes first (order 0); block l's
 * heads read at 2l+1 and write after it, its MLP reads at 2l+2 and writes
 * after it; the unembedding reads last. An edge u -> v exists when u writes
 * before v reads. */
#include "forgetlab/measure/attribution_tf.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 256 };

/* Upstream nodes: 0 the embedding, then per block its heads and its MLP.
 * Downstream nodes: per block each head's q, k, v, then its MLP; last the
 * unembedding. */
static int n_up(const fl_transformer *m) { return 1 + m->cfg.n_layers * (m->cfg.n_heads + 1); }
static int n_down(const fl_transformer *m) { return m->cfg.n_layers * (3 * m->cfg.n_heads + 1) + 1; }

static int up_order(const fl_transformer *m, int u) {
    if (u == 0) return 0;
    const int l = (u - 1) / (m->cfg.n_heads + 1), r = (u - 1) % (m->cfg.n_heads + 1);
    return r < m->cfg.n_heads ? 2 * l + 1 : 2 * l + 2;
}

static int down_order(const fl_transformer *m, int v) {
    const int per = 3 * m->cfg.n_heads + 1;
    if (v == n_down(m) - 1) return 2 * m->cfg.n_layers + 1;
    return v % per < 3 * m->cfg.n_heads ? 2 * (v / per) + 1 : 2 * (v / per) + 2;
}

static void up_name(const fl_transformer *m, int u, char *buf, int n) {
    if (u == 0) {
        snprintf(buf, (size_t)n, "embed");
        return;
    }
    const int l = (u - 1) / (m->cfg.n_heads + 1), r = (u - 1) % (m->cfg.n_heads + 1);
    if (r < m->cfg.n_heads) snprintf(buf, (size_t)n, "blocks.%d.attn.head.%d", l, r);
    else snprintf(buf, (size_t)n, "blocks.%d.mlp", l);
}

static void down_name(const fl_transformer *m, int v, char *buf, int n) {
    const int per = 3 * m->cfg.n_heads + 1;
    if (v == n_down(m) - 1) snprintf(buf, (size_t)n, "unembed");
    else if (v % per < 3 * m->cfg.n_heads)
        snprintf(buf, (size_t)n, "blocks.%d.attn.head.%d.%c", v / per, v % per / 3, "qkv"[v % per % 3]);
    else snprintf(buf, (size_t)n, "blocks.%d.mlp", v / per);
}

int fl_eap_nedges(const fl_transformer *m) {
    int e = 0;
    for (int v = 0; v < n_down(m); v++)
        for (int u = 0; u < n_up(m); u++) e += up_order(m, u) < down_order(m, v);
    return e;
}

/* The (u, v) of edge e, in the order downstream-major. */
static void edge_nodes(const fl_transformer *m, int e, int *u_out, int *v_out) {
    for (int v = 0; v < n_down(m); v++)
        for (int u = 0; u < n_up(m); u++)
            if (up_order(m, u) < down_order(m, v) && e-- == 0) {
                *u_out = u, *v_out = v;
                return;
            }
}

void fl_eap_edge_name(const fl_transformer *m, int e, char *buf, int n) {
    int u = 0, v = 0;
    char a[64], b[64];
    edge_nodes(m, e, &u, &v);
    up_name(m, u, a, sizeof a);
    down_name(m, v, b, sizeof b);
    snprintf(buf, (size_t)n, "%s->%s", a, b);
}

/* A node's tensor over the chunk: [B, Tn, d] for positions t0 .. T-1. */
typedef struct {
    float *x;
    int t0, Tn;
} node_tensor;

/* out[N, d] = in[N, columns c0 .. c0+w) times a slice of a weight W whose
 * rows are d long: transposed, columns c0 .. c0+w of W[d, d] (a head's
 * slice of the output projection); else rows c0 .. c0+w of W[*, d] (a
 * head's slice of q, k or v, or an MLP's input weight). */
static void project(float *out, const float *in, int ldin, int c0, int w, const float *W, int d, int transposed,
                    int N) {
    if (transposed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, d, w, 1.0f, in + c0, ldin, W + c0, d, 0.0f, out,
                    d);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, d, w, 1.0f, in + c0, ldin, W + (size_t)c0 * d, d,
                    0.0f, out, d);
}

/* Writes of every upstream node for the run `a` (the embedding; each head's
 * z_h W_O,h^T; each MLP's output). */
static void upstream_writes(const fl_transformer *m, const fl_tf_acts *a, int B, node_tensor *up) {
    const int T = m->cfg.ctx, d = m->cfg.d_model, H = m->cfg.n_heads, HS = m->d_head;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(up[0].x + ((size_t)b * T + t) * d, a->xt + ((size_t)a->tok[b * T + t] * T + t) * d,
                   sizeof(float) * d);
    up[0].t0 = 0, up[0].Tn = T;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const fl_tf_block_acts *k = &a->blk[l];
        const int Tq = k->Tq;
        const float *Wo = fl_blob_param(&m->blob, m->blk[l].o_w);
        for (int h = 0; h <= H; h++) {
            node_tensor *nt = &up[1 + l * (H + 1) + h];
            nt->t0 = T - Tq, nt->Tn = Tq;
            if (h < H) project(nt->x, k->z, d, h * HS, HS, Wo, d, 1, B * Tq);
            else memcpy(nt->x, k->mlp, sizeof(float) * B * Tq * d);
        }
    }
}

/* Reads of every downstream node along its own path: a head's q / k / v
 * input gradient dq_h W_q,h (and so on), an MLP's dpre W_in, the
 * unembedding's dres. */
static void downstream_reads(const fl_transformer *m, const fl_tf_acts *a, int B, node_tensor *dn) {
    const int T = m->cfg.ctx, d = m->cfg.d_model, H = m->cfg.n_heads, HS = m->d_head, dm = m->cfg.d_mlp;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const fl_tf_block_acts *k = &a->blk[l];
        const fl_tf_block_views *w = &m->blk[l];
        const int Tq = k->Tq, per = 3 * H + 1;
        for (int h = 0; h < H; h++)
            for (int j = 0; j < 3; j++) {
                node_tensor *nt = &dn[l * per + 3 * h + j];
                const float *g = j == 0 ? k->dq : j == 1 ? k->dk : k->dv;
                const int rows = j == 0 ? Tq : T;
                nt->t0 = T - rows, nt->Tn = rows;
                project(nt->x, g, d, h * HS, HS, fl_blob_param(&m->blob, j == 0 ? w->q_w : j == 1 ? w->k_w : w->v_w),
                        d, 0, B * rows);
            }
        node_tensor *nt = &dn[l * per + 3 * H];
        nt->t0 = T - Tq, nt->Tn = Tq;
        project(nt->x, k->dpre, dm, 0, dm, fl_blob_param(&m->blob, w->in_w), d, 0, B * Tq);
    }
    node_tensor *nt = &dn[n_down(m) - 1];
    nt->t0 = T - 1, nt->Tn = 1;
    memcpy(nt->x, a->dres, sizeof(float) * B * d);
}

/* EAP-IG's downstream reads: their mean over m_ig points on the straight
 * path from the corrupted embedding (upc[0], or zero) to the clean one
 * (up[0]), into dn (emb, avg: scratch of the embedding's and the reads'
 * sizes; zclean: the clean logits, the KL's reference). */
static void ig_reads(fl_transformer *m, fl_tf_acts *a, const fl_ap_opts *o, const int *tok, const int *target, int B,
                     const node_tensor *up, const node_tensor *upc, node_tensor *dn, int cf, const float *zclean,
                     float *emb, float *avg, float *losses, float *dlogits) {
    const int T = m->cfg.ctx, d = m->cfg.d_model, nd = n_down(m), m_ig = o->ig_steps;
    const size_t per_node = (size_t)CHUNK * T * d;
    memset(avg, 0, sizeof(float) * per_node * nd);
    for (int k = 1; k <= m_ig; k++) {
        const float f = (float)k / m_ig;
        for (size_t j = 0; j < (size_t)B * T * d; j++) {
            const float e0 = cf ? upc[0].x[j] : 0.0f;
            emb[j] = e0 + f * (up[0].x[j] - e0);
        }
        fl_tf_run_embedded(m, a, o, emb, tok, target, zclean, B, losses, dlogits);
        downstream_reads(m, a, B, dn);
        for (int v = 0; v < nd; v++)
            for (size_t j = 0; j < (size_t)B * dn[v].Tn * d; j++) avg[per_node * v + j] += dn[v].x[j] / m_ig;
    }
    for (int v = 0; v < nd; v++) memcpy(dn[v].x, avg + per_node * v, sizeof(float) * B * dn[v].Tn * d);
}

/* Each edge's score for the B examples of a chunk: the change of its
 * upstream node's write (corrupted minus clean) dotted with the gradient
 * its downstream node reads, summed over positions; into scores [B, ne]. */
static void edge_scores(const fl_transformer *m, int B, const node_tensor *up, const node_tensor *upc,
                        const node_tensor *dn, const int *eu, const int *ev, int ne, int cf, float *scores) {
    const int T = m->cfg.ctx, d = m->cfg.d_model;
    for (int e = 0; e < ne; e++) {
        const node_tensor *U = &up[eu[e]], *Uc = &upc[eu[e]], *D = &dn[ev[e]];
        const int t0 = U->t0 > D->t0 ? U->t0 : D->t0;
        for (int b = 0; b < B; b++) {
            double s = 0;
            for (int t = t0; t < T; t++) {
                const float *xu = U->x + ((size_t)b * U->Tn + t - U->t0) * d;
                const float *xc = Uc->x + ((size_t)b * Uc->Tn + t - U->t0) * d;
                const float *g = D->x + ((size_t)b * D->Tn + t - D->t0) * d;
                for (int c = 0; c < d; c++) s += ((cf ? xc[c] : 0.0f) - xu[c]) * g[c];
            }
            scores[(size_t)b * ne + e] = (float)s;
        }
    }
}

int fl_eap_scores(fl_transformer *m, const fl_ap_opts *o, const int *tok, const int *tokc, const int *target,
                  int n, float *scores) {
    if (!m->cfg.loss_last) return fl_error_set("EAP: the transformer must output at the last position only");
    if (m->cfg.layernorm) return fl_error_set("EAP: models with LayerNorm are not supported");
    if (o->corrupt == FL_AP_CORRUPT_MEAN) return fl_error_set("EAP: corruption must be within, counterfactual or zero");
    if (o->loss == FL_AP_LOSS_KL && o->ig_steps <= 0)
        return fl_error_set("EAP: the KL from the clean output has a zero gradient at the clean run (use EAP-IG)");
    const int T = m->cfg.ctx, d = m->cfg.d_model, V = m->cfg.n_out, nu = n_up(m), nd = n_down(m);
    const int ne = fl_eap_nedges(m), cf = fl_ap_corrupt_is_input(o->corrupt);
    const size_t per_node = (size_t)CHUNK * T * d;
    const int m_ig = o->ig_steps;
    float *mem = calloc(per_node * (2 * nu + nd + (m_ig ? nd + 1 : 0)), sizeof(float));
    float *losses = malloc(sizeof(float) * CHUNK), *dlogits = malloc(sizeof(float) * CHUNK * V);
    float *zclean = malloc(sizeof(float) * CHUNK * V);
    node_tensor *up = calloc(nu, sizeof *up), *upc = calloc(nu, sizeof *upc), *dn = calloc(nd, sizeof *dn);
    int *eu = malloc(sizeof(int) * ne), *ev = malloc(sizeof(int) * ne);
    fl_tf_acts a = {0}, ac = {0};
    int rc = -1;
    if (!mem || !losses || !dlogits || !zclean || !up || !upc || !dn || !eu || !ev || fl_tf_acts_alloc(&a, m, CHUNK) ||
        (cf && fl_tf_acts_alloc(&ac, m, CHUNK))) {
        fl_error_set("EAP: out of memory");
        goto out;
    }
    for (int i = 0; i < nu; i++) up[i].x = mem + per_node * i, upc[i].x = mem + per_node * (nu + i);
    for (int i = 0; i < nd; i++) dn[i].x = mem + per_node * (2 * nu + i);
    /* EAP-IG: the averaged reads, and the interpolated embedding. */
    float *avg = m_ig ? mem + per_node * (2 * nu + nd) : NULL, *emb = m_ig ? avg + per_node * nd : NULL;
    for (int e = 0; e < ne; e++) edge_nodes(m, e, &eu[e], &ev[e]);
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        if (cf) {
            fl_tf_forward(m, &ac, tokc + (size_t)i * T, B);
            upstream_writes(m, &ac, B, upc);
        }
        const float *z = fl_tf_forward(m, &a, tok + (size_t)i * T, B);
        fl_ap_loss_eval(o->loss, 0, z, target + i, NULL, B, V, losses, dlogits);
        fl_blob_zero_grads(&m->blob);
        fl_tf_backward(m, &a, dlogits);
        upstream_writes(m, &a, B, up);
        downstream_reads(m, &a, B, dn);
        if (m_ig) {
            memcpy(zclean, z, sizeof(float) * B * V); /* the KL's reference */
            ig_reads(m, &a, o, tok + (size_t)i * T, target + i, B, up, upc, dn, cf, zclean, emb, avg, losses, dlogits);
        }
        edge_scores(m, B, up, upc, dn, eu, ev, ne, cf, scores + (size_t)i * ne);
    }
    fl_blob_zero_grads(&m->blob);
    rc = 0;
out:
    fl_tf_acts_free(&a);
    fl_tf_acts_free(&ac);
    free(mem), free(losses), free(dlogits), free(zclean), free(up), free(upc), free(dn), free(eu), free(ev);
    return rc;
}

/* Node scores (attribution_tf.c) or edge scores: what the circuit probe and
 * the circuits command ask for by one flag. */
int fl_tf_scores(fl_transformer *m, const fl_ap_opts *o, int edges, const int *tok, const int *tokc,
                 const int *target, int n, float *scores) {
    return edges ? fl_eap_scores(m, o, tok, tokc, target, n, scores) : fl_ap_tf_scores(m, o, tok, tokc, target, n, scores);
}
