/* activations.c: activation change and linear CKA between a base and a
 * fine-tuned MLP on the same inputs. */
#include "forgetlab/measure/activations.h"

#include "forgetlab/core/error.h"

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

int fl_act_record_run(fl_act_record *r, const fl_mlp *m, const float *x, int n) {
    enum { CHUNK = 512 };
    memset(r, 0, sizeof *r);
    r->n = n;
    r->nhidden = m->nlayers - 1;
    r->out = m->dims[m->nlayers];
    size_t total = (size_t)n * r->out;
    for (int l = 0; l < r->nhidden; l++) total += (size_t)n * (r->width[l] = m->dims[l + 1]);
    fl_mlp_acts a;
    if (!(r->mem = fl_malloc(total * sizeof(float), "activation record"))) return -1;
    if (fl_mlp_acts_alloc(&a, m, CHUNK)) {
        fl_act_record_free(r);
        return -1;
    }
    float *p = r->mem;
    for (int l = 0; l < r->nhidden; l++) {
        r->hidden[l] = p;
        p += (size_t)n * r->width[l];
    }
    r->logits = p;
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        const float *z = fl_mlp_forward(m, &a, x + (size_t)i * m->dims[0], B);
        for (int l = 0; l < r->nhidden; l++)
            memcpy(r->hidden[l] + (size_t)i * r->width[l], a.post[l], (size_t)B * r->width[l] * sizeof(float));
        memcpy(r->logits + (size_t)i * r->out, z, (size_t)B * r->out * sizeof(float));
    }
    fl_mlp_acts_free(&a);
    return 0;
}

void fl_act_record_free(fl_act_record *r) {
    free(r->mem);
    memset(r, 0, sizeof *r);
}

int fl_activation_compare(fl_act_change *out, const fl_act_record *base, const fl_act_record *m) {
    memset(out, 0, sizeof *out);
    if (base->n != m->n || base->nhidden != m->nhidden || base->nhidden < 1)
        return fl_error_set("activation change needs two records of the same inputs with a hidden layer");
    for (int l = 0; l < base->nhidden; l++)
        if (base->width[l] != m->width[l]) return fl_error_set("activation change: models differ in width");
    const int n = m->n;
    for (int i = 0; i < n; i++) {
        double d1 = 0, d2 = 0;
        for (int l = 0; l < m->nhidden; l++) {
            const int W = m->width[l];
            const float *p = base->hidden[l] + (size_t)i * W, *q = m->hidden[l] + (size_t)i * W;
            for (int k = 0; k < W; k++) {
                double d = (double)q[k] - p[k];
                d1 += fabs(d);
                d2 += d * d;
            }
        }
        out->l1 += d1;
        out->l2 += sqrt(d2);
    }
    if (n > 0) {
        out->l1 /= n;
        out->l2 /= n;
    }
    const int L = m->nhidden - 1;
    out->cka = fl_linear_cka(base->hidden[L], base->width[L], m->hidden[L], m->width[L], n);
    return 0;
}

int fl_activation_change(fl_act_change *out, const fl_mlp *base, const fl_mlp *m,
                         const float *x, int n) {
    if (base->nlayers != m->nlayers)
        return fl_error_set("activation change needs two MLPs of the same shape with a hidden layer");
    fl_act_record rb, rm;
    if (fl_act_record_run(&rb, base, x, n)) return -1;
    if (fl_act_record_run(&rm, m, x, n)) {
        fl_act_record_free(&rb);
        return -1;
    }
    int rc = fl_activation_compare(out, &rb, &rm);
    fl_act_record_free(&rb);
    fl_act_record_free(&rm);
    return rc;
}
