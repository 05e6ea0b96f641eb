/* layers_seq.c: the layers a transformer adds to the MLP's: embeddings,
 * LayerNorm, GELU and causal multi-head attention (declared in layers.h).
 *
 * Loops over the batch run in parallel with OpenMP; every thread writes only
 * its own rows, so results do not depend on the thread count. Backward
 * passes accumulate (+=), as everywhere in forgetlab. */
#include "forgetlab/nn/layers.h"

#include "vmath.h"

#include <cblas.h>
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
    /* A decoding step's few rows stay on one thread: starting a parallel
     * region costs more than they do. */
#pragma omp parallel for schedule(static) if ((long)N * C >= 32768)
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
#pragma omp parallel for schedule(static) if (N > 65536)
    for (long i = 0; i < N; i++) out[i] = 0.5f * inp[i] * (1.0f + fl_verff(inp[i] * INV_SQRT2));
}

void fl_gelu_backward(float *dinp, const float *dout, const float *inp, long N) {
    /* d/dx x Phi(x) = Phi(x) + x phi(x). */
    const float inv_sqrt_2pi = 0.3989422804014327f;
#pragma omp parallel for schedule(static) if (N > 65536)
    for (long i = 0; i < N; i++) {
        const float x = inp[i];
        const float cdf = 0.5f * (1.0f + fl_verff(x * INV_SQRT2));
        const float pdf = inv_sqrt_2pi * fl_vexpf(-0.5f * x * x);
        dinp[i] += dout[i] * (cdf + x * pdf);
    }
}

/* Softmax of a row of scores in place over its first n entries (the keys a
 * query sees), zeros after them up to T. */
static void causal_softmax(float *a, int n, int T) {
    float mx = a[0], sum = 0.0f;
    for (int j = 1; j < n; j++) mx = a[j] > mx ? a[j] : mx;
    for (int j = 0; j < n; j++) {
        a[j] = fl_vexpf(a[j] - mx);
        sum += a[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) a[j] *= inv;
    for (int j = n; j < T; j++) a[j] = 0.0f;
}

/* Per (b, h), as matrix products on the head's columns (row stride C), one
 * thread per pair and one single-threaded sgemm at a time (OpenBLAS inside an
 * OpenMP region runs on the calling thread): scores S = Q K^T / sqrt(HS),
 * the causal softmax row by row, out = A V. The products cover the masked
 * upper triangle too, twice the useful work, and are still several times
 * faster than the scalar loops they replaced (docs/lm.md). */
void fl_attention_forward(float *out, float *att, const float *q, const float *k,
                          const float *v, int B, int T, int Tq, int NH, int HS) {
    const int C = NH * HS, t0 = T - Tq;
    const float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *qb = q + (size_t)b * Tq * C + h * HS, *kb = k + (size_t)b * T * C + h * HS;
            const float *vb = v + (size_t)b * T * C + h * HS;
            float *a = att + ((size_t)b * NH + h) * Tq * T;
            float *ob = out + (size_t)b * Tq * C + h * HS;
            if (Tq == 1) { /* one query (decoding): matrix-vector products, nothing to pack */
                cblas_sgemv(CblasRowMajor, CblasNoTrans, T, HS, scale, kb, C, qb, 1, 0.0f, a, 1);
                causal_softmax(a, T, T);
                cblas_sgemv(CblasRowMajor, CblasTrans, T, HS, 1.0f, vb, C, a, 1, 0.0f, ob, 1);
                continue;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, T, HS, scale, qb, C, kb, C, 0.0f, a, T);
            for (int i = 0; i < Tq; i++) causal_softmax(a + (size_t)i * T, t0 + i + 1, T);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, HS, T, 1.0f, a, T, vb, C, 0.0f, ob, C);
        }
}

/* With A the softmax weights and dO the gradient of out:
 *   dV += A^T dO;  dA = dO V^T;  dS = A * (dA - rowsum(A * dA)) / sqrt(HS);
 *   dQ += dS K;  dK += dS^T Q.
 * Each (b, h) writes only its own columns of dq, dk, dv. */
void fl_attention_backward(float *dq, float *dk, float *dv, float *dscore, const float *dout,
                           const float *att, const float *q, const float *k,
                           const float *v, int B, int T, int Tq, int NH, int HS) {
    const int C = NH * HS;
    const float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const size_t qo = (size_t)b * Tq * C + h * HS, ko = (size_t)b * T * C + h * HS;
            const size_t ao = ((size_t)b * NH + h) * Tq * T;
            const float *a = att + ao, *d = dout + qo;
            float *ds = dscore + ao;
            if (dv)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HS, Tq, 1.0f, a, T, d, C, 1.0f, dv + ko, C);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, T, HS, 1.0f, d, C, v + ko, C, 0.0f, ds, T);
            for (int i = 0; i < Tq; i++) {
                const float *ai = a + (size_t)i * T;
                float *si = ds + (size_t)i * T, dot = 0.0f;
                for (int j = 0; j < T; j++) dot += ai[j] * si[j];
                for (int j = 0; j < T; j++) si[j] = ai[j] * (si[j] - dot) * scale;
            }
            if (dq)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, HS, T, 1.0f, ds, T, k + ko, C, 1.0f,
                            dq + qo, C);
            if (dk)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HS, Tq, 1.0f, ds, T, q + qo, C, 1.0f,
                            dk + ko, C);
        }
}
