/* attribution_gpt.c: AP-IG node scores of the language model
 * (attribution_gpt.h): forward and backward passes at block-0 inputs
 * interpolated from a corrupted prompt to the clean one, every node's
 * activation and gradient kept at consecutive points, and the trapezoidal
 * path integral of gradient times activation change per node. */
#include "forgetlab/measure/attribution_gpt.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_ap_gpt_ncomponents(const fl_gpt *m) {
    const fl_gpt_config *c = &m->cfg;
    return 1 + c->n_layer * (c->n_head + 2 + 4 * c->n_embd);
}

void fl_ap_gpt_component_name(const fl_gpt *m, int c, char *buf, int n) {
    const int NH = m->cfg.n_head, per = NH + 2 + 4 * m->cfg.n_embd;
    if (c == 0) {
        snprintf(buf, (size_t)n, "embed");
        return;
    }
    const int l = (c - 1) / per, k = (c - 1) % per;
    if (k < NH) snprintf(buf, (size_t)n, "h.%d.attn.head.%d", l, k);
    else if (k == NH) snprintf(buf, (size_t)n, "h.%d.attn", l);
    else if (k == NH + 1) snprintf(buf, (size_t)n, "h.%d.mlp", l);
    else snprintf(buf, (size_t)n, "h.%d.mlp.neuron.%d", l, k - NH - 2);
}

/* Every node's activation (or gradient) at one point, as the rows of the
 * batch lay them out: embed, then per layer z, attn, mlp [N, C] and fch
 * [N, 4C]. */
typedef struct {
    float *embed, *z[FL_GPT_MAX_LAYERS], *attn[FL_GPT_MAX_LAYERS], *mlp[FL_GPT_MAX_LAYERS], *fch[FL_GPT_MAX_LAYERS];
} nodes;

static size_t nodes_size(const fl_gpt *m, size_t N) {
    const size_t C = (size_t)m->cfg.n_embd;
    return N * C + (size_t)m->cfg.n_layer * N * 7 * C;
}

static void nodes_map(nodes *v, float *p, const fl_gpt *m, size_t N) {
    const size_t C = (size_t)m->cfg.n_embd;
    v->embed = p, p += N * C;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        v->z[l] = p, p += N * C;
        v->attn[l] = p, p += N * C;
        v->mlp[l] = p, p += N * C;
        v->fch[l] = p, p += N * 4 * C;
    }
}

/* The activations of the last forward pass. */
static void take_acts(const fl_gpt *m, const fl_gpt_acts *a, size_t N, nodes *v) {
    const size_t C = (size_t)m->cfg.n_embd;
    memcpy(v->embed, a->x[0], sizeof(float) * N * C);
    for (int l = 0; l < m->cfg.n_layer; l++) {
        memcpy(v->z[l], a->z[l], sizeof(float) * N * C);
        memcpy(v->fch[l], a->fch[l], sizeof(float) * N * 4 * C);
        for (size_t i = 0; i < N * C; i++) {
            v->attn[l][i] = a->x2[l][i] - a->x[l][i];
            v->mlp[l][i] = a->x[l + 1][i] - a->x2[l][i];
        }
    }
}

/* scores[b, first + dim / group] -= sum over b's T rows of
 * (g0 + g1)/2 (a1 - a0), dims of width W: the trapezoid's step. */
static void accumulate(float *scores, int nc, int first, int group, const float *a0, const float *a1,
                       const float *g0, const float *g1, int n, int T, int W) {
    for (int b = 0; b < n; b++) {
        float *s = scores + (size_t)b * nc + first;
        for (int t = 0; t < T; t++) {
            const size_t row = ((size_t)b * T + t) * W;
            for (int d = 0; d < W; d++)
                s[d / group] -= 0.5f * (g0[row + d] + g1[row + d]) * (a1[row + d] - a0[row + d]);
        }
    }
}

