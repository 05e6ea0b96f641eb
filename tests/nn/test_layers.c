/* test_layers.c: every layer and loss against a double-precision reference.
 *
 * For each layer, the float forward pass must match a plain double
 * implementation, and the float backward pass must match central finite
 * differences of that double implementation (eps 1e-6, so the reference
 * gradient is exact to ~1e-9 and the tolerance only has to absorb float
 * rounding in the code under test). The scalar whose gradient is checked is
 * L = sum(out * R) for a fixed random R, i.e. the backward pass is fed
 * dout = R. */
#include "testutil.h"

#include "forgetlab/nn/layers.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fdcheck.h"

/* ---- linear ---- */
typedef struct {
    int B, C, OC, which; /* which: 0 inp, 1 W, 2 b */
    const float *inp, *W, *b, *R;
} lin_ctx;

static double lin_ref(const double *theta, void *vctx) {
    lin_ctx *c = vctx;
    double L = 0;
    for (int i = 0; i < c->B; i++)
        for (int o = 0; o < c->OC; o++) {
            double z = c->which == 2 ? theta[o] : c->b[o];
            for (int k = 0; k < c->C; k++) {
                double x = c->which == 0 ? theta[i * c->C + k] : c->inp[i * c->C + k];
                double w = c->which == 1 ? theta[o * c->C + k] : c->W[o * c->C + k];
                z += x * w;
            }
            L += z * c->R[i * c->OC + o];
        }
    return L;
}

static void test_linear(void **state) {
    (void)state;
    enum { B = 5, C = 7, OC = 4 };
    float inp[B * C], W[OC * C], b[OC], R[B * OC], out[B * OC];
    fill(inp, B * C, 1); fill(W, OC * C, 0.5f); fill(b, OC, 0.5f); fill(R, B * OC, 1);
    fl_linear_forward(out, inp, W, b, B, C, OC);
    lin_ctx ctx = {B, C, OC, 0, inp, W, b, R};
    for (int i = 0; i < B; i++)
        for (int o = 0; o < OC; o++) {
            double z = b[o];
            for (int k = 0; k < C; k++) z += (double)inp[i * C + k] * W[o * C + k];
            assert_close(out[i * OC + o], z, 1e-5, "linear out", i * OC + o);
        }
    /* Gradients accumulate: start from a known non-zero value and subtract. */
    float dinp[B * C], dW[OC * C], db[OC];
    for (int i = 0; i < B * C; i++) dinp[i] = 1.0f;
    for (int i = 0; i < OC * C; i++) dW[i] = 1.0f;
    for (int i = 0; i < OC; i++) db[i] = 1.0f;
    fl_linear_backward(dinp, dW, db, R, inp, W, B, C, OC);
    for (int i = 0; i < B * C; i++) dinp[i] -= 1.0f;
    for (int i = 0; i < OC * C; i++) dW[i] -= 1.0f;
    for (int i = 0; i < OC; i++) db[i] -= 1.0f;
    ctx.which = 0; check_grad(lin_ref, &ctx, inp, B * C, dinp, "linear dinp");
    ctx.which = 1; check_grad(lin_ref, &ctx, W, OC * C, dW, "linear dW");
    ctx.which = 2; check_grad(lin_ref, &ctx, b, OC, db, "linear db");
    /* No bias: the same product, bias-free. */
    fl_linear_forward(out, inp, W, NULL, B, C, OC);
    double z = 0;
    for (int k = 0; k < C; k++) z += (double)inp[k] * W[k];
    assert_close(out[0], z, 1e-5, "linear no-bias", 0);
}

/* ---- relu ---- */
typedef struct { int N; const float *R; } relu_ctx;

static double relu_ref(const double *x, void *vctx) {
    relu_ctx *c = vctx;
    double L = 0;
    for (int i = 0; i < c->N; i++) L += (x[i] > 0 ? x[i] : 0) * c->R[i];
    return L;
}

static void test_relu(void **state) {
    (void)state;
    enum { N = 40 };
    float x[N], R[N], out[N], dx[N] = {0};
    fill(x, N, 1); fill(R, N, 1);
    /* Keep inputs away from the kink, where finite differences straddle it. */
    for (int i = 0; i < N; i++)
        if (fabsf(x[i]) < 1e-3f) x[i] = 0.5f;
    fl_relu_forward(out, x, N);
    for (int i = 0; i < N; i++) assert_close(out[i], x[i] > 0 ? x[i] : 0, 0, "relu", i);
    fl_relu_backward(dx, R, x, N);
    relu_ctx ctx = {N, R};
    check_grad(relu_ref, &ctx, x, N, dx, "relu dx");
}

/* ---- softmax family and losses: all maps from logits[B,V] ---- */
enum { SM_SOFTMAX, SM_LOGSOFTMAX, SM_CE, SM_SOFTCE };
typedef struct {
    int B, V, kind;
    const float *R, *q;
    const int *y;
} sm_ctx;

