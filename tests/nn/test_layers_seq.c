/* test_layers_seq.c: the transformer's layers (embedding, LayerNorm, GELU,
 * causal attention) against double-precision references and central finite
 * differences, as test_layers.c does for the MLP's. Each layer's inputs are
 * packed into one vector theta so one reference checks every gradient; the
 * scalar is L = sum(out * R) for a fixed random R (the backward gets dout =
 * R), and gradient buffers start non-zero to check that backward adds. */
#include "fdcheck.h"
#include "testutil.h"

#include "forgetlab/nn/layers.h"

#include <string.h>

/* Backward passes accumulate: seed with 1, run, subtract 1. */
static void seed_ones(float *g, int n) {
    for (int i = 0; i < n; i++) g[i] = 1.0f;
}
static void unseed(float *g, int n) {
    for (int i = 0; i < n; i++) g[i] -= 1.0f;
}

/* ---- LayerNorm: theta = [x (N*C) | w (C) | b (C)] ---- */
typedef struct {
    int N, C;
    const float *R;
} ln_ctx;

static double ln_ref(const double *th, void *vctx) {
    ln_ctx *c = vctx;
    const double *w = th + c->N * c->C, *b = w + c->C;
    double L = 0;
    for (int i = 0; i < c->N; i++) {
        const double *x = th + i * c->C;
        double m = 0, v = 0;
        for (int j = 0; j < c->C; j++) m += x[j] / c->C;
        for (int j = 0; j < c->C; j++) v += (x[j] - m) * (x[j] - m) / c->C;
        for (int j = 0; j < c->C; j++) L += ((x[j] - m) / sqrt(v + 1e-5) * w[j] + b[j]) * c->R[i * c->C + j];
    }
    return L;
}

static void test_layernorm(void **state) {
    (void)state;
    enum { N = 4, C = 9, NT = N * C + 2 * C };
    float th[NT], g[NT], R[N * C], out[N * C], mean[N], rstd[N];
    fill(th, NT, 1);
    fill(R, N * C, 1);
    float *x = th, *w = th + N * C, *b = w + C;
    fl_layernorm_forward(out, mean, rstd, x, w, b, N, C);
    double thd[NT];
    for (int i = 0; i < NT; i++) thd[i] = th[i];
    double L = 0;
    for (int i = 0; i < N * C; i++) L += (double)out[i] * R[i];
    ln_ctx ctx = {N, C, R};
    assert_close(L, ln_ref(thd, &ctx), 1e-5, "layernorm forward", 0);
    seed_ones(g, NT);
    fl_layernorm_backward(g, g + N * C, g + N * C + C, R, x, w, mean, rstd, N, C);
    unseed(g, NT);
    check_grad(ln_ref, &ctx, th, NT, g, "layernorm backward");
}

/* ---- GELU (exact, erf form) ---- */
typedef struct {
    int N;
    const float *R;
} gelu_ctx;

static double gelu_ref(const double *x, void *vctx) {
    gelu_ctx *c = vctx;
    double L = 0;
    for (int i = 0; i < c->N; i++) L += 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0))) * c->R[i];
    return L;
}

static void test_gelu(void **state) {
    (void)state;
    enum { N = 40 };
    float x[N], R[N], out[N], g[N];
    fill(x, N, 2);
    fill(R, N, 1);
    fl_gelu_forward(out, x, N);
    for (int i = 0; i < N; i++) assert_close(out[i], 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0))), 1e-6, "gelu", i);
    seed_ones(g, N);
    fl_gelu_backward(g, R, x, N);
    unseed(g, N);
    gelu_ctx ctx = {N, R};
    check_grad(gelu_ref, &ctx, x, N, g, "gelu backward");
}

/* ---- attention: theta = [q (B*Tq*C) | k (B*T*C) | v (B*T*C)] ---- */
typedef struct {
    int B, T, Tq, NH, HS;
    const float *R;
} att_ctx;

static double att_ref(const double *th, void *vctx) {
    att_ctx *c = vctx;
    const int C = c->NH * c->HS;
    const double *q = th, *k = q + c->B * c->Tq * C, *v = k + c->B * c->T * C;
    double L = 0;
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->NH; h++)
            for (int i = 0; i < c->Tq; i++) {
                int t = c->T - c->Tq + i;
                double s[64], mx = -INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    s[j] = 0;
                    for (int e = 0; e < c->HS; e++)
                        s[j] += q[(b * c->Tq + i) * C + h * c->HS + e] * k[(b * c->T + j) * C + h * c->HS + e];
                    s[j] /= sqrt((double)c->HS);
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j <= t; j++) sum += (s[j] = exp(s[j] - mx));
                for (int e = 0; e < c->HS; e++) {
                    double o = 0;
                    for (int j = 0; j <= t; j++) o += s[j] / sum * v[(b * c->T + j) * C + h * c->HS + e];
                    L += o * c->R[(b * c->Tq + i) * C + h * c->HS + e];
                }
            }
    return L;
}

