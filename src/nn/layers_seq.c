/* layers_seq.c: the layers a transformer adds to the MLP's: embeddings,
 * LayerNorm, GELU and causal multi-head attention (declared in layers.h).
 *
 * Loops over the batch run in parallel with OpenMP; every thread writes only
 * its own rows, so results do not depend on the thread count. Backward
 * passes accumulate (+=), as everywhere in forgetlab. */
#include "forgetlab/layers.h"

#include <math.h>
#include <string.h>

#define LN_EPS 1e-5f
#define INV_SQRT2 0.70710678118654752f

void fl_embedding_forward(float *out, const int *tok, const float *wte,
                          const float *wpe, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *e = wte + (size_t)tok[b * T + t] * C, *p = wpe + (size_t)t * C;
            for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
        }
}

void fl_embedding_backward(float *dwte, float *dwpe, const float *dout,
                           const int *tok, int B, int T, int C) {
    /* Serial: several rows may hit the same token, and a fixed order keeps
     * the float sums reproducible. */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *e = dwte ? dwte + (size_t)tok[b * T + t] * C : NULL;
            float *p = dwpe ? dwpe + (size_t)t * C : NULL;
            for (int c = 0; c < C; c++) {
                if (e) e[c] += d[c];
                if (p) p[c] += d[c];
            }
        }
}

void fl_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;
        float m = 0.0f, var = 0.0f;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        for (int c = 0; c < C; c++) var += (x[c] - m) * (x[c] - m);
        float s = 1.0f / sqrtf(var / C + LN_EPS);
        float *o = out + (size_t)i * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

void fl_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C) {
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C, *d = dout + (size_t)i * C;
        /* With xhat = (x - mean) * rstd and g = dout * w:
         * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)). */
        float gm = 0.0f, gxm = 0.0f;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - mean[i]) * rstd[i], g = d[c] * w[c];
            gm += g;
            gxm += g * xhat;
            if (dw) dw[c] += d[c] * xhat;
            if (db) db[c] += d[c];
        }
        gm /= C;
        gxm /= C;
        if (!dinp) continue;
        float *dx = dinp + (size_t)i * C;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - mean[i]) * rstd[i];
            dx[c] += rstd[i] * (d[c] * w[c] - gm - xhat * gxm);
        }
    }
}

void fl_gelu_forward(float *out, const float *inp, long N) {
    for (long i = 0; i < N; i++) out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * INV_SQRT2));
}

void fl_gelu_backward(float *dinp, const float *dout, const float *inp, long N) {
    /* d/dx x Phi(x) = Phi(x) + x phi(x). */
    const float inv_sqrt_2pi = 0.3989422804014327f;
    for (long i = 0; i < N; i++) {
        float x = inp[i];
        float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
        float pdf = inv_sqrt_2pi * expf(-0.5f * x * x);
        dinp[i] += dout[i] * (cdf + x * pdf);
    }
}

void fl_attention_forward(float *out, float *att, const float *q, const float *k,
                          const float *v, int B, int T, int Tq, int NH, int HS) {
    const int C = NH * HS, t0 = T - Tq;
    const float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                const int t = t0 + i;
                const float *qi = q + ((size_t)b * Tq + i) * C + h * HS;
                float *a = att + (((size_t)b * NH + h) * Tq + i) * T;
                float mx = -INFINITY;
                for (int j = 0; j <= t; j++) {
                    const float *kj = k + ((size_t)b * T + j) * C + h * HS;
                    float s = 0.0f;
                    for (int c = 0; c < HS; c++) s += qi[c] * kj[c];
                    a[j] = s * scale;
                    mx = a[j] > mx ? a[j] : mx;
                }
                float sum = 0.0f;
                for (int j = 0; j <= t; j++) {
                    a[j] = expf(a[j] - mx);
                    sum += a[j];
                }
                for (int j = 0; j <= t; j++) a[j] /= sum;
                for (int j = t + 1; j < T; j++) a[j] = 0.0f;
                float *o = out + ((size_t)b * Tq + i) * C + h * HS;
                memset(o, 0, (size_t)HS * sizeof(float));
                for (int j = 0; j <= t; j++) {
                    const float *vj = v + ((size_t)b * T + j) * C + h * HS;
                    for (int c = 0; c < HS; c++) o[c] += a[j] * vj[c];
                }
            }
}

void fl_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                           const float *att, const float *q, const float *k,
                           const float *v, int B, int T, int Tq, int NH, int HS) {
    const int C = NH * HS, t0 = T - Tq;
    const float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                const int t = t0 + i;
                const size_t qrow = ((size_t)b * Tq + i) * C + h * HS;
                const float *a = att + (((size_t)b * NH + h) * Tq + i) * T;
                const float *d = dout + qrow;
                /* da_j = dout . v_j, then through the softmax:
                 * ds_j = a_j (da_j - sum_l a_l da_l). */
                float da[T], dot = 0.0f;
                for (int j = 0; j <= t; j++) {
                    const size_t row = ((size_t)b * T + j) * C + h * HS;
                    float s = 0.0f;
                    for (int c = 0; c < HS; c++) {
                        s += d[c] * v[row + c];
                        if (dv) dv[row + c] += a[j] * d[c];
                    }
                    da[j] = s;
                    dot += a[j] * s;
                }
                for (int j = 0; j <= t; j++) {
                    const size_t row = ((size_t)b * T + j) * C + h * HS;
                    const float ds = a[j] * (da[j] - dot) * scale;
                    for (int c = 0; c < HS; c++) {
                        if (dq) dq[qrow + c] += ds * k[row + c];
                        if (dk) dk[row + c] += ds * q[qrow + c];
                    }
                }
            }
}
