/* weights.c: weight-change predictors of forgetting: L1, Fisher-weighted L2
 * (with the diagonal Fisher of the base), and the spectral norm and
 * numerical rank of each layer's update. */
#include "forgetlab/measure/weights.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's divide-and-conquer SVD (shipped inside OpenBLAS). */
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda,
             double *s, double *u, const int *ldu, double *vt, const int *ldvt,
             double *work, const int *lwork, int *iwork, int *info);

double fl_blob_l1_dist(const fl_blob *base, const fl_blob *m) {
    double s = 0;
    for (size_t i = 0; i < m->n; i++) s += fabs((double)m->params[i] - base->params[i]);
    return s;
}

double fl_blob_fisher_l2(const float *fisher, const fl_blob *base, const fl_blob *m) {
    double s = 0;
    for (size_t i = 0; i < m->n; i++) {
        double d = (double)m->params[i] - base->params[i];
        s += fisher[i] * d * d;
    }
    return s;
}

double fl_weight_l1(const fl_mlp *base, const fl_mlp *m) { return fl_blob_l1_dist(&base->blob, &m->blob); }

double fl_weight_fisher_l2(const float *fisher, const fl_mlp *base, const fl_mlp *m) {
    return fl_blob_fisher_l2(fisher, &base->blob, &m->blob);
}

/* Adds the batch's summed squared per-example gradients to fisher, given
 * each layer's output gradient dz (per example) and input h. */
static void add_squared_grads(float *fisher, const fl_mlp *m, const fl_mlp_acts *a,
                              const float *dlogits, float *sq_dz, float *sq_h, int B) {
    for (int l = 0; l < m->nlayers; l++) {
        int C = m->dims[l], OC = m->dims[l + 1];
        const float *dz = l == m->nlayers - 1 ? dlogits : a->dpre[l];
        const float *h = l ? a->post[l - 1] : a->inp;
        for (long i = 0; i < (long)B * OC; i++) sq_dz[i] = dz[i] * dz[i];
        for (long i = 0; i < (long)B * C; i++) sq_h[i] = h[i] * h[i];
        float *fw = fisher + m->blob.views[m->w_view[l]].offset;
        float *fb = fisher + m->blob.views[m->b_view[l]].offset;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, sq_dz, OC, sq_h, C,
                    1.0f, fw, C);
        for (int b = 0; b < B; b++)
            for (int o = 0; o < OC; o++) fb[o] += sq_dz[(size_t)b * OC + o];
    }
}

/* The Fisher of the softmax over outputs [first, first + count) (the
 * others masked: probability 0, no gradient). */
static int fisher_impl(float *fisher, const fl_mlp *m, const float *x, int n, int samples, fl_rng *rng, int first,
                       int count) {
    enum { CHUNK = 256 };
    const int V = m->dims[m->nlayers];
    int maxw = 0;
    for (int l = 0; l <= m->nlayers; l++) maxw = m->dims[l] > maxw ? m->dims[l] : maxw;
    fl_mlp scratch; /* the backward pass writes weight gradients we do not need */
    fl_mlp_acts a;
    float *probs = NULL, *dlogits = NULL, *sq = NULL;
    memset(fisher, 0, m->blob.n * sizeof(float));
    if (fl_mlp_create(&scratch, m->nlayers, m->dims)) return -1;
    memcpy(scratch.blob.params, m->blob.params, m->blob.n * sizeof(float));
    int rc = -1;
    if (fl_mlp_acts_alloc(&a, m, CHUNK)) goto out_model;
    probs = fl_malloc((size_t)CHUNK * V * sizeof(float), "fisher");
    dlogits = fl_malloc((size_t)CHUNK * V * sizeof(float), "fisher");
    sq = fl_malloc(2 * (size_t)CHUNK * maxw * sizeof(float), "fisher");
    if (!probs || !dlogits || !sq) goto out;
    for (int i = 0; i < n; i += CHUNK) {
        int B = n - i < CHUNK ? n - i : CHUNK;
        const float *logits = fl_mlp_forward(&scratch, &a, x + (size_t)i * m->dims[0], B);
        memset(probs, 0, sizeof(float) * (size_t)B * V);
        for (int b = 0; b < B; b++) fl_softmax_forward(probs + (size_t)b * V + first, logits + (size_t)b * V + first, 1, count);
        for (int s = first; s < first + (samples > 0 ? samples : count); s++) {
            /* d log pi(y|x) / dz = onehot(y) - p; the sign is irrelevant once
             * squared. Exact (samples 0): every class y in turn, its
             * gradient scaled by sqrt(p_y) so that its square is weighted by p_y. */
            for (int b = 0; b < B; b++) {
                const float *p = probs + (size_t)b * V;
                const int y = samples > 0 ? fl_rng_categorical(rng, p, V) : s;
                const float w = samples > 0 ? 1.0f : sqrtf(p[y]);
                for (int v = 0; v < V; v++)
                    dlogits[(size_t)b * V + v] = v >= first && v < first + count ? w * (p[v] - (v == y)) : 0.0f;
            }
            fl_mlp_backward(&scratch, &a, dlogits, NULL, B);
            add_squared_grads(fisher, m, &a, dlogits, sq, sq + (size_t)CHUNK * maxw, B);
        }
    }
    float scale = 1.0f / ((float)n * (float)(samples > 0 ? samples : 1));
    for (size_t i = 0; i < m->blob.n; i++) fisher[i] *= scale;
    rc = 0;
out:
    free(probs);
    free(dlogits);
    free(sq);
    fl_mlp_acts_free(&a);
out_model:
    fl_mlp_free(&scratch);
    return rc;
}

