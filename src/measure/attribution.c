/* attribution.c: node attribution patching for MLPs (scores from two
 * forwards and one backward), real activation patching to check them, and
 * circuit stability (Spearman matrix, its mean, equivalence classes). */
#include "forgetlab/measure/attribution.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/measure/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Examples per pass: bounds memory (activations of two runs) whatever n. */
enum { CHUNK = 256 };

int fl_ap_nunits(const fl_mlp *m) {
    int n = 0;
    for (int l = 0; l < m->nlayers - 1; l++) n += m->dims[l + 1];
    return n;
}

int fl_ap_ncomponents(const fl_mlp *m) { return fl_ap_nunits(m) + m->nlayers - 1; }

void fl_ap_component_name(const fl_mlp *m, int c, char *buf, int n) {
    int off = 0;
    for (int l = 0; l < m->nlayers - 1; l++) {
        if (c < off + m->dims[l + 1]) {
            snprintf(buf, (size_t)n, "layers.%d.unit.%d", l, c - off);
            return;
        }
        off += m->dims[l + 1];
    }
    snprintf(buf, (size_t)n, "layers.%d", c - off);
}

int fl_ap_loss_parse(const char *s, fl_ap_loss *out) {
    if (!strcmp(s, "ce")) *out = FL_AP_LOSS_CE;
    else if (!strcmp(s, "logit-diff")) *out = FL_AP_LOSS_LOGIT_DIFF;
    else if (!strcmp(s, "kl")) *out = FL_AP_LOSS_KL;
    else return fl_error_set("loss '%s': expected ce, logit-diff or kl", s);
    return 0;
}

int fl_ap_corrupt_parse(const char *s, fl_ap_corrupt *out) {
    if (!strcmp(s, "counterfactual")) *out = FL_AP_CORRUPT_COUNTERFACTUAL;
    else if (!strcmp(s, "mean")) *out = FL_AP_CORRUPT_MEAN;
    else if (!strcmp(s, "zero")) *out = FL_AP_CORRUPT_ZERO;
    else if (!strcmp(s, "within")) *out = FL_AP_CORRUPT_WITHIN;
    else return fl_error_set("corruption '%s': expected within, counterfactual, mean or zero", s);
    return 0;
}

const char *fl_ap_loss_name(fl_ap_loss l) {
    return l == FL_AP_LOSS_CE ? "ce" : l == FL_AP_LOSS_LOGIT_DIFF ? "logit-diff" : "kl";
}

const char *fl_ap_corrupt_name(fl_ap_corrupt c) {
    return c == FL_AP_CORRUPT_COUNTERFACTUAL ? "counterfactual"
           : c == FL_AP_CORRUPT_MEAN         ? "mean"
           : c == FL_AP_CORRUPT_WITHIN       ? "within"
                                             : "zero";
}

int fl_ap_method_parse(const char *s, fl_ap_opts *o) {
    if (!strcmp(s, "ap")) o->ig_steps = 0;
    else if (!strcmp(s, "ap-ig")) o->ig_steps = o->ig_steps > 0 ? o->ig_steps : 5;
    else return fl_error_set("method '%s': expected ap or ap-ig", s);
    return 0;
}

int fl_ig_form_parse(const char *s, fl_ig_form *out) {
    if (!strcmp(s, "path")) *out = FL_IG_PATH;
    else if (!strcmp(s, "average")) *out = FL_IG_AVERAGE;
    else return fl_error_set("integrated-gradient form '%s': expected path or average", s);
    return 0;
}

void fl_ap_opts_string(const fl_ap_opts *o, char *buf, int n) {
    if (o->ig_steps > 0)
        snprintf(buf, (size_t)n, "ap-ig steps=%d form=%s loss=%s corrupt=%s", o->ig_steps,
                 o->ig_form == FL_IG_PATH ? "path" : "average", fl_ap_loss_name(o->loss), fl_ap_corrupt_name(o->corrupt));
    else
        snprintf(buf, (size_t)n, "ap loss=%s corrupt=%s", fl_ap_loss_name(o->loss), fl_ap_corrupt_name(o->corrupt));
}