static void ref_log_softmax(const double *z, int V, double *lp) {
    double mx = z[0], s = 0;
    for (int v = 1; v < V; v++) mx = fmax(mx, z[v]);
    for (int v = 0; v < V; v++) s += exp(z[v] - mx);
    for (int v = 0; v < V; v++) lp[v] = z[v] - mx - log(s);
}

static double sm_ref(const double *z, void *vctx) {
    sm_ctx *c = vctx;
    double L = 0, lp[64];
    for (int b = 0; b < c->B; b++) {
        ref_log_softmax(z + b * c->V, c->V, lp);
        for (int v = 0; v < c->V; v++) {
            switch (c->kind) {
            case SM_SOFTMAX: L += exp(lp[v]) * c->R[b * c->V + v]; break;
            case SM_LOGSOFTMAX: L += lp[v] * c->R[b * c->V + v]; break;
            case SM_CE: if (v == c->y[b]) L -= lp[v] / c->B; break;
            case SM_SOFTCE: L -= c->q[b * c->V + v] * lp[v] / c->B; break;
            }
        }
    }
    return L;
}

static void test_softmax_family(void **state) {
    (void)state;
    enum { B = 4, V = 10 };
    float z[B * V], R[B * V], q[B * V], probs[B * V], logp[B * V], g[B * V];
    int y[B] = {3, 0, 9, 5};
    fill(z, B * V, 2); fill(R, B * V, 1);
    z[3] = 40.0f; /* a large logit: the max-subtraction must keep this finite */
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int v = 0; v < V; v++) s += (q[b * V + v] = fl_rng_float(&g_rng) * (v % 3 != 0));
        for (int v = 0; v < V; v++) q[b * V + v] /= (float)s;
    }
    fl_softmax_forward(probs, z, B, V);
    fl_log_softmax_forward(logp, z, B, V);
    for (int b = 0; b < B; b++) {
        double zz[V], lp[V], s = 0;
        for (int v = 0; v < V; v++) zz[v] = z[b * V + v];
        ref_log_softmax(zz, V, lp);
        for (int v = 0; v < V; v++) {
            assert_close(logp[b * V + v], lp[v], 1e-5, "log_softmax", b * V + v);
            assert_close(probs[b * V + v], exp(lp[v]), 1e-6, "softmax", b * V + v);
            s += probs[b * V + v];
        }
        assert_close(s, 1.0, 1e-6, "softmax row sum", b);
    }
    sm_ctx ctx = {B, V, SM_SOFTMAX, R, q, y};
    memset(g, 0, sizeof g);
    fl_softmax_backward(g, R, probs, B, V);
    check_grad(sm_ref, &ctx, z, B * V, g, "softmax backward");

    ctx.kind = SM_LOGSOFTMAX;
    memset(g, 0, sizeof g);
    fl_log_softmax_backward(g, R, probs, B, V);
    check_grad(sm_ref, &ctx, z, B * V, g, "log_softmax backward");

    ctx.kind = SM_CE;
    float losses[B];
    float mean = fl_crossentropy_forward(losses, logp, y, B, V);
    double zd[B * V];
    for (int i = 0; i < B * V; i++) zd[i] = z[i];
    assert_close(mean, sm_ref(zd, &ctx), 1e-5, "cross-entropy", 0);
    memset(g, 0, sizeof g);
    fl_crossentropy_backward(g, probs, y, B, V, 1.0f / B);
    check_grad(sm_ref, &ctx, z, B * V, g, "cross-entropy backward");

    ctx.kind = SM_SOFTCE;
    mean = fl_soft_crossentropy_forward(losses, logp, q, B, V);
    assert_close(mean, sm_ref(zd, &ctx), 1e-5, "soft cross-entropy", 0);
    memset(g, 0, sizeof g);
    fl_soft_crossentropy_backward(g, probs, q, B, V, 1.0f / B);
    check_grad(sm_ref, &ctx, z, B * V, g, "soft cross-entropy backward");
}

/* A one-hot soft target is the hard-label loss, value and gradient. */
static void test_soft_ce_matches_hard(void **state) {
    (void)state;
    enum { B = 3, V = 6 };
    float z[B * V], probs[B * V], logp[B * V], q[B * V] = {0}, g1[B * V] = {0}, g2[B * V] = {0};
    int y[B] = {1, 5, 0};
    fill(z, B * V, 1);
    for (int b = 0; b < B; b++) q[b * V + y[b]] = 1;
    fl_softmax_forward(probs, z, B, V);
    fl_log_softmax_forward(logp, z, B, V);
    assert_close(fl_soft_crossentropy_forward(NULL, logp, q, B, V),
                 fl_crossentropy_forward(NULL, logp, y, B, V), 1e-6, "soft == hard", 0);
    fl_soft_crossentropy_backward(g1, probs, q, B, V, 0.5f);
    fl_crossentropy_backward(g2, probs, y, B, V, 0.5f);
    for (int i = 0; i < B * V; i++) assert_close(g1[i], g2[i], 1e-6, "soft == hard grad", i);
}

