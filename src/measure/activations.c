/* activations.c: activation change and linear CKA between a base and a
 * fine-tuned MLP on the same inputs. */
#include "forgetlab/activations.h"

#include "forgetlab/error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Centred copy of X[n, p] in double. */
static double *centred(const float *X, int n, int p) {
    double *c = malloc((size_t)n * p * sizeof(double));
    if (!c) return NULL;
    for (int j = 0; j < p; j++) {
        double mean = 0;
        for (int i = 0; i < n; i++) mean += X[(size_t)i * p + j];
        mean /= n;
        for (int i = 0; i < n; i++) c[(size_t)i * p + j] = X[(size_t)i * p + j] - mean;
    }
    return c;
}

/* ||A^T B||_F^2 for A[n, p], B[n, q]. */
static double cross_frob2(const double *A, int p, const double *B, int q, int n, double *buf) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, A, p, B, q, 0.0, buf, q);
    double s = 0;
    for (size_t i = 0; i < (size_t)p * q; i++) s += buf[i] * buf[i];
    return s;
}

double fl_linear_cka(const float *X, int p, const float *Y, int q, int n) {
    int w = p > q ? p : q;
    double *xc = centred(X, n, p), *yc = centred(Y, n, q), *buf = malloc((size_t)w * w * sizeof(double));
    double cka = 0;
    if (xc && yc && buf) {
        double xy = cross_frob2(yc, q, xc, p, n, buf);
        double xx = sqrt(cross_frob2(xc, p, xc, p, n, buf));
        double yy = sqrt(cross_frob2(yc, q, yc, q, n, buf));
        cka = xx > 0 && yy > 0 ? xy / (xx * yy) : 0.0;
    }
    free(xc);
    free(yc);
    free(buf);
    return cka;
}

int fl_activation_change(fl_act_change *out, const fl_mlp *base, const fl_mlp *m,
                         const float *x, int n) {
    enum { CHUNK = 512 };
    memset(out, 0, sizeof *out);
    if (base->nlayers != m->nlayers || base->nlayers < 2)
        return fl_error_set("activation change needs two MLPs of the same shape with a hidden layer");
    for (int l = 0; l <= m->nlayers; l++)
        if (base->dims[l] != m->dims[l]) return fl_error_set("activation change: models differ in width");
    const int L = m->nlayers - 1, H = m->dims[L]; /* last hidden layer: post[L-1], width dims[L] */
    fl_mlp_acts a0, a1;
    float *h0 = malloc((size_t)n * H * sizeof(float)), *h1 = malloc((size_t)n * H * sizeof(float));
    int rc = -1;
    if (!h0 || !h1) {
        fl_error_set("out of memory (activations of %d inputs)", n);
        goto out_buf;
    }
    if (fl_mlp_acts_alloc(&a0, base, CHUNK)) goto out_buf;
    if (fl_mlp_acts_alloc(&a1, m, CHUNK)) goto out_a0;
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        const float *xb = x + (size_t)i * m->dims[0];
        fl_mlp_forward(base, &a0, xb, B);
        fl_mlp_forward(m, &a1, xb, B);
        for (int b = 0; b < B; b++) {
            double d1 = 0, d2 = 0;
            for (int l = 0; l < L; l++) {
                int W = m->dims[l + 1];
                const float *p = a0.post[l] + (size_t)b * W, *q = a1.post[l] + (size_t)b * W;
                for (int k = 0; k < W; k++) {
                    double d = (double)q[k] - p[k];
                    d1 += fabs(d);
                    d2 += d * d;
                }
            }
            out->l1 += d1;
            out->l2 += sqrt(d2);
        }
        memcpy(h0 + (size_t)i * H, a0.post[L - 1], (size_t)B * H * sizeof(float));
        memcpy(h1 + (size_t)i * H, a1.post[L - 1], (size_t)B * H * sizeof(float));
    }
    out->l1 /= n;
    out->l2 /= n;
    out->cka = fl_linear_cka(h0, H, h1, H, n);
    rc = 0;
    fl_mlp_acts_free(&a1);
out_a0:
    fl_mlp_acts_free(&a0);
out_buf:
    free(h0);
    free(h1);
    return rc;
}