void fl_ap_targets(fl_task_id t, const float *logits, const int *label, int n, int *target) {
    fl_argmax_rows(target, logits, n, FL_TASK_CLASSES);
    for (int i = 0; i < n; i++)
        if (!fl_task_correct(t, label[i], target[i])) target[i] = label[i];
}

/* The best wrong class of row z (-1 if there is none). */
static int best_wrong(const float *z, int V, int t, int parity) {
    int w = -1;
    for (int j = 0; j < V; j++) {
        if (j == t || (parity && j % 2 == t % 2)) continue;
        if (w < 0 || z[j] > z[w]) w = j;
    }
    return w;
}

void fl_ap_loss_eval(fl_ap_loss loss, int parity, const float *logits, const int *target, const float *ref,
                     int n, int V, float *losses, float *dlogits) {
    for (int b = 0; b < n; b++) {
        const float *z = logits + (size_t)b * V;
        float *dz = dlogits ? dlogits + (size_t)b * V : NULL;
        int t = target[b];
        if (dz) memset(dz, 0, (size_t)V * sizeof(float));
        if (loss == FL_AP_LOSS_KL) {
            /* KL(p_ref || p) = sum_j p_ref,j (log p_ref,j - log p_j), and its
             * gradient in the logits is p - p_ref. With no reference the
             * clean run is its own: 0, with a zero gradient. */
            if (!ref) {
                losses[b] = 0.0f;
                continue;
            }
            const float *r = ref + (size_t)b * V;
            double mz = z[0], mr = r[0], sz = 0, sr = 0, kl = 0;
            for (int j = 1; j < V; j++) mz = z[j] > mz ? z[j] : mz, mr = r[j] > mr ? r[j] : mr;
            for (int j = 0; j < V; j++) sz += exp(z[j] - mz), sr += exp(r[j] - mr);
            const double lz = mz + log(sz), lr = mr + log(sr);
            for (int j = 0; j < V; j++) {
                const double pr = exp(r[j] - lr);
                kl += pr * ((r[j] - lr) - (z[j] - lz));
                if (dz) dz[j] = (float)(exp(z[j] - lz) - pr);
            }
            losses[b] = (float)kl;
        } else if (loss == FL_AP_LOSS_CE) {
            float mx = z[0];
            for (int j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
            double s = 0;
            for (int j = 0; j < V; j++) s += exp((double)(z[j] - mx));
            losses[b] = (float)(log(s) + mx - z[t]);
            if (dz) {
                for (int j = 0; j < V; j++) dz[j] = (float)(exp((double)(z[j] - mx)) / s);
                dz[t] -= 1.0f;
            }
        } else {
            int w = best_wrong(z, V, t, parity);
            losses[b] = w < 0 ? 0.0f : z[w] - z[t];
            if (dz && w >= 0) {
                dz[w] = 1.0f;
                dz[t] = -1.0f;
            }
        }
    }
}

int fl_ap_mean_acts(const fl_mlp *m, const float *x, int n, float *mean) {
    int nu = fl_ap_nunits(m);
    fl_mlp_acts a;
    double *acc = fl_calloc((size_t)nu + 1, sizeof(double), "mean activations");
    if (!acc) return -1;
    if (fl_mlp_acts_alloc(&a, m, CHUNK)) {
        free(acc);
        return -1;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        fl_mlp_forward(m, &a, x + (size_t)i * m->dims[0], B);
        for (int l = 0, off = 0; l < m->nlayers - 1; off += m->dims[l + 1], l++)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < m->dims[l + 1]; j++)
                    acc[off + j] += a.post[l][(size_t)b * m->dims[l + 1] + j];
    }
    for (int u = 0; u < nu; u++) mean[u] = n > 0 ? (float)(acc[u] / n) : 0.0f;
    fl_mlp_acts_free(&a);
    free(acc);
    return 0;
}

