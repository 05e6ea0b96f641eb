/* attribution.c: node attribution patching for MLPs (scores from two
 * forwards and one backward), real activation patching to check them, and
 * circuit stability (Spearman matrix, its mean, equivalence classes). */
#include "forgetlab/attribution.h"

#include "forgetlab/error.h"
#include "forgetlab/layers.h"
#include "forgetlab/stats.h"

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
    else return fl_error_set("corruption '%s': expected counterfactual, mean or zero", s);
    return 0;
}

const char *fl_ap_loss_name(fl_ap_loss l) {
    return l == FL_AP_LOSS_CE ? "ce" : l == FL_AP_LOSS_LOGIT_DIFF ? "logit-diff" : "kl";
}

const char *fl_ap_corrupt_name(fl_ap_corrupt c) {
    return c == FL_AP_CORRUPT_COUNTERFACTUAL ? "counterfactual" : c == FL_AP_CORRUPT_MEAN ? "mean" : "zero";
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

void fl_ap_loss_eval(fl_ap_loss loss, int parity, const float *logits, const int *target,
                     int n, int V, float *losses, float *dlogits) {
    for (int b = 0; b < n; b++) {
        const float *z = logits + (size_t)b * V;
        float *dz = dlogits ? dlogits + (size_t)b * V : NULL;
        int t = target[b];
        if (dz) memset(dz, 0, (size_t)V * sizeof(float));
        if (loss == FL_AP_LOSS_KL) {
            losses[b] = 0.0f;
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

int fl_ap_scores(const fl_mlp *m, const fl_ap_opts *o, const float *x, const float *xc,
                 const int *target, int n, float *scores) {
    if (o->corrupt == FL_AP_CORRUPT_COUNTERFACTUAL && !xc)
        return fl_error_set("attribution: counterfactual corruption needs corrupted inputs");
    if (o->corrupt == FL_AP_CORRUPT_MEAN && !o->mean_acts)
        return fl_error_set("attribution: mean ablation needs the mean activations");
    int nl = m->nlayers, V = m->dims[nl], nu = fl_ap_nunits(m), nc = fl_ap_ncomponents(m);
    int in = m->dims[0];
    fl_mlp_acts a, ac;
    memset(&ac, 0, sizeof ac);
    float *dlogits = fl_malloc((size_t)CHUNK * V * sizeof(float), "attribution");
    float *losses = fl_malloc((size_t)CHUNK * sizeof(float), "attribution");
    int rc = -1;
    if (!dlogits || !losses || fl_mlp_acts_alloc(&a, m, CHUNK)) {
        free(dlogits);
        free(losses);
        return -1;
    }
    if (o->corrupt == FL_AP_CORRUPT_COUNTERFACTUAL && fl_mlp_acts_alloc(&ac, m, CHUNK)) goto out;
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        const float *z = fl_mlp_forward(m, &a, x + (size_t)i * in, B);
        fl_ap_loss_eval(o->loss, o->parity, z, target + i, B, V, losses, dlogits);
        backward_to_hidden(m, &a, dlogits, B);
        if (ac.mem) fl_mlp_forward(m, &ac, xc + (size_t)i * in, B);
        for (int b = 0; b < B; b++) {
            float *s = scores + (size_t)(i + b) * nc;
            for (int l = 0, off = 0; l < nl - 1; off += m->dims[l + 1], l++) {
                int w = m->dims[l + 1];
                const float *ab = a.post[l] + (size_t)b * w, *g = a.dpost[l] + (size_t)b * w;
                double tot = 0;
                for (int j = 0; j < w; j++) {
                    float ap = o->corrupt == FL_AP_CORRUPT_ZERO ? 0.0f
                               : o->corrupt == FL_AP_CORRUPT_MEAN ? o->mean_acts[off + j]
                                                                 : ac.post[l][(size_t)b * w + j];
                    s[off + j] = (ap - ab[j]) * g[j];
                    tot += s[off + j];
                }
                s[nu + l] = (float)tot;
            }
        }
    }
    rc = 0;
out:
    fl_mlp_acts_free(&a);
    if (ac.mem) fl_mlp_acts_free(&ac);
    free(dlogits);
    free(losses);
    return rc;
}

int fl_patch_unit_loss(const fl_mlp *m, fl_ap_loss loss, int parity, const float *x,
                       const int *target, int n, int layer, int unit, const float *value,
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
        fl_ap_loss_eval(loss, parity, a.pre[nl - 1], target + i, B, m->dims[nl], losses + i, NULL);
    }
    fl_mlp_acts_free(&a);
    return 0;
}

void fl_cs_matrix(const float *vec, int k, int c, double *rho) {
    double *x = malloc((size_t)c * sizeof(double)), *y = malloc((size_t)c * sizeof(double));
    for (int i = 0; i < k; i++)
        for (int j = i; j < k; j++) {
            double r = NAN;
            if (x && y) {
                for (int t = 0; t < c; t++) {
                    x[t] = vec[(size_t)i * c + t];
                    y[t] = vec[(size_t)j * c + t];
                }
                r = fl_spearman(x, y, c);
            }
            rho[i * k + j] = rho[j * k + i] = r;
        }
    free(x);
    free(y);
}

double fl_cs_mean(const double *rho, int k) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            if (i != j && isfinite(rho[i * k + j])) {
                s += rho[i * k + j];
                n++;
            }
    return n ? s / n : NAN;
}

int fl_cs_classes(const double *rho, int k, double thr, int *cls) {
    for (int i = 0; i < k; i++) cls[i] = -1;
    int ncls = 0;
    /* Flood fill from each unlabelled vertex in index order, so classes are
     * numbered by their smallest member. NaN never makes an edge. */
    int *stack = malloc((size_t)(k > 0 ? k : 1) * sizeof(int));
    if (!stack) return -1;
    for (int s = 0; s < k; s++) {
        if (cls[s] >= 0) continue;
        int top = 0;
        stack[top++] = s;
        cls[s] = ncls;
        while (top) {
            int u = stack[--top];
            for (int v = 0; v < k; v++)
                if (cls[v] < 0 && rho[u * k + v] >= thr) {
                    cls[v] = ncls;
                    stack[top++] = v;
                }
        }
        ncls++;
    }
    free(stack);
    return ncls;
}

int fl_circuit_vectors(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const float *x,
                       const float *xc, const int *label, const int *count, int k, float *vec) {
    int n = 0, nc = fl_ap_ncomponents(m), V = m->dims[m->nlayers], rc = -1;
    for (int s = 0; s < k; s++) n += count[s];
    float *logits = fl_malloc((size_t)n * V * sizeof(float), "circuit vectors");
    float *scores = fl_malloc((size_t)n * nc * sizeof(float), "circuit vectors");
    int *target = fl_malloc((size_t)n * sizeof(int), "circuit vectors");
    double *acc = fl_malloc((size_t)nc * sizeof(double), "circuit vectors");
    if (!logits || !scores || !target || !acc) goto out;
    if (fl_mlp_logits(m, x, n, logits)) goto out;
    fl_ap_targets(t, logits, label, n, target);
    if (fl_ap_scores(m, o, x, xc, target, n, scores)) goto out;
    for (int s = 0, i = 0; s < k; s++) {
        for (int c = 0; c < nc; c++) acc[c] = 0;
        for (int e = 0; e < count[s]; e++, i++)
            for (int c = 0; c < nc; c++) acc[c] += scores[(size_t)i * nc + c];
        for (int c = 0; c < nc; c++) vec[(size_t)s * nc + c] = count[s] ? (float)(acc[c] / count[s]) : NAN;
    }
    rc = 0;
out:
    free(logits);
    free(scores);
    free(target);
    free(acc);
    return rc;
}
