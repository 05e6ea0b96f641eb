/* test_objectives.c: the fine-tuning losses against a double-precision
 * reference and its finite differences with respect to the logits (samples
 * and advantages held fixed), and the oracle target's defining properties. */
#include "nn/fdcheck.h"
#include "testutil.h"

#include "forgetlab/nn/layers.h"
#include "forgetlab/train/objectives.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <string.h>

enum { B = 3, V = 10, G = 4 };

/* g_rng (fdcheck.h) draws the logits and samples. */
static float g_z[B * V], g_q[B * V];
static int g_act[B * G], g_yw[B], g_yl[B];
static float g_adv[B * G];

static void ref_logp(const double *z, double *lp) {
    for (int b = 0; b < B; b++) {
        double mx = z[b * V], s = 0;
        for (int v = 1; v < V; v++) mx = fmax(mx, z[b * V + v]);
        for (int v = 0; v < V; v++) s += exp(z[b * V + v] - mx);
        for (int v = 0; v < V; v++) lp[b * V + v] = z[b * V + v] - mx - log(s);
    }
}

enum { K_PG, K_KL, K_SIMPO };
static double ref_loss(int kind, const double *z) {
    double lp[B * V], L = 0;
    ref_logp(z, lp);
    for (int b = 0; b < B; b++) {
        if (kind == K_PG)
            for (int g = 0; g < G; g++) L -= g_adv[b * G + g] * lp[b * V + g_act[b * G + g]] / (B * G);
        if (kind == K_KL)
            for (int v = 0; v < V; v++) L += exp(lp[b * V + v]) * (lp[b * V + v] - log(g_q[b * V + v])) / B;
        if (kind == K_SIMPO) {
            double u = 2.0 * (lp[b * V + g_yw[b]] - lp[b * V + g_yl[b]]) - 0.5;
            L += log(1 + exp(-u)) / B;
        }
    }
    return L;
}

/* ref_loss as fd_grad wants it: ctx points to the kind. */
static double ref_loss_of(const double *z, void *kind) { return ref_loss(*(const int *)kind, z); }

static float run_loss(int kind, const float *z, float *dz) {
    float probs[B * V], logp[B * V], logq[B * V];
    fl_softmax_forward(probs, z, B, V);
    fl_log_softmax_forward(logp, z, B, V);
    for (int i = 0; i < B * V; i++) logq[i] = logf(g_q[i]);
    memset(dz, 0, B * V * sizeof(float));
    switch (kind) {
    case K_PG: return fl_pg_loss(dz, probs, logp, g_act, g_adv, B, G, V, 1.0f);
    case K_KL: return fl_kl_loss(dz, probs, logp, logq, B, V, 1.0f);
    default: return fl_simpo_loss(dz, probs, logp, g_yw, g_yl, B, V, 2.0f, 0.5f, 1.0f);
    }
}

static void check_kind(int kind, const char *name) {
    float dz[B * V];
    float loss = run_loss(kind, g_z, dz);
    double z[B * V];
    for (int i = 0; i < B * V; i++) z[i] = g_z[i];
    double want = ref_loss(kind, z);
    if (fabs(loss - want) > 1e-5 * fmax(1, fabs(want))) fail_msg("%s loss %.8g, want %.8g", name, loss, want);
    for (int i = 0; i < B * V; i++) {
        double fd = fd_grad(ref_loss_of, &kind, z, i);
        if (fabs(dz[i] - fd) > 2e-5 * fmax(1, fabs(fd))) fail_msg("%s dlogits[%d] %.8g, want %.8g", name, i, dz[i], fd);
    }
}

static int setup(void **state) {
    (void)state;
    fl_rng_init(&g_rng, 11, 0);
    for (int i = 0; i < B * V; i++) g_z[i] = 1.5f * (float)fl_rng_normal(&g_rng);
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int v = 0; v < V; v++) s += (g_q[b * V + v] = 0.05f + fl_rng_float(&g_rng));
        for (int v = 0; v < V; v++) g_q[b * V + v] /= (float)s;
        float r[G];
        for (int g = 0; g < G; g++) {
            g_act[b * G + g] = (int)fl_rng_below(&g_rng, V);
            r[g] = (float)(g_act[b * G + g] % 2);
        }
        fl_grpo_advantages(g_adv + b * G, r, G, 1e-6f);
        g_yw[b] = b;
        g_yl[b] = 9 - b;
    }
    g_act[0] = g_act[1]; /* a repeated action: its two terms must add */
    return 0;
}

static void test_pg(void **state) { (void)state; check_kind(K_PG, "policy gradient"); }
static void test_kl(void **state) { (void)state; check_kind(K_KL, "KL(p||q)"); }
static void test_simpo(void **state) { (void)state; check_kind(K_SIMPO, "SimPO"); }

/* KL direction on hand-computed values: p = softmax(0, log 3) = (1/4, 3/4),
 * q = (1/2, 1/2): KL(p||q) = 1/4 log(1/2) + 3/4 log(3/2) = 0.1308120; the
 * reverse, KL(q||p) = 1/2 log 2 + 1/2 log(2/3) = 0.1438410. */
static void test_kl_direction(void **state) {
    (void)state;
    float z[2] = {0.0f, logf(3.0f)}, probs[2], logp[2], logq[2] = {logf(0.5f), logf(0.5f)};
    fl_softmax_forward(probs, z, 1, 2);
    fl_log_softmax_forward(logp, z, 1, 2);
    assert_float_equal(fl_kl_loss(NULL, probs, logp, logq, 1, 2, 1.0f), 0.1308120, 1e-6);
    float lq_as_p[2] = {logq[0], logq[1]}, pq[2] = {0.5f, 0.5f};
    assert_float_equal(fl_kl_loss(NULL, pq, lq_as_p, logp, 1, 2, 1.0f), 0.1438410, 1e-6);
}