/* dL/d(post[l]) of every hidden layer into a->dpost, from dlogits, for the
 * batch last run forward through a. Parameter gradients are not needed, so
 * they are skipped (and the model stays const). */
static void backward_to_hidden(const fl_mlp *m, fl_mlp_acts *a, const float *dlogits, int B) {
    const float *dz = dlogits;
    for (int l = m->nlayers - 1; l >= 1; l--) {
        int C = m->dims[l], OC = m->dims[l + 1];
        memset(a->dpost[l - 1], 0, (size_t)B * C * sizeof(float));
        fl_linear_backward(a->dpost[l - 1], NULL, NULL, dz, a->post[l - 1],
                           fl_blob_param(&m->blob, m->w_view[l]), B, C, OC);
        memset(a->dpre[l - 1], 0, (size_t)B * C * sizeof(float));
        fl_relu_backward(a->dpre[l - 1], a->dpost[l - 1], a->pre[l - 1], (long)B * C);
        dz = a->dpre[l - 1];
    }
}

int fl_ap_check(const fl_ap_opts *o, int have_inputs) {
    const int input = fl_ap_corrupt_is_input(o->corrupt);
    if (input && !have_inputs)
        return fl_error_set("attribution: %s corruption needs corrupted inputs", fl_ap_corrupt_name(o->corrupt));
    if (o->corrupt == FL_AP_CORRUPT_MEAN && !o->mean_acts)
        return fl_error_set("attribution: mean ablation needs the mean activations");
    if (o->ig_steps > 0 && !input)
        return fl_error_set("attribution: integrated gradients run along the path from x' to x, so the corruption "
                            "must be an input (within or counterfactual), not %s", fl_ap_corrupt_name(o->corrupt));
    if (o->ig_steps <= 0 && o->loss == FL_AP_LOSS_KL)
        return fl_error_set("attribution: the KL from the clean output has a zero gradient at the clean run, so "
                            "plain attribution patching scores are all 0 (use integrated gradients)");
    return 0;
}

/* Rows of interpolated inputs per pass: enough for BLAS to run at speed,
 * few enough that M = 64 steps do not need 64 copies of a chunk. */
enum { IG_ROWS = 1536 };

/* The forward pass from Linear 0's pre-activation, already in acts->pre[0],
 * for R rows: its ReLU and every layer above. */
static void tail_forward(const fl_mlp *m, fl_mlp_acts *acts, int R) {
    const float *h = acts->pre[0];
    for (int l = 0; l < m->nlayers; l++) {
        const int C = m->dims[l], OC = m->dims[l + 1];
        if (l > 0)
            fl_linear_forward(acts->pre[l], h, fl_blob_param(&m->blob, m->w_view[l]),
                              fl_blob_param(&m->blob, m->b_view[l]), R, C, OC);
        if (l == m->nlayers - 1) break;
        fl_relu_forward(acts->post[l], acts->pre[l], (long)R * OC);
        h = acts->post[l];
    }
}

/* AP-IG along the interpolated inputs x_j = x' + (j/M)(x - x'), the loss
 * keeping the clean run's target and (KL) the clean logits z as its
 * reference. Into acc[l][b, unit]:
 *   FL_IG_PATH     the score itself, -sum_{j=1..M} (g_{j-1} + g_j)/2 .
 *                  (a(x_j) - a(x_{j-1})) with g_j = dL/da(x_j), x_0 = x':
 *                  the trapezoidal rule of a path integral (M + 1 points),
 *                  so a layer's scores sum to L(x') - L(x) up to O(1/M^2);
 *   FL_IG_AVERAGE  the mean gradient (1/M) sum_{j=1..M} g_j, to be
 *                  multiplied by (a' - a).
 * Linear 0 is affine, so its pre-activation at x_j is the same
 * interpolation of the clean and corrupted pre-activations: the widest GEMM
 * runs once per example, not once per step. prev[l] and gprev[l] are
 * scratch [B, width]: the previous point's activations and gradients. */
