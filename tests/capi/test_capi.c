/* test_capi.c: the C API the Python package calls (capi.h), against the
 * library functions it wraps, and under the sanitizers (the shared
 * library itself is not built there): a saved MLP and language model
 * loaded back give the same logits as the models they came from; weights
 * written through the tensor pointers change the logits and what save
 * writes; a non-finite weight is refused by save; attribution scores and
 * circuit stability equal fl_ap_scores / fl_cs_compute; every bad input
 * (a missing file, the wrong kind of input, a token outside the
 * vocabulary, an unknown method, too few subtasks) is an error with a
 * message. */
#include "testutil.h"

#include "forgetlab/measure/attribution.h"
#include "forgetlab/capi/capi.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/measure/stability.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 12, IN = 6 };

static void fill(float *x, int n, uint64_t seed) {
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_DATA);
    for (int i = 0; i < n; i++) x[i] = fl_rng_float(&r);
}

static fl_capi_model *saved_mlp(fl_mlp *m, char **path) {
    const int dims[4] = {IN, 5, 4, 3};
    assert_int_equal(fl_mlp_create(m, 3, dims), 0);
    fl_rng r;
    fl_rng_init(&r, 1, FL_STREAM_INIT);
    fl_mlp_init(m, &r);
    *path = tu_scratch("mlp.safetensors");
    assert_int_equal(fl_mlp_save(*path, m, "{\"lr\": 0.5}"), 0);
    fl_capi_model *c = fl_capi_load(*path);
    assert_non_null(c);
    return c;
}

static void test_mlp(void **state) {
    (void)state;
    fl_mlp m;
    char *path;
    fl_capi_model *c = saved_mlp(&m, &path);
    int shape[4];
    fl_capi_shape(c, shape);
    assert_string_equal(fl_capi_arch(c), "mlp");
    assert_non_null(strstr(fl_capi_config(c), "\"lr\""));
    assert_true(shape[0] == IN && shape[1] == 3 && shape[2] == 1 && shape[3] == 0);
    float x[N * IN], want[N * 3], got[N * 3];
    fill(x, N * IN, 2);
    assert_int_equal(fl_mlp_logits(&m, x, N, want), 0);
    assert_int_equal(fl_capi_logits(c, x, N, got), 0);
    assert_memory_equal(want, got, sizeof want);
    /* The weights by name, in the model's memory. */
    assert_int_equal(fl_capi_ntensors(c), 6);
    assert_string_equal(fl_capi_tensor_name(c, 4), "layers.2.weight");
    int64_t sh[4];
    assert_int_equal(fl_capi_tensor_shape(c, 4, sh), 2);
    assert_true(sh[0] == 3 && sh[1] == 4);
    assert_null(fl_capi_tensor_name(c, 6));
    float *w = fl_capi_tensor_data(c, 4);
    for (int i = 0; i < 12; i++) w[i] *= 2;
    assert_int_equal(fl_capi_logits(c, x, N, got), 0);
    assert_true(memcmp(want, got, sizeof want) != 0);
    char *edited = tu_scratch("edited.safetensors");
    assert_int_equal(fl_capi_save(c, edited), 0);
    fl_capi_model *back = fl_capi_load(edited);
    assert_non_null(back);
    float again[N * 3];
    assert_int_equal(fl_capi_logits(back, x, N, again), 0);
    assert_memory_equal(got, again, sizeof got);
    assert_non_null(strstr(fl_capi_config(back), "\"lr\""));
    w[5] = NAN;
    assert_int_equal(fl_capi_save(c, edited), -1);
    assert_non_null(strstr(fl_capi_error(), "layers.2.weight[5] is not finite"));
    /* Wrong inputs. */
    x[7] = INFINITY;
    assert_int_equal(fl_capi_logits(back, x, N, got), -1);
    assert_non_null(strstr(fl_capi_error(), "not finite"));
    const int32_t tok[2] = {0, 1};
    assert_int_equal(fl_capi_logits_tokens(back, tok, 1, 2, got), -1);
    assert_non_null(strstr(fl_capi_error(), "features"));
    char *missing = tu_scratch("missing.safetensors");
    assert_null(fl_capi_load(missing));
    assert_non_null(strstr(fl_capi_error(), "missing.safetensors"));
    fl_capi_free(back), fl_capi_free(c), fl_mlp_free(&m);
    free(path), free(edited), free(missing);
}