static void test_advantages(void **state) {
    (void)state;
    float r[4] = {1, 0, 0, 1}, a[4];
    fl_grpo_advantages(a, r, 4, 0.0f);
    assert_float_equal(a[0], 1.0, 1e-6); /* mean 0.5, std 0.5 */
    assert_float_equal(a[1], -1.0, 1e-6);
    float same[3] = {1, 1, 1};
    fl_grpo_advantages(a, same, 3, 1e-6f);
    for (int g = 0; g < 3; g++) assert_float_equal(a[g], 0.0, 0);
}

/* The oracle target sums to 1, is zero on wrong answers, keeps pi_0's ratios
 * on the right ones, and is closer to pi_0 in KL(q||pi_0) than other feasible
 * targets (here: uniform over the correct answers and a one-hot). */
static void test_oracle_target(void **state) {
    (void)state;
    float p0[V] = {0.3f, 0.05f, 0.1f, 0.05f, 0.2f, 0.05f, 0.1f, 0.05f, 0.05f, 0.05f};
    float correct[V], q[V];
    for (int v = 0; v < V; v++) correct[v] = (float)(v % 2 == 0); /* even digits */
    fl_oracle_target(q, p0, correct, 1, V);
    double s = 0;
    for (int v = 0; v < V; v++) {
        s += q[v];
        if (v % 2) assert_float_equal(q[v], 0.0, 0);
    }
    assert_float_equal(s, 1.0, 1e-6);
    assert_float_equal(q[0] / q[4], 1.5, 1e-6);
    float uni[V] = {0}, hot[V] = {0}, lp0[V];
    for (int v = 0; v < V; v += 2) uni[v] = 0.2f;
    hot[0] = 1.0f;
    for (int v = 0; v < V; v++) lp0[v] = logf(p0[v]);
    float lq[V], lu[V], lh[V];
    for (int v = 0; v < V; v++) {
        lq[v] = q[v] > 0 ? logf(q[v]) : -INFINITY;
        lu[v] = uni[v] > 0 ? logf(uni[v]) : -INFINITY;
        lh[v] = hot[v] > 0 ? logf(hot[v]) : -INFINITY;
    }
    float kq = fl_kl_loss(NULL, q, lq, lp0, 1, V, 1), ku = fl_kl_loss(NULL, uni, lu, lp0, 1, V, 1),
          kh = fl_kl_loss(NULL, hot, lh, lp0, 1, V, 1);
    assert_true(kq < ku && kq < kh);
    assert_float_equal(kq, -log(0.3 + 0.1 + 0.2 + 0.1 + 0.05), 1e-6); /* = -log p0(correct) */
    float zero[V] = {0};
    fl_oracle_target(q, zero, correct, 1, V); /* no mass on any correct answer */
    assert_float_equal(q[2], 0.2, 1e-6);
}

/* EWC's and L2-SP's anchor penalty against its finite differences. */
enum { NP = 7 };
static float g_anchor[NP], g_F[NP];
static int g_use_F;
static double anchor_ref(const double *th, void *ctx) {
    (void)ctx;
    double pen = 0;
    for (int i = 0; i < NP; i++) pen += (g_use_F ? g_F[i] : 1.0) * (th[i] - g_anchor[i]) * (th[i] - g_anchor[i]);
    return 0.5 * 2.5 * pen;
}

static void test_anchor_penalty(void **state) {
    (void)state;
    fl_blob b;
    fl_blob_init(&b);
    const int shape[1] = {NP};
    assert_int_equal(fl_blob_add(&b, "w", 1, shape), 0);
    assert_int_equal(fl_blob_alloc(&b), 0);
    fill(b.params, NP, 1.0f);
    fill(g_anchor, NP, 1.0f);
    for (int i = 0; i < NP; i++) g_F[i] = (float)fabs(fl_rng_normal(&g_rng));
    for (g_use_F = 0; g_use_F < 2; g_use_F++) {
        double th[NP];
        for (int i = 0; i < NP; i++) th[i] = b.params[i];
        fl_blob_zero_grads(&b);
        const double pen = fl_anchor_penalty(&b, g_anchor, g_use_F ? g_F : NULL, 2.5);
        assert_close(pen, anchor_ref(th, NULL), 1e-6, g_use_F ? "EWC penalty" : "L2-SP penalty", 0);
        check_grad(anchor_ref, NULL, b.params, NP, b.grads, g_use_F ? "EWC gradient" : "L2-SP gradient");
    }
    /* At the anchor: no penalty, no gradient. */
    memcpy(b.params, g_anchor, sizeof g_anchor);
    fl_blob_zero_grads(&b);
    assert_true(fl_anchor_penalty(&b, g_anchor, g_F, 2.5) == 0);
    for (int i = 0; i < NP; i++) assert_true(b.grads[i] == 0);
    fl_blob_free(&b);
}

TU_MAIN_WITH(setup, NULL, cmocka_unit_test(test_anchor_penalty),
             cmocka_unit_test(test_pg), cmocka_unit_test(test_kl), cmocka_unit_test(test_simpo),
             cmocka_unit_test(test_kl_direction), cmocka_unit_test(test_advantages),
             cmocka_unit_test(test_oracle_target))