static void ig_accumulate(const fl_mlp *m, const fl_mlp_acts *a, const fl_mlp_acts *ac, fl_mlp_acts *ai,
                          const float *z, const int *target, const fl_ap_opts *o, int B, float **acc, float **prev,
                          float **gprev, int *rep_target, float *rep_ref, float *dlogits, float *losses) {
    const int nl = m->nlayers, V = m->dims[nl], M = o->ig_steps, h0 = m->dims[1];
    const int per = IG_ROWS / B > 0 ? IG_ROWS / B : 1, path = o->ig_form == FL_IG_PATH;
    /* The last point is the clean run itself; KL's gradient there is 0
     * exactly (p - p_ref with p = p_ref), so it needs no pass. */
    const int last = o->loss == FL_AP_LOSS_KL ? M - 1 : M;
    for (int l = 0; l < nl - 1; l++) memset(acc[l], 0, sizeof(float) * (size_t)B * m->dims[l + 1]);
    for (int k0 = path ? 0 : 1; k0 <= last; k0 += per) {
        const int S = last - k0 + 1 < per ? last - k0 + 1 : per, R = S * B;
        for (int s = 0; s < S; s++) {
            const float alpha = (float)(k0 + s) / (float)M;
            for (int b = 0; b < B; b++) {
                const float *p = a->pre[0] + (size_t)b * h0, *pc = ac->pre[0] + (size_t)b * h0;
                float *pi = ai->pre[0] + ((size_t)s * B + b) * h0;
                for (int j = 0; j < h0; j++) pi[j] = pc[j] + alpha * (p[j] - pc[j]);
            }
            memcpy(rep_target + (size_t)s * B, target, sizeof(int) * B);
            memcpy(rep_ref + (size_t)s * B * V, z, sizeof(float) * B * V);
        }
        tail_forward(m, ai, R);
        fl_ap_loss_eval(o->loss, o->parity, ai->pre[nl - 1], rep_target, rep_ref, R, V, losses, dlogits);
        backward_to_hidden(m, ai, dlogits, R);
        for (int l = 0; l < nl - 1; l++) {
            const size_t n = (size_t)B * m->dims[l + 1];
            for (int s = 0; s < S; s++) {
                const float *as = ai->post[l] + s * n, *gs = ai->dpost[l] + s * n;
                if (!path) {
                    for (size_t i = 0; i < n; i++) acc[l][i] += gs[i] / M;
                    continue;
                }
                if (k0 + s > 0)
                    for (size_t i = 0; i < n; i++) acc[l][i] -= 0.5f * (gprev[l][i] + gs[i]) * (as[i] - prev[l][i]);
                memcpy(prev[l], as, sizeof(float) * n);
                memcpy(gprev[l], gs, sizeof(float) * n);
            }
        }
    }
    if (last < M && path)
        for (int l = 0; l < nl - 1; l++) {
            const size_t n = (size_t)B * m->dims[l + 1];
            for (size_t i = 0; i < n; i++) acc[l][i] -= 0.5f * gprev[l][i] * (a->post[l][i] - prev[l][i]);
        }
}

/* The scores, with the targets given (target) or drawn from each chunk's
 * clean logits and the true labels of task t (label): one forward fewer
 * than computing the logits first. The corrupted inputs are xc, or with
 * partner the examples x[partner[i]] themselves: their first layer is then
 * computed once for clean and corrupted runs alike. The path form of AP-IG
 * needs only the corrupted run's first pre-activation (its path starts
 * there); everything else needs the whole corrupted run. */
/* The unit and layer scores of the B examples of a chunk into scores
 * [B, nc]: each unit's gradient g times its activation's change (corrupted
 * minus clean; the integral g holds in the path form), each layer's their
 * sum. */
