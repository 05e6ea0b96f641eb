/* test_grokforget.c: the grok-forget study's pieces: the reserved-token
 * layout (same pairs, same split as without), the key frequencies' share
 * of an embedding built from known frequencies, the new task's answers,
 * and the measurement of a model against itself and against a changed
 * copy (the KL direction, forgetting, weight change). */
#include "testutil.h"

#include "forgetlab/measure/divergence.h"
#include "forgetlab/measure/fourier.h"
#include "forgetlab/measure/grokforget_measure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_reserved_layout(void **state) {
    (void)state;
    const fl_mod_op add = FL_OP_ADD;
    fl_modarith plain, res;
    assert_int_equal(fl_modarith_build(&plain, 7, &add, 1, 0.5, 3), 0);
    assert_int_equal(fl_modarith_build_reserved(&res, 7, &add, 1, 1, 0.5, 3), 0);
    assert_int_equal(plain.ctx, 3);
    assert_int_equal(res.ctx, 4);
    assert_int_equal(res.vocab, 7 + 1 + 1 + 1); /* residues, "=", "+", the reserved token */
    assert_int_equal(res.n, plain.n);
    assert_int_equal(res.n_train, plain.n_train);
    for (int i = 0; i < res.n; i++) {
        const int *t = res.tok + (size_t)i * 4;
        assert_int_equal(t[0], res.a[i]);
        assert_int_equal(t[1], fl_modarith_op_token(&res, 0));
        assert_int_equal(t[2], res.b[i]);
        assert_int_equal(t[3], 7);
        assert_true(t[1] != fl_modarith_op_token(&res, 1)); /* no equation uses the reserved token */
    }
    for (int k = 0; k < res.n_train; k++) assert_int_equal(res.train[k], plain.train[k]);
    fl_modarith_free(&plain), fl_modarith_free(&res);
    assert_int_not_equal(fl_modarith_build_reserved(&res, 7, &add, 1, -1, 0.5, 3), 0);
}

/* An embedding [p, d] whose column j is cos(w_k a) for k = freq[j]:
 * its spectrum holds those frequencies only. */
static void test_key_share(void **state) {
    (void)state;
    enum { P = 13, D = 3 };
    float W[P * D];
    const int freq[D] = {2, 5, 5};
    for (int a = 0; a < P; a++)
        for (int j = 0; j < D; j++) W[a * D + j] = (float)cos(2 * 3.14159265358979323846 * freq[j] * a / P) * (j == 0 ? 1.0f : 0.5f);
    double norms[P / 2 + 1];
    fl_fourier_embed_norms(W, P, D, norms);
    const int k2[1] = {2}, k5[1] = {5}, both[2] = {2, 5}, none[1] = {3};
    /* Column 0 carries norm^2 c, columns 1 and 2 a quarter of it each. */
    assert_float_equal(fl_fourier_key_share(norms, P, k2, 1), 2.0 / 3.0, 1e-5);
    assert_float_equal(fl_fourier_key_share(norms, P, k5, 1), 1.0 / 3.0, 1e-5);
    assert_float_equal(fl_fourier_key_share(norms, P, both, 2), 1.0, 1e-6);
    assert_float_equal(fl_fourier_key_share(norms, P, none, 1), 0.0, 1e-6);
}

static void test_new_task_answers(void **state) {
    (void)state;
    const int p = 11;
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            int n = 0;
            for (int c = 0; c < p; c++) n += fl_gf_correct(a, b, c, p);
            assert_int_equal(n, a == b ? 1 : 2);
            assert_true(fl_gf_correct(a, b, (a - b + p) % p, p) && fl_gf_correct(a, b, (b - a + p) % p, p));
        }
}

static void small_model(fl_transformer *m, const fl_modarith *d) {
    const fl_tf_config tc = {.vocab = d->vocab, .n_out = d->p, .ctx = d->ctx, .n_layers = 1, .d_model = 8,
                             .n_heads = 2, .d_mlp = 16, .act = FL_TF_RELU, .loss_last = 1};
    assert_int_equal(fl_tf_create(m, &tc), 0);
    fl_rng rng;
    fl_rng_init(&rng, 5, FL_STREAM_INIT);
    fl_tf_init(m, FL_TF_INIT_TORCH, &rng);
}

