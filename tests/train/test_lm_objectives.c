/* test_lm_objectives.c: the language model's fine-tuning objectives
 * (objectives.h, sequences) against a double-precision reference and its
 * finite differences: the weighted log-likelihood with the exact KL
 * penalty with respect to the logits (weights of both signs, rows left
 * out), SimPO's pair loss with respect to each token's -log p, and Dr.
 * GRPO's advantages. */
#include "nn/fdcheck.h"
#include "testutil.h"

#include "forgetlab/train/objectives.h"

#include <math.h>
#include <string.h>

enum { N = 6, V = 7 };

static float g_z0[N * V], g_w[N], g_kw[N];
static int g_t[N];
static const double BETA = 0.3, Z = 4.0;

static double ref_lse(const double *z) {
    double mx = z[0], s = 0;
    for (int v = 1; v < V; v++) mx = fmax(mx, z[v]);
    for (int v = 0; v < V; v++) s += exp(z[v] - mx);
    return mx + log(s);
}

/* sum_i w_i nll_i / Z + beta / Z sum_i kw_i KL(softmax z_i || softmax z0_i). */
static double ref_loss(const double *z, void *ctx) {
    (void)ctx;
    double L = 0;
    for (int i = 0; i < N; i++) {
        const double *zi = z + i * V, c = ref_lse(zi);
        double z0[V], kl = 0;
        for (int v = 0; v < V; v++) z0[v] = g_z0[i * V + v];
        const double c0 = ref_lse(z0);
        for (int v = 0; v < V; v++) kl += exp(zi[v] - c) * ((zi[v] - c) - (z0[v] - c0));
        L += g_w[i] * (c - zi[g_t[i]]) / Z + BETA * g_kw[i] * kl / Z;
    }
    return L;
}

static void test_nll_and_kl(void **state) {
    (void)state;
    fl_rng_init(&g_rng, 11, 0);
    float z[N * V], probs[N * V], nll[N], d[N * V] = {0};
    fill(z, N * V, 1.5f);
    fill(g_z0, N * V, 1.5f);
    for (int i = 0; i < N; i++) {
        g_t[i] = (int)fl_rng_below(&g_rng, V);
        g_w[i] = i == 2 ? 0.0f : (float)fl_rng_normal(&g_rng); /* both signs; row 2 out */
        g_kw[i] = i == 4 ? 0.0f : 1.0f;
        double zz[V];
        for (int v = 0; v < V; v++) zz[v] = z[i * V + v];
        const double c = ref_lse(zz);
        for (int v = 0; v < V; v++) probs[i * V + v] = (float)exp(zz[v] - c);
        nll[i] = (float)(c - zz[g_t[i]]);
    }
    double theta[N * V];
    for (int i = 0; i < N * V; i++) theta[i] = z[i];
    const double want = ref_loss(theta, NULL);
    const double nl = fl_seq_nll_grad(d, probs, nll, g_t, g_w, Z, N, V);
    const double kl = fl_seq_kl_grad(d, probs, z, g_z0, g_kw, BETA, Z, N, V);
    assert_close(nl + BETA * kl / Z, want, 1e-5, "loss", 0);
    check_grad(ref_loss, NULL, z, N * V, d, "dlogits");
    /* KL of a row with itself is zero, and so is its gradient. */
    float dz[V] = {0}, one = 1;
    assert_true(fabs(fl_seq_kl_grad(dz, probs, z, z, &one, 1.0, 1.0, 1, V)) < 1e-6);
    for (int v = 0; v < V; v++) assert_true(fabs(dz[v]) < 1e-6);
}

/* SimPO over nll: 2 pairs on 9 rows, completions of lengths 2, 3, 1, 2. */
static const int S_START[4] = {0, 2, 5, 7}, S_LEN[4] = {2, 3, 1, 2};
static double ref_simpo(const double *nll, void *ctx) {
    (void)ctx;
    const double beta = 2.0, gamma = 0.5;
    double L = 0;
    for (int k = 0; k < 2; k++) {
        double s[2] = {0, 0};
        for (int j = 0; j < 2; j++) {
            for (int t = 0; t < S_LEN[2 * k + j]; t++) s[j] -= nll[S_START[2 * k + j] + t];
            s[j] /= S_LEN[2 * k + j];
        }
        L += -log(1.0 / (1.0 + exp(-(beta * (s[0] - s[1]) - gamma))));
    }
    return L / 2;
}

static void test_simpo_seq(void **state) {
    (void)state;
    fl_rng_init(&g_rng, 12, 0);
    float nll[10], w[10];
    for (int i = 0; i < 10; i++) nll[i] = (float)(0.2 + 2 * fl_rng_double(&g_rng));
    double theta[10];
    for (int i = 0; i < 10; i++) theta[i] = nll[i];
    const double loss = fl_simpo_seq_weights(w, 10, nll, S_START, S_LEN, 2, 2.0, 0.5);
    assert_close(loss, ref_simpo(theta, NULL), 1e-6, "simpo loss", 0);
    check_grad(ref_simpo, NULL, nll, 10, w, "simpo weights");
    assert_true(w[9] == 0); /* off every completion */
}

static void test_group_centered(void **state) {
    (void)state;
    const float r[4] = {1, 0, 0, 1}, same[3] = {1, 1, 1};
    float a[4];
    fl_group_centered(a, r, 4);
    assert_float_equal(a[0], 0.5, 1e-7);
    assert_float_equal(a[1], -0.5, 1e-7);
    fl_group_centered(a, same, 3);
    for (int g = 0; g < 3; g++) assert_float_equal(a[g], 0, 1e-7);
}

TU_MAIN(cmocka_unit_test(test_nll_and_kl), cmocka_unit_test(test_simpo_seq), cmocka_unit_test(test_group_centered))