static void test_argmax(void **state) {
    (void)state;
    float x[6] = {1, 3, 3, -1, -2, -1};
    int out[2];
    fl_argmax_rows(out, x, 2, 3);
    assert_int_equal(out[0], 1); /* first of the tied maxima */
    assert_int_equal(out[1], 0);
}

/* ---- the whole MLP: parameters and input ---- */
typedef struct {
    const fl_mlp *m;
    const float *x, *R;
    int B, which; /* which: -1 input, else blob parameter index space */
} mlp_ctx;

static double mlp_ref(const double *theta, void *vctx) {
    mlp_ctx *c = vctx;
    const fl_mlp *m = c->m;
    const fl_blob *b = &m->blob;
    double h[64 * 64], z[64 * 64];
    int B = c->B;
    for (int i = 0; i < B * m->dims[0]; i++) h[i] = c->which < 0 ? theta[i] : c->x[i];
    for (int l = 0; l < m->nlayers; l++) {
        int C = m->dims[l], OC = m->dims[l + 1];
        size_t wo = b->views[m->w_view[l]].offset, bo = b->views[m->b_view[l]].offset;
        for (int i = 0; i < B; i++)
            for (int o = 0; o < OC; o++) {
                double s = c->which >= 0 ? theta[bo + o] : b->params[bo + o];
                for (int k = 0; k < C; k++)
                    s += h[i * C + k] * (c->which >= 0 ? theta[wo + o * C + k] : b->params[wo + o * C + k]);
                z[i * OC + o] = s;
            }
        for (int i = 0; i < B * OC; i++) h[i] = l == m->nlayers - 1 ? z[i] : fmax(z[i], 0.0);
    }
    double L = 0;
    for (int i = 0; i < B * m->dims[m->nlayers]; i++) L += h[i] * c->R[i];
    return L;
}

static void test_mlp_backward(void **state) {
    (void)state;
    fl_mlp m;
    assert_int_equal(fl_mlp_create_from_spec(&m, "9-8-6-5"), 0);
    assert_int_equal(m.nlayers, 3);
    fl_mlp_init(&m, &g_rng);
    enum { B = 4 };
    float x[B * 9], R[B * 5], dx[B * 9] = {0};
    fill(x, B * 9, 1); fill(R, B * 5, 1);
    fl_mlp_acts a;
    assert_int_equal(fl_mlp_acts_alloc(&a, &m, B), 0);
    const float *logits = fl_mlp_forward(&m, &a, x, B);
    mlp_ctx ctx = {&m, x, R, B, 0};
    double *theta = malloc(m.blob.n * sizeof(double));
    for (size_t i = 0; i < m.blob.n; i++) theta[i] = m.blob.params[i];
    double L = 0;
    for (int i = 0; i < B * 5; i++) L += (double)logits[i] * R[i];
    assert_close(L, mlp_ref(theta, &ctx), 1e-5, "mlp forward", 0);
    free(theta);
    fl_blob_zero_grads(&m.blob);
    fl_mlp_backward(&m, &a, R, dx, B);
    check_grad(mlp_ref, &ctx, m.blob.params, (int)m.blob.n, m.blob.grads, "mlp dparams");
    ctx.which = -1;
    check_grad(mlp_ref, &ctx, x, B * 9, dx, "mlp dx");
    fl_mlp_acts_free(&a);
    fl_mlp_free(&m);
}

static void test_mlp_spec(void **state) {
    (void)state;
    int n, dims[FL_MLP_MAX_LAYERS + 1];
    assert_int_equal(fl_mlp_parse_spec("785-512-256-10", &n, dims), 0);
    assert_int_equal(n, 3);
    assert_int_equal(dims[3], 10);
    const char *bad[] = {"", "10", "10-", "-10", "10--5", "10-x", "10-0", "10-5-", "1e3-4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(fl_mlp_parse_spec(bad[i], &n, dims), -1);
    fl_mlp m;
    assert_int_equal(fl_mlp_create_from_spec(&m, "785-512-256-10"), 0);
    assert_int_equal(m.blob.n, 785 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    assert_string_equal(m.blob.views[0].name, "layers.0.weight");
    assert_int_equal(m.blob.views[0].shape[0], 512);
    assert_int_equal(m.blob.views[0].shape[1], 785);
    assert_string_equal(m.blob.views[5].name, "layers.2.bias");
    char buf[64];
    fl_mlp_spec_string(&m, buf, sizeof buf);
    assert_string_equal(buf, "785-512-256-10");
    fl_mlp_free(&m);
}

/* The random inputs and R of every test come from one seeded stream. */
static int seed(void **state) {
    (void)state;
    fl_rng_init(&g_rng, 42, 0);
    return 0;
}

TU_MAIN_WITH(seed, NULL,
             cmocka_unit_test(test_linear), cmocka_unit_test(test_relu), cmocka_unit_test(test_softmax_family),
             cmocka_unit_test(test_soft_ce_matches_hard), cmocka_unit_test(test_argmax),
             cmocka_unit_test(test_mlp_backward), cmocka_unit_test(test_mlp_spec))