static void test_circuits(void **state) {
    (void)state;
    fl_mlp m;
    char *path;
    fl_capi_model *c = saved_mlp(&m, &path);
    const int nc = fl_capi_ncomponents(c);
    assert_int_equal(nc, 5 + 4 + 2);
    char name[32];
    assert_int_equal(fl_capi_component_name(c, 9, name, sizeof name), 0);
    assert_string_equal(name, "layers.0");
    float x[N * IN], xc[N * IN], got[N * 11], want[N * 11];
    fill(x, N * IN, 3), fill(xc, N * IN, 4);
    int32_t lab[N];
    int target[N];
    for (int i = 0; i < N; i++) lab[i] = target[i] = i % 3;
    const fl_ap_opts o = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL, .ig_steps = 4,
                          .ig_form = FL_IG_PATH};
    assert_int_equal(fl_ap_scores(&m, &o, x, xc, target, N, want), 0);
    assert_int_equal(fl_capi_ap_scores(c, x, xc, lab, N, "ap-ig", 4, "path", "ce", "within", 0, got), 0);
    assert_memory_equal(want, got, sizeof want);
    /* Circuit stability of three subtasks of four examples. */
    const int32_t count[3] = {4, 4, 4};
    const int cnt[3] = {4, 4, 4};
    float vec[3 * 11], vec2[3 * 11];
    double rho[9], rho2[9], out[4], sp[1];
    fl_cs_stats st;
    assert_int_equal(fl_cs_compute(want, nc, cnt, 3, 10, 5, vec, rho, &st), 0);
    assert_int_equal(fl_capi_circuit_stability(got, nc, count, 3, 10, 5, vec2, rho2, out), 0);
    assert_memory_equal(vec, vec2, sizeof vec);
    assert_true(out[0] == st.cs && out[1] == st.random.mean && out[2] == st.random.lo && out[3] == st.random.hi);
    assert_int_equal(fl_capi_spearman(vec2, 3, nc, rho2, sp), 0);
    assert_true(sp[0] == st.cs);
    /* Bad requests. */
    assert_int_equal(fl_capi_ap_scores(c, x, xc, lab, N, "eap", 4, "path", "ce", "within", 0, got), -1);
    assert_non_null(strstr(fl_capi_error(), "method 'eap'"));
    assert_int_equal(fl_capi_ap_scores(c, x, NULL, lab, N, "ap-ig", 4, "path", "ce", "within", 0, got), -1);
    assert_non_null(strstr(fl_capi_error(), "corrupted inputs"));
    assert_int_equal(fl_capi_ap_scores(c, x, xc, NULL, N, "ap-ig", 4, "path", "ce", "within", 0, got), -1);
    assert_non_null(strstr(fl_capi_error(), "needs the labels"));
    assert_int_equal(fl_capi_ap_scores(c, x, xc, lab, N, "ap-ig", 4, "path", "ce", "within", 1, got), -1);
    assert_non_null(strstr(fl_capi_error(), "10 outputs"));
    lab[3] = 7;
    assert_int_equal(fl_capi_ap_scores(c, x, xc, lab, N, "ap-ig", 4, "path", "ce", "within", 0, got), -1);
    assert_non_null(strstr(fl_capi_error(), "label 3 is 7"));
    assert_int_equal(fl_capi_circuit_stability(got, nc, count, 1, 0, 0, NULL, rho2, out), -1);
    fl_capi_free(c), fl_mlp_free(&m);
    free(path);
}

static void test_language_model(void **state) {
    (void)state;
    const fl_gpt_config cfg = {256, 16, 1, 16, 2};
    fl_gpt g;
    assert_int_equal(fl_gpt_create(&g, &cfg), 0);
    fl_rng r;
    fl_rng_init(&r, 7, FL_STREAM_INIT);
    fl_gpt_init(&g, &r);
    char *path = tu_scratch("lm.safetensors");
    assert_int_equal(fl_gpt_save(path, &g, NULL), 0);
    fl_capi_model *c = fl_capi_load(path);
    assert_non_null(c);
    assert_string_equal(fl_capi_arch(c), "gpt");
    enum { B = 3, T = 5 };
    int tok[B * T];
    int32_t tok32[B * T];
    for (int i = 0; i < B * T; i++) tok[i] = tok32[i] = (i * 37) % 256;
    fl_gpt_acts a;
    assert_int_equal(fl_gpt_acts_alloc(&a, &g, B, T), 0);
    fl_gpt_forward(&g, &a, tok, NULL, NULL, B, T);
    float *got = malloc(sizeof(float) * B * T * 256);
    assert_int_equal(fl_capi_logits_tokens(c, tok32, B, T, got), 0);
    for (int i = 0; i < B * T * 256; i++) assert_true(fabsf(got[i] - a.logits[i]) <= 1e-5f * (1 + fabsf(a.logits[i])));
    tok32[4] = 256;
    assert_int_equal(fl_capi_logits_tokens(c, tok32, B, T, got), -1);
    assert_non_null(strstr(fl_capi_error(), "outside the vocabulary"));
    assert_int_equal(fl_capi_logits_tokens(c, tok32, 1, 17, got), -1);
    assert_non_null(strstr(fl_capi_error(), "1 to 16"));
    assert_int_equal(fl_capi_ncomponents(c), -1);
    assert_non_null(strstr(fl_capi_error(), "for an MLP"));
    free(got);
    fl_gpt_acts_free(&a);
    fl_capi_free(c), fl_gpt_free(&g);
    free(path);
}

TU_MAIN(TU_SCRATCH_TEST(test_mlp), TU_SCRATCH_TEST(test_circuits), TU_SCRATCH_TEST(test_language_model))