static void chunk_scores(const fl_mlp *m, const fl_ap_opts *o, const fl_mlp_acts *a, const fl_mlp_acts *ac,
                         float *const *g, int B, int path, float *scores) {
    const int nl = m->nlayers, nu = fl_ap_nunits(m), nc = fl_ap_ncomponents(m);
    for (int b = 0; b < B; b++) {
        float *s = scores + (size_t)b * nc;
        for (int l = 0, off = 0; l < nl - 1; off += m->dims[l + 1], l++) {
            int w = m->dims[l + 1];
            const float *ab = a->post[l] + (size_t)b * w, *gb = g[l] + (size_t)b * w;
            double tot = 0;
            for (int j = 0; j < w; j++) {
                if (path) {
                    tot += s[off + j] = gb[j];
                    continue;
                }
                float ap = o->corrupt == FL_AP_CORRUPT_ZERO ? 0.0f
                           : o->corrupt == FL_AP_CORRUPT_MEAN ? o->mean_acts[off + j]
                                                             : ac->post[l][(size_t)b * w + j];
                tot += s[off + j] = (ap - ab[j]) * gb[j];
            }
            s[nu + l] = (float)tot;
        }
    }
}

static int scores_impl(const fl_mlp *m, const fl_ap_opts *o, const float *x, const float *xc, const int *partner,
                       const int *target, fl_task_id t, const int *label, int n, float *scores) {
    if (fl_ap_check(o, xc != NULL || partner != NULL)) return -1;
    int own[CHUNK];
    const int nl = m->nlayers, V = m->dims[nl], nu = fl_ap_nunits(m), nc = fl_ap_ncomponents(m);
    const int in = m->dims[0], h0 = m->dims[1];
    const int input = fl_ap_corrupt_is_input(o->corrupt), M = o->ig_steps, path = M > 0 && o->ig_form == FL_IG_PATH;
    const int rows = M > 0 ? IG_ROWS : CHUNK; /* IG_ROWS is a multiple of CHUNK */
    const float *W0 = fl_blob_param(&m->blob, m->w_view[0]), *b0 = fl_blob_param(&m->blob, m->b_view[0]);
    fl_mlp_acts a = {0}, ac = {0}, ai = {0};
    float *dlogits = fl_malloc((size_t)rows * V * sizeof(float), "attribution");
    float *losses = fl_malloc((size_t)rows * sizeof(float), "attribution");
    float *ref = M > 0 ? fl_malloc((size_t)rows * V * sizeof(float), "attribution") : NULL;
    int *rep = M > 0 ? fl_malloc((size_t)rows * sizeof(int), "attribution") : NULL;
    float *pre0 = partner ? fl_malloc((size_t)n * h0 * sizeof(float), "attribution") : NULL;
    /* AP-IG: per layer the accumulated scores or mean gradients, and the
     * previous step's activations and gradients. */
    float *g[FL_MLP_MAX_LAYERS] = {0}, *prev[FL_MLP_MAX_LAYERS] = {0}, *gprev[FL_MLP_MAX_LAYERS] = {0};
    float *gmem = M > 0 ? fl_malloc((size_t)3 * CHUNK * nu * sizeof(float), "attribution") : NULL;
    int rc = -1;
    if (!dlogits || !losses || (M > 0 && (!ref || !rep || !gmem)) || (partner && !pre0) ||
        fl_mlp_acts_alloc(&a, m, CHUNK) || (input && fl_mlp_acts_alloc(&ac, m, CHUNK)) ||
        (M > 0 && fl_mlp_acts_alloc(&ai, m, rows)))
        goto out;
    for (int i = 0; partner && i < n; i += CHUNK)
        fl_linear_forward(pre0 + (size_t)i * h0, x + (size_t)i * in, W0, b0, n - i < CHUNK ? n - i : CHUNK, in, h0);
    for (int l = 0, off = 0; l < nl - 1; off += m->dims[l + 1], l++) {
        g[l] = M > 0 ? gmem + (size_t)CHUNK * off : a.dpost[l];
        prev[l] = M > 0 ? gmem + (size_t)CHUNK * (nu + off) : NULL;
        gprev[l] = M > 0 ? gmem + (size_t)CHUNK * (2 * nu + off) : NULL;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        const float *z;
        if (partner) {
            memcpy(a.pre[0], pre0 + (size_t)i * h0, sizeof(float) * B * h0);
            tail_forward(m, &a, B);
            z = a.pre[nl - 1];
            for (int b = 0; b < B; b++)
                memcpy(ac.pre[0] + (size_t)b * h0, pre0 + (size_t)partner[i + b] * h0, sizeof(float) * h0);
            if (!path) tail_forward(m, &ac, B);
        } else {
            z = fl_mlp_forward(m, &a, x + (size_t)i * in, B);
            if (input && path) fl_linear_forward(ac.pre[0], xc + (size_t)i * in, W0, b0, B, in, h0);
            else if (input) fl_mlp_forward(m, &ac, xc + (size_t)i * in, B);
        }
        const int *tg = target ? target + i : own;
        if (!target) fl_ap_targets(t, z, label + i, B, own);
        if (M > 0) {
            ig_accumulate(m, &a, &ac, &ai, z, tg, o, B, g, prev, gprev, rep, ref, dlogits, losses);
        } else {
            fl_ap_loss_eval(o->loss, o->parity, z, tg, NULL, B, V, losses, dlogits);
            backward_to_hidden(m, &a, dlogits, B);
        }
        chunk_scores(m, o, &a, &ac, g, B, path, scores + (size_t)i * nc);
    }
    rc = 0;
out:
    fl_mlp_acts_free(&a);
    if (ac.mem) fl_mlp_acts_free(&ac);
    if (ai.mem) fl_mlp_acts_free(&ai);
    free(dlogits), free(losses), free(ref), free(rep), free(gmem), free(pre0);
    return rc;
}

