/* layers.c: forward and backward passes of the layers and losses.
 *
 * Matrix products go to OpenBLAS; everything else is a plain loop the
 * compiler vectorises. Backward passes accumulate (+=): see layers.h. */
#include "forgetlab/nn/layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void fl_linear_forward(float *out, const float *inp, const float *W,
                       const float *b, int B, int C, int OC) {
    /* Seed out with the bias so one GEMM with beta = 1 adds the product. */
    float beta = 0.0f;
    if (b) {
        for (int i = 0; i < B; i++) memcpy(out + (size_t)i * OC, b, (size_t)OC * sizeof(float));
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C,
                1.0f, inp, C, W, C, beta, out, OC);
}

void fl_linear_backward(float *dinp, float *dW, float *db, const float *dout,
                        const float *inp, const float *W, int B, int C, int OC) {
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC,
                    1.0f, dout, OC, W, C, 1.0f, dinp, C);
    if (dW)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B,
                    1.0f, dout, OC, inp, C, 1.0f, dW, C);
    if (db)
        for (int i = 0; i < B; i++) {
            const float *row = dout + (size_t)i * OC;
            for (int o = 0; o < OC; o++) db[o] += row[o];
        }
}

void fl_relu_forward(float *out, const float *inp, long N) {
    for (long i = 0; i < N; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void fl_relu_backward(float *dinp, const float *dout, const float *inp, long N) {
    for (long i = 0; i < N; i++) dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
}

/* Row maximum and log of the shifted exponent sum: logsumexp = max + lse. */
static void row_lse(const float *z, int V, float *max_out, float *lse_out) {
    float mx = z[0];
    for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
    double s = 0.0;
    for (int v = 0; v < V; v++) s += exp((double)(z[v] - mx));
    *max_out = mx;
    *lse_out = (float)log(s);
}

void fl_softmax_forward(float *probs, const float *logits, int B, int V) {
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * V;
        float *p = probs + (size_t)b * V, mx, lse;
        row_lse(z, V, &mx, &lse);
        for (int v = 0; v < V; v++) p[v] = expf(z[v] - mx - lse);
    }
}

void fl_log_softmax_forward(float *logp, const float *logits, int B, int V) {
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * V;
        float *lp = logp + (size_t)b * V, mx, lse;
        row_lse(z, V, &mx, &lse);
        for (int v = 0; v < V; v++) lp[v] = z[v] - mx - lse;
    }
}

void fl_softmax_backward(float *dlogits, const float *dprobs,
                         const float *probs, int B, int V) {
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V, *dp = dprobs + (size_t)b * V;
        float *dz = dlogits + (size_t)b * V;
        double dot = 0.0;
        for (int v = 0; v < V; v++) dot += (double)dp[v] * p[v];
        for (int v = 0; v < V; v++) dz[v] += p[v] * (dp[v] - (float)dot);
    }
}

void fl_log_softmax_backward(float *dlogits, const float *dlogp,
                             const float *probs, int B, int V) {
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V, *dl = dlogp + (size_t)b * V;
        float *dz = dlogits + (size_t)b * V;
        double s = 0.0;
        for (int v = 0; v < V; v++) s += dl[v];
        for (int v = 0; v < V; v++) dz[v] += dl[v] - p[v] * (float)s;
    }
}

float fl_crossentropy_forward(float *losses, const float *logp, const int *y,
                              int B, int V) {
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        float l = -logp[(size_t)b * V + y[b]];
        if (losses) losses[b] = l;
        total += l;
    }
    return B > 0 ? (float)(total / B) : 0.0f;
}

void fl_crossentropy_backward(float *dlogits, const float *probs, const int *y,
                              int B, int V, float scale) {
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V;
        float *dz = dlogits + (size_t)b * V;
        for (int v = 0; v < V; v++) dz[v] += scale * p[v];
        dz[y[b]] -= scale;
    }
}

float fl_soft_crossentropy_forward(float *losses, const float *logp,
                                   const float *q, int B, int V) {
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        double l = 0.0;
        for (int v = 0; v < V; v++) {
            float qv = q[(size_t)b * V + v];
            /* 0 * log 0 = 0: a target with no mass on a class says nothing
             * about it, even where the model gives it probability 0. */
            if (qv != 0.0f) l -= (double)qv * logp[(size_t)b * V + v];
        }
        if (losses) losses[b] = (float)l;
        total += l;
    }
    return B > 0 ? (float)(total / B) : 0.0f;
}

void fl_soft_crossentropy_backward(float *dlogits, const float *probs,
                                   const float *q, int B, int V, float scale) {
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V, *qb = q + (size_t)b * V;
        float *dz = dlogits + (size_t)b * V;
        double mass = 0.0;
        for (int v = 0; v < V; v++) mass += qb[v];
        for (int v = 0; v < V; v++) dz[v] += scale * (p[v] * (float)mass - qb[v]);
    }
}

void fl_argmax_rows(int *out, const float *x, int B, int V) {
    for (int b = 0; b < B; b++) {
        const float *r = x + (size_t)b * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (r[v] > r[best]) best = v;
        out[b] = best;
    }
}