static void check_attention(int B, int T, int Tq, int NH, int HS) {
    const int C = NH * HS, nq = B * Tq * C, nkv = B * T * C, n = nq + 2 * nkv;
    float *th = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
    float *R = malloc(nq * sizeof(float)), *out = malloc(nq * sizeof(float));
    float *att = malloc((size_t)B * NH * Tq * T * sizeof(float));
    fill(th, n, 1);
    fill(R, nq, 1);
    fl_attention_forward(out, att, th, th + nq, th + nq + nkv, B, T, Tq, NH, HS);
    /* Each row of weights sums to 1 over the visible keys, 0 beyond. */
    for (int r = 0; r < B * NH * Tq; r++) {
        int t = T - Tq + r % Tq;
        double s = 0;
        for (int j = 0; j < T; j++) {
            s += att[r * T + j];
            if (j > t) assert_close(att[r * T + j], 0, 0, "masked weight", r);
        }
        assert_close(s, 1, 1e-6, "attention row sum", r);
    }
    att_ctx ctx = {B, T, Tq, NH, HS, R};
    double *thd = malloc(n * sizeof(double)), L = 0;
    for (int i = 0; i < n; i++) thd[i] = th[i];
    for (int i = 0; i < nq; i++) L += (double)out[i] * R[i];
    assert_close(L, att_ref(thd, &ctx), 1e-5, "attention forward", Tq);
    seed_ones(g, n);
    float *dscore = malloc(sizeof(float) * (size_t)B * NH * Tq * T);
    assert_non_null(dscore);
    fl_attention_backward(g, g + nq, g + nq + nkv, dscore, R, att, th, th + nq, th + nq + nkv, B, T, Tq, NH, HS);
    free(dscore);
    unseed(g, n);
    check_grad(att_ref, &ctx, th, n, g, Tq == T ? "attention backward (all queries)" : "attention backward (last queries)");
    free(th), free(g), free(R), free(out), free(att), free(thd);
}

static void test_attention(void **state) {
    (void)state;
    check_attention(2, 4, 4, 2, 3); /* ordinary causal self-attention */
    check_attention(3, 3, 1, 4, 2); /* the last position only */
    check_attention(2, 5, 2, 1, 4); /* the last two: t0 = 3 */
}

/* ---- embedding: linear, so the backward is exact ---- */
static void test_embedding(void **state) {
    (void)state;
    enum { B = 3, T = 4, V = 5, C = 6 };
    int tok[B * T] = {0, 1, 1, 4, 2, 2, 2, 0, 4, 3, 1, 0};
    float wte[V * C], wpe[T * C], out[B * T * C], dout[B * T * C], dwte[V * C] = {0}, dwpe[T * C] = {0};
    fill(wte, V * C, 1);
    fill(wpe, T * C, 1);
    fill(dout, B * T * C, 1);
    fl_embedding_forward(out, tok, wte, wpe, B, T, C);
    for (int r = 0; r < B * T; r++)
        for (int c = 0; c < C; c++)
            assert_close(out[r * C + c], wte[tok[r] * C + c] + wpe[(r % T) * C + c], 1e-7, "embedding", r);
    fl_embedding_backward(dwte, dwpe, dout, tok, B, T, C);
    for (int v = 0; v < V; v++)
        for (int c = 0; c < C; c++) {
            double want = 0;
            for (int r = 0; r < B * T; r++) want += tok[r] == v ? dout[r * C + c] : 0;
            assert_close(dwte[v * C + c], want, 1e-6, "embedding dwte", v * C + c);
        }
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) {
            double want = 0;
            for (int b = 0; b < B; b++) want += dout[(b * T + t) * C + c];
            assert_close(dwpe[t * C + c], want, 1e-6, "embedding dwpe", t * C + c);
        }
}

/* The random inputs and R of every test come from one seeded stream. */
static int seed(void **state) {
    (void)state;
    fl_rng_init(&g_rng, 7, 0);
    return 0;
}

TU_MAIN_WITH(seed, NULL, cmocka_unit_test(test_layernorm), cmocka_unit_test(test_gelu),
             cmocka_unit_test(test_attention), cmocka_unit_test(test_embedding))