int fl_patch_unit_loss(const fl_mlp *m, fl_ap_loss loss, int parity, const float *x,
                       const int *target, const float *ref, int n, int layer, int unit, const float *value,
                       float *losses) {
    int nl = m->nlayers, in = m->dims[0];
    if (layer >= nl - 1 || (layer >= 0 && unit >= m->dims[layer + 1]))
        return fl_error_set("patch: no hidden unit %d of layer %d", unit, layer);
    fl_mlp_acts a;
    if (fl_mlp_acts_alloc(&a, m, CHUNK)) return -1;
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        const float *h = x + (size_t)i * in;
        /* The forward of mlp.c with one activation overwritten after the
         * ReLU of `layer`, so everything above it sees the patched value. */
        for (int l = 0; l < nl; l++) {
            int C = m->dims[l], OC = m->dims[l + 1];
            fl_linear_forward(a.pre[l], h, fl_blob_param(&m->blob, m->w_view[l]),
                              fl_blob_param(&m->blob, m->b_view[l]), B, C, OC);
            if (l == nl - 1) break;
            fl_relu_forward(a.post[l], a.pre[l], (long)B * OC);
            if (l == layer) {
                for (int b = 0; b < B; b++) {
                    if (unit >= 0) a.post[l][(size_t)b * OC + unit] = value[i + b];
                    else memcpy(a.post[l] + (size_t)b * OC, value + (size_t)(i + b) * OC,
                                (size_t)OC * sizeof(float));
                }
            }
            h = a.post[l];
        }
        fl_ap_loss_eval(loss, parity, a.pre[nl - 1], target + i, ref ? ref + (size_t)i * m->dims[nl] : NULL, B,
                        m->dims[nl], losses + i, NULL);
    }
    fl_mlp_acts_free(&a);
    return 0;
}