int fl_fisher_diag(float *fisher, const fl_mlp *m, const float *x, int n, int samples, fl_rng *rng) {
    return fisher_impl(fisher, m, x, n, samples, rng, 0, m->dims[m->nlayers]);
}

int fl_fisher_diag_head(float *fisher, const fl_mlp *m, const float *x, int n, int first, int count) {
    const int V = m->dims[m->nlayers];
    if (first < 0 || count < 1 || first + count > V)
        return fl_error_set("fisher: outputs [%d, %d) are not within the model's %d", first, first + count, V);
    return fisher_impl(fisher, m, x, n, 0, NULL, first, count);
}

/* delta W of a 2-D view, in double, [rows, cols]. */
static double *delta_w(const fl_blob *base, const fl_blob *m, int view, int *rows, int *cols) {
    const fl_view *v = &m->views[view];
    *rows = v->shape[0];
    *cols = v->shape[1];
    double *d = fl_malloc(v->numel * sizeof(double), "delta W");
    if (d)
        for (size_t i = 0; i < v->numel; i++) d[i] = (double)m->params[v->offset + i] - base->params[v->offset + i];
    return d;
}

double fl_view_spectral(const fl_blob *base, const fl_blob *m, int view, int iters, fl_rng *rng) {
    int R, C;
    double *d = delta_w(base, m, view, &R, &C);
    double *u = malloc((size_t)R * sizeof(double)), *v = malloc((size_t)C * sizeof(double));
    double sigma = 0;
    if (d && u && v) {
        for (int j = 0; j < C; j++) v[j] = fl_rng_normal(rng);
        for (int it = 0; it < iters; it++) {
            /* u = D v / |D v|; v = D^T u; sigma = |v|. */
            cblas_dgemv(CblasRowMajor, CblasNoTrans, R, C, 1.0, d, C, v, 1, 0.0, u, 1);
            double nu = cblas_dnrm2(R, u, 1);
            if (nu == 0) break;
            cblas_dscal(R, 1.0 / nu, u, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, R, C, 1.0, d, C, u, 1, 0.0, v, 1);
            sigma = cblas_dnrm2(C, v, 1);
            if (sigma == 0) break;
            cblas_dscal(C, 1.0 / sigma, v, 1);
        }
    }
    free(d), free(u), free(v);
    return sigma;
}

double fl_weight_spectral(const fl_mlp *base, const fl_mlp *m, int iters, fl_rng *rng, double *per_layer) {
    double total = 0;
    for (int l = 0; l < m->nlayers; l++) {
        const double sigma = fl_view_spectral(&base->blob, &m->blob, m->w_view[l], iters, rng);
        if (per_layer) per_layer[l] = sigma;
        total += sigma;
    }
    return total;
}

int fl_weight_ranks(const fl_mlp *base, const fl_mlp *m, int *rank) {
    for (int l = 0; l < m->nlayers; l++) {
        int R, C;
        double *d = delta_w(&base->blob, &m->blob, m->w_view[l], &R, &C);
        if (!d) return -1;
        /* Row-major R x C is column-major C x R: same singular values. */
        int M = C, N = R, lda = C, k = M < N ? M : N, info = 0, lwork = -1, one = 1;
        double *s = malloc((size_t)k * sizeof(double)), wq, dummy;
        int *iwork = malloc(8 * (size_t)k * sizeof(int));
        dgesdd_("N", &M, &N, d, &lda, s, &dummy, &one, &dummy, &one, &wq, &lwork, iwork, &info);
        lwork = (int)wq;
        double *work = malloc((size_t)lwork * sizeof(double));
        if (s && iwork && work) dgesdd_("N", &M, &N, d, &lda, s, &dummy, &one, &dummy, &one, work, &lwork, iwork, &info);
        int ok = s && iwork && work && info == 0;
        if (ok) {
            double tol = (M > N ? M : N) * (double)FLT_EPSILON * s[0];
            rank[l] = 0;
            for (int i = 0; i < k; i++) rank[l] += s[i] > tol;
        }
        free(d);
        free(s);
        free(iwork);
        free(work);
        if (!ok) return fl_error_set("SVD of layer %d's update failed (info %d)", l, info);
    }
    return 0;
}

double fl_blob_l2_norm(const fl_blob *b) {
    double s = 0;
    for (size_t i = 0; i < b->n; i++) s += (double)b->params[i] * b->params[i];
    return sqrt(s);
}