static void test_measure_self_and_changed(void **state) {
    (void)state;
    const fl_mod_op add = FL_OP_ADD;
    fl_modarith d;
    assert_int_equal(fl_modarith_build_reserved(&d, 7, &add, 1, 1, 0.6, 1), 0);
    fl_transformer base, m;
    small_model(&base, &d);
    small_model(&m, &d);
    fl_gf_ctx ctx;
    assert_int_equal(fl_gf_ctx_init(&ctx, &base, &d, 2, 4, 1), 0);
    fl_gf_measurement r;
    assert_int_equal(fl_gf_measure(&ctx, &m, &r), 0);
    assert_float_equal(r.forgetting, 0.0, 1e-12);
    assert_float_equal(r.forward_kl_new, 0.0, 1e-6);
    assert_float_equal(r.weight_l1, 0.0, 1e-12);
    assert_float_equal(r.fourier_share, ctx.fourier_share_base, 1e-12);
    assert_true(r.new_mass > 0 && r.new_mass < 1);
    /* A changed unembedding: the KL on the new task's held-out inputs is
     * the divergence of the two models' logits there, forward = KL(base || m). */
    float *u = fl_blob_param(&m.blob, m.wu);
    for (int i = 0; i < d.p * 8; i++) u[i] *= 3.0f;
    assert_int_equal(fl_gf_measure(&ctx, &m, &r), 0);
    const int V = d.p, nt = d.n_test;
    float *z0 = malloc(sizeof(float) * d.n * V), *z1 = malloc(sizeof(float) * d.n * V);
    float *a0 = malloc(sizeof(float) * nt * V), *a1 = malloc(sizeof(float) * nt * V);
    assert_int_equal(fl_tf_logits_all(&m, ctx.tok_new, d.n, z1), 0);
    memcpy(z0, ctx.z0_new, sizeof(float) * d.n * V);
    for (int k = 0; k < nt; k++) {
        memcpy(a0 + (size_t)k * V, z0 + (size_t)d.test[k] * V, sizeof(float) * V);
        memcpy(a1 + (size_t)k * V, z1 + (size_t)d.test[k] * V, sizeof(float) * V);
    }
    fl_divergences dv;
    assert_int_equal(fl_divergences_logits(&dv, a0, a1, nt, V), 0);
    assert_true(r.forward_kl_new > 1e-3);
    assert_float_equal(r.forward_kl_new, dv.forward_kl, 1e-9);
    assert_float_equal(r.reverse_kl_new, dv.reverse_kl, 1e-9);
    assert_true(r.weight_l1 > 0);
    /* The chain rule: the three parts add up to the whole. */
    assert_float_equal(r.kl_outcome + r.kl_within_correct + r.kl_within_wrong, r.forward_kl_new, 1e-6);
    assert_true(r.kl_outcome >= -1e-12 && r.kl_within_correct >= -1e-12 && r.kl_within_wrong >= -1e-12);
    free(z0), free(z1), free(a0), free(a1);
    fl_gf_ctx_free(&ctx);
    fl_tf_free(&base), fl_tf_free(&m);
    /* A model of another task is refused. */
    fl_modarith plain;
    assert_int_equal(fl_modarith_build(&plain, 7, &add, 1, 0.6, 1), 0);
    small_model(&base, &plain);
    assert_int_not_equal(fl_gf_ctx_init(&ctx, &base, &plain, 2, 4, 1), 0);
    fl_tf_free(&base);
    fl_modarith_free(&plain), fl_modarith_free(&d);
}

TU_MAIN(cmocka_unit_test(test_reserved_layout), cmocka_unit_test(test_key_share),
        cmocka_unit_test(test_new_task_answers), cmocka_unit_test(test_measure_self_and_changed))