int fl_ap_patched_changes(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const float *x, const float *xc,
                          const int *label, int n, float *change) {
    const int nl = m->nlayers, V = m->dims[nl], nu = fl_ap_nunits(m), nc = fl_ap_ncomponents(m);
    const int input = fl_ap_corrupt_is_input(o->corrupt);
    if (input && !xc) return fl_error_set("activation patching: %s corruption needs corrupted inputs",
                                          fl_ap_corrupt_name(o->corrupt));
    if (o->corrupt == FL_AP_CORRUPT_MEAN && !o->mean_acts)
        return fl_error_set("activation patching: mean ablation needs the mean activations");
    float *z = fl_malloc(sizeof(float) * (size_t)n * V, "activation patching");
    float *clean = fl_malloc(sizeof(float) * n, "activation patching"), *pl = fl_malloc(sizeof(float) * n, "patching");
    float *corr = fl_malloc(sizeof(float) * (size_t)n * nu, "activation patching");
    float *val = fl_malloc(sizeof(float) * (size_t)n * (nu > 0 ? nu : 1), "activation patching");
    int *target = fl_malloc(sizeof(int) * n, "activation patching"), rc = -1;
    fl_mlp_acts a = {0};
    if (!z || !clean || !pl || !corr || !val || !target || fl_mlp_acts_alloc(&a, m, CHUNK)) goto out;
    if (fl_mlp_logits(m, x, n, z)) goto out;
    fl_ap_targets(t, z, label, n, target);
    const float *ref = o->loss == FL_AP_LOSS_KL ? z : NULL;
    if (fl_patch_unit_loss(m, o->loss, o->parity, x, target, ref, n, -1, 0, NULL, clean)) goto out;
    /* Every example's corrupted activation of every unit: [n, nu]. */
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        if (input) fl_mlp_forward(m, &a, xc + (size_t)i * m->dims[0], B);
        for (int b = 0; b < B; b++)
            for (int l = 0, off = 0; l < nl - 1; off += m->dims[l + 1], l++)
                for (int j = 0; j < m->dims[l + 1]; j++)
                    corr[(size_t)(i + b) * nu + off + j] =
                        o->corrupt == FL_AP_CORRUPT_ZERO   ? 0.0f
                        : o->corrupt == FL_AP_CORRUPT_MEAN ? o->mean_acts[off + j]
                                                           : a.post[l][(size_t)b * m->dims[l + 1] + j];
    }
    for (int l = 0, off = 0; l < nl - 1; off += m->dims[l + 1], l++) {
        const int w = m->dims[l + 1];
        for (int j = -1; j < w; j++) { /* j = -1: the whole layer */
            for (int e = 0; e < n; e++) {
                if (j >= 0) val[e] = corr[(size_t)e * nu + off + j];
                else memcpy(val + (size_t)e * w, corr + (size_t)e * nu + off, sizeof(float) * w);
            }
            if (fl_patch_unit_loss(m, o->loss, o->parity, x, target, ref, n, l, j, val, pl)) goto out;
            const int c = j >= 0 ? off + j : nu + l;
            for (int e = 0; e < n; e++) change[(size_t)e * nc + c] = pl[e] - clean[e];
        }
    }
    rc = 0;
out:
    fl_mlp_acts_free(&a);
    free(z), free(clean), free(pl), free(corr), free(val), free(target);
    return rc;
}

int fl_ap_scores(const fl_mlp *m, const fl_ap_opts *o, const float *x, const float *xc, const int *target, int n,
                 float *scores) {
    return scores_impl(m, o, x, xc, NULL, target, FL_TASK_FASHION, NULL, n, scores);
}

int fl_ap_task_scores(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const float *x, const float *xc,
                      const int *label, int n, float *scores) {
    return scores_impl(m, o, x, xc, NULL, NULL, t, label, n, scores);
}

int fl_ap_examples_scores(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const fl_ap_examples *ex,
                          float *scores) {
    return scores_impl(m, o, ex->x, ex->partner ? NULL : ex->xc, ex->partner, NULL, t, ex->label, ex->n, scores);
}