int fl_ap_gpt_scores(fl_gpt *m, const int *tok, const int *tokc, int n, int T, int M, float *scores) {
    const int C = m->cfg.n_embd, V = m->cfg.vocab, L = m->cfg.n_layer, NH = m->cfg.n_head, HS = C / NH;
    const int nc = fl_ap_gpt_ncomponents(m), per = NH + 2 + 4 * C;
    const size_t N = (size_t)n * T;
    if (M < 1) return fl_error_set("attribution: %d integration steps (at least 1)", M);
    fl_gpt_acts a;
    if (fl_gpt_acts_alloc(&a, m, n, T)) return -1;
    const size_t ns = nodes_size(m, N);
    float *e = malloc(sizeof(float) * N * C * 3), *pc = malloc(sizeof(float) * (size_t)n * V);
    float *buf = malloc(sizeof(float) * ns * 4);
    int rc = e && pc && buf ? 0 : fl_error_set("attribution: out of memory");
    if (rc) goto out;
    float *ec = e + N * C, *ei = e + 2 * N * C;
    nodes act[2], grad[2];
    for (int k = 0; k < 2; k++) nodes_map(&act[k], buf + (size_t)k * ns, m, N), nodes_map(&grad[k], buf + (size_t)(2 + k) * ns, m, N);
    const float *wte = fl_blob_param(&m->blob, m->wte), *wpe = fl_blob_param(&m->blob, m->wpe);
    fl_embedding_forward(e, tok, wte, wpe, n, T, C);
    fl_embedding_forward(ec, tokc, wte, wpe, n, T, C);
    /* The clean output at each prompt's last position: the KL's reference. */
    fl_gpt_forward(m, &a, tok, NULL, NULL, n, T);
    for (int b = 0; b < n; b++) {
        const float *z = a.logits + ((size_t)b * T + T - 1) * V;
        double mx = z[0], s = 0;
        for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        for (int v = 0; v < V; v++) s += exp(z[v] - mx);
        for (int v = 0; v < V; v++) pc[(size_t)b * V + v] = (float)(exp(z[v] - mx) / s);
    }
    memset(scores, 0, sizeof(float) * (size_t)n * nc);
    for (int j = 0; j <= M; j++) {
        const int cur = j & 1, prev = cur ^ 1;
        const float alpha = (float)j / (float)M;
        for (size_t i = 0; i < N * C; i++) ei[i] = ec[i] + alpha * (e[i] - ec[i]);
        a.embeds = ei;
        a.g_embed = grad[cur].embed;
        for (int l = 0; l < L; l++)
            a.g_z[l] = grad[cur].z[l], a.g_attn[l] = grad[cur].attn[l], a.g_mlp[l] = grad[cur].mlp[l],
            a.g_fch[l] = grad[cur].fch[l];
        fl_gpt_forward(m, &a, tok, NULL, NULL, n, T);
        /* d KL(pc || p) / d z = p - pc at the last position, 0 elsewhere. */
        memset(a.dlogits, 0, sizeof(float) * N * V);
        for (int b = 0; b < n; b++) {
            const size_t row = ((size_t)b * T + T - 1) * V;
            const float *z = a.logits + row;
            double mx = z[0], s = 0;
            for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            for (int v = 0; v < V; v++) s += exp(z[v] - mx);
            for (int v = 0; v < V; v++) a.dlogits[row + v] = (float)(exp(z[v] - mx) / s) - pc[(size_t)b * V + v];
        }
        fl_gpt_backward_logits(m, &a);
        take_acts(m, &a, N, &act[cur]);
        if (j == 0) continue;
        accumulate(scores, nc, 0, C, act[prev].embed, act[cur].embed, grad[prev].embed, grad[cur].embed, n, T, C);
        for (int l = 0; l < L; l++) {
            const int f = 1 + l * per;
            accumulate(scores, nc, f, HS, act[prev].z[l], act[cur].z[l], grad[prev].z[l], grad[cur].z[l], n, T, C);
            accumulate(scores, nc, f + NH, C, act[prev].attn[l], act[cur].attn[l], grad[prev].attn[l],
                       grad[cur].attn[l], n, T, C);
            accumulate(scores, nc, f + NH + 1, C, act[prev].mlp[l], act[cur].mlp[l], grad[prev].mlp[l],
                       grad[cur].mlp[l], n, T, C);
            accumulate(scores, nc, f + NH + 2, 1, act[prev].fch[l], act[cur].fch[l], grad[prev].fch[l],
                       grad[cur].fch[l], n, T, 4 * C);
        }
    }
out:
    fl_blob_zero_grads(&m->blob);
    fl_gpt_acts_free(&a);
    free(e), free(pc), free(buf);
    return rc;
}
