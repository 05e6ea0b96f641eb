/* test_gpt.c: the byte-level language model against PyTorch: a GPT in
 * nanoGPT's layout (gpt_fixture.safetensors, made by make_gpt_fixture.py
 * in this folder, float64), its weights loaded here by their nanoGPT
 * names. The logits, the masked mean cross-entropy and the gradient of
 * every parameter (the tied embedding's included) must match within 1e-4
 * relative. Also: a mask of zeros scores nothing, the initialisation
 * follows GPT-2, and bad configurations are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forgetlab/error.h"
#include "forgetlab/gpt.h"
#include "forgetlab/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE "gpt_fixture.safetensors"
#define RTOL 1e-4
#define ATOL 1e-6

static fl_safetensors g_st;

static const float *tensor(const char *name, int64_t numel) {
    const fl_st_tensor *t = fl_safetensors_get(&g_st, name);
    if (!t) fail_msg("fixture has no tensor '%s'", name);
    if (numel >= 0 && t->numel != numel) fail_msg("fixture tensor '%s' has %lld values", name, (long long)t->numel);
    return t->data;
}

static int meta(const char *key) {
    const char *v = fl_safetensors_meta(&g_st, key);
    if (!v) fail_msg("fixture has no metadata '%s'", key);
    return atoi(v);
}

static void assert_all_close(const float *got, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]), lim = fmax(RTOL * fabs((double)want[i]), ATOL);
        if (!(err <= lim))
            fail_msg("%s[%zu]: got %.9g, want %.9g (|diff| %.3g > %.3g)", what, i, (double)got[i], (double)want[i],
                     err, lim);
    }
}

static void test_against_torch(void **state) {
    (void)state;
    const fl_gpt_config c = {meta("vocab"), meta("ctx"), meta("n_layer"), meta("n_embd"), meta("n_head")};
    const int B = meta("B"), T = meta("T"), N = B * T;
    fl_gpt m;
    assert_int_equal(fl_gpt_create(&m, &c), 0);
    /* Every parameter by its nanoGPT name. */
    for (int v = 0; v < m.blob.nviews; v++) {
        const fl_view *w = &m.blob.views[v];
        memcpy(fl_blob_param(&m.blob, v), tensor(w->name, (int64_t)w->numel), w->numel * sizeof(float));
    }
    int *tok = malloc(sizeof(int) * N), *tgt = malloc(sizeof(int) * N);
    const float *ft = tensor("tok", N), *fy = tensor("targets", N), *mask = tensor("mask", N);
    for (int i = 0; i < N; i++) tok[i] = (int)ft[i], tgt[i] = (int)fy[i];
    fl_gpt_acts a;
    assert_int_equal(fl_gpt_acts_alloc(&a, &m, B, c.ctx), 0); /* room for the whole context, used in part */
    const float loss = fl_gpt_forward(&m, &a, tok, tgt, mask, B, T);
    assert_all_close(a.logits, tensor("logits", (int64_t)N * c.vocab), (size_t)N * c.vocab, "logits");
    assert_all_close(&loss, tensor("loss", 1), 1, "loss");
    fl_blob_zero_grads(&m.blob);
    fl_gpt_backward(&m, &a);
    for (int v = 0; v < m.blob.nviews; v++) {
        const fl_view *w = &m.blob.views[v];
        char name[FL_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", w->name);
        assert_all_close(fl_blob_grad(&m.blob, v), tensor(name, (int64_t)w->numel), w->numel, name);
    }
    /* Gradients accumulate: a second backward pass doubles them. */
    const float g0 = fl_blob_grad(&m.blob, m.wte)[5];
    fl_gpt_backward(&m, &a);
    assert_float_equal(fl_blob_grad(&m.blob, m.wte)[5], 2 * g0, 1e-6 * fabs(g0) + 1e-9);
    /* A mask of zeros scores nothing and changes no gradient. */
    float *zeros = calloc((size_t)N, sizeof(float));
    assert_true(isnan(fl_gpt_forward(&m, &a, tok, tgt, zeros, B, T)));
    fl_blob_zero_grads(&m.blob);
    fl_gpt_backward(&m, &a);
    for (size_t i = 0; i < m.blob.n; i++) assert_true(m.blob.grads[i] == 0.0f);
    free(zeros), free(tok), free(tgt);
    fl_gpt_acts_free(&a);
    fl_gpt_free(&m);
}

static void test_init_and_config(void **state) {
    (void)state;
    fl_gpt_config c = {256, 64, 4, 64, 4};
    fl_gpt m;
    assert_int_equal(fl_gpt_create(&m, &c), 0);
    fl_rng rng;
    fl_rng_init(&rng, 1, FL_STREAM_INIT);
    fl_gpt_init(&m, &rng);
    /* Standard deviations: 0.02, and 0.02 / sqrt(2 n_layer) for the projections. */
    double s = 0, s2 = 0;
    const float *w = fl_blob_param(&m.blob, m.wte);
    const long n = 256L * 64;
    for (long i = 0; i < n; i++) s += w[i], s2 += (double)w[i] * w[i];
    assert_float_equal(sqrt(s2 / n - (s / n) * (s / n)), 0.02, 0.001);
    const float *p = fl_blob_param(&m.blob, m.blk[3].proj_w);
    s2 = 0;
    for (long i = 0; i < 64L * 64; i++) s2 += (double)p[i] * p[i];
    assert_float_equal(sqrt(s2 / (64.0 * 64)), 0.02 / sqrt(8.0), 0.0008);
    assert_float_equal(fl_blob_param(&m.blob, m.blk[0].ln1_w)[7], 1.0, 0);
    assert_float_equal(fl_blob_param(&m.blob, m.blk[0].attn_b)[7], 0.0, 0);
    fl_gpt_free(&m);
    const fl_gpt_config bad[] = {{256, 64, 0, 64, 4}, {256, 64, 2, 66, 4}, {0, 64, 2, 64, 4}, {256, 0, 2, 64, 4}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_int_equal(fl_gpt_create(&m, &bad[i]), -1);
    /* A batch longer than the context is refused. */
    assert_int_equal(fl_gpt_create(&m, &c), 0);
    fl_gpt_acts a;
    assert_int_equal(fl_gpt_acts_alloc(&a, &m, 2, 65), -1);
    fl_gpt_free(&m);
}

static int setup(void **state) {
    (void)state;
    if (fl_safetensors_read(FIXTURE, &g_st)) {
        fprintf(stderr, "%s\n", fl_error_msg());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fl_safetensors_free(&g_st);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_torch),
        cmocka_unit_test(test_init_and_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
