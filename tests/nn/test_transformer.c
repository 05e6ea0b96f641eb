/* test_transformer.c: the whole transformer against PyTorch, and its
 * checkpoint round trip.
 *
 * tf_fixture.safetensors (made by make_tf_fixture.py in this folder) holds
 * two small models run by PyTorch in float64: "a." (2 layers, pre-LN, GELU,
 * loss at every position) and "b." (1 layer, no LN, ReLU, loss at the last
 * position: the grokking model's shape). Each layer is checked against
 * finite differences in test_layers_seq.c; this test checks that the blocks,
 * chained, compute what PyTorch does: names, layouts, the causal mask, the
 * last-position shortcut, and every parameter's gradient of the mean
 * cross-entropy. Tolerance 1e-4 relative, 1e-6 absolute (float32 against a
 * float64 reference). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/io/safetensors.h"
#include "forgetlab/nn/transformer.h"
#include "../testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE "tf_fixture.safetensors"
#include "torchref.h"
/* The fixture's model `prefix` ("a." / "b."), weights copied by name. */
static void load_case(const char *prefix, fl_transformer *m) {
    const char *spec = fl_safetensors_meta(&g_st, prefix[0] == 'a' ? "a" : "b");
    assert_non_null(spec);
    fl_tf_config c;
    assert_int_equal(fl_tf_parse_spec(spec, &c), 0);
    assert_int_equal(fl_tf_create(m, &c), 0);
    for (int v = 0; v < m->blob.nviews; v++) {
        const fl_view *vw = &m->blob.views[v];
        memcpy(fl_blob_param(&m->blob, v), ref_tensor(prefix, vw->name, (int64_t)vw->numel), vw->numel * sizeof(float));
    }
}

/* The fixture's tokens [B, T] and labels [N] for model prefix, malloc'ed
 * (as ints); returns B. */
static int load_batch(const char *prefix, const fl_transformer *m, int **tok, int **y) {
    const fl_st_tensor *tt = fl_safetensors_get(&g_st, prefix[0] == 'a' ? "a.tok" : "b.tok");
    const int B = (int)tt->shape[0], T = m->cfg.ctx, N = B * fl_tf_out_positions(m);
    assert_int_equal(tt->shape[1], T);
    *tok = malloc(sizeof(int) * B * T), *y = malloc(sizeof(int) * N);
    const float *ty = ref_tensor(prefix, "y", N);
    for (int i = 0; i < B * T; i++) (*tok)[i] = (int)tt->data[i];
    for (int i = 0; i < N; i++) (*y)[i] = (int)ty[i];
    return B;
}

/* Every parameter gradient of m against the fixture's "grad.<view name>",
 * the two embedding tables left out where the backward pass stops short
 * of them (with_embeddings 0). */
static void check_param_grads(const fl_transformer *m, const char *prefix, int with_embeddings) {
    for (int v = 0; v < m->blob.nviews; v++) {
        if (!with_embeddings && (v == m->wte || v == m->wpe)) continue;
        const fl_view *vw = &m->blob.views[v];
        char name[FL_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", vw->name);
        assert_all_close(fl_blob_grad(&m->blob, v), ref_tensor(prefix, name, (int64_t)vw->numel), vw->numel, name);
    }
}

static void check_case(const char *prefix) {
    fl_transformer m;
    load_case(prefix, &m);
    int *tok, *y;
    const int B = load_batch(prefix, &m, &tok, &y), N = B * fl_tf_out_positions(&m), V = m.cfg.n_out;

    fl_tf_acts a;
    assert_int_equal(fl_tf_acts_alloc(&a, &m, B + 2), 0); /* capacity above B: offsets must not assume B */
    const float *logits = fl_tf_forward(&m, &a, tok, B);
    assert_all_close(logits, ref_tensor(prefix, "logits", (int64_t)N * V), (size_t)N * V, "logits");

    float *probs = malloc(sizeof(float) * N * V), *logp = malloc(sizeof(float) * N * V);
    float *dlogits = calloc((size_t)N * V, sizeof(float));
    fl_softmax_forward(probs, logits, N, V);
    fl_log_softmax_forward(logp, logits, N, V);
    float loss = fl_crossentropy_forward(NULL, logp, y, N, V);
    assert_all_close(&loss, ref_tensor(prefix, "loss", 1), 1, "loss");
    fl_crossentropy_backward(dlogits, probs, y, N, V, 1.0f / N);
    fl_blob_zero_grads(&m.blob);
    fl_tf_backward(&m, &a, dlogits);
    check_param_grads(&m, prefix, 1);
    /* A second backward adds the same gradients again (+= convention), and
     * the activation gradients are reset rather than accumulated. */
    fl_tf_backward(&m, &a, dlogits);
    for (int v = 0; v < m.blob.nviews; v++) {
        const fl_view *vw = &m.blob.views[v];
        char name[FL_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", vw->name);
        const float *want = ref_tensor(prefix, name, (int64_t)vw->numel);
        float *got = fl_blob_grad(&m.blob, v);
        for (size_t i = 0; i < vw->numel; i++) got[i] *= 0.5f;
        assert_all_close(got, want, vw->numel, "twice accumulated gradient / 2");
    }
    free(probs), free(logp), free(dlogits), free(tok), free(y);
    fl_tf_acts_free(&a);
    fl_tf_free(&m);
}

static void test_prenorm_gelu_all_positions(void **state) {
    (void)state;
    check_case("a.");
}

static void test_no_norm_relu_last_position(void **state) {
    (void)state;
    check_case("b.");
}

/* Block 0 fed its embeddings directly (the integrated-gradients path, one
 * row per sequence) computes what the (token, position) tables do. */
static void check_embeds_path(const char *prefix) {
    fl_transformer m;
    load_case(prefix, &m);
    int *tok, *y;
    const int B = load_batch(prefix, &m, &tok, &y), T = m.cfg.ctx, d = m.cfg.d_model;
    const int N = B * fl_tf_out_positions(&m), V = m.cfg.n_out;
    float *emb = malloc(sizeof(float) * B * T * d);
    fl_embedding_forward(emb, tok, fl_blob_param(&m.blob, m.wte), fl_blob_param(&m.blob, m.wpe), B, T, d);
    fl_tf_acts a;
    assert_int_equal(fl_tf_acts_alloc(&a, &m, B), 0);
    a.embeds = emb;
    const float *logits = fl_tf_forward(&m, &a, tok, B);
    assert_all_close(logits, ref_tensor(prefix, "logits", (int64_t)N * V), (size_t)N * V, "logits from embeddings");
    float *probs = malloc(sizeof(float) * N * V), *dlogits = calloc((size_t)N * V, sizeof(float));
    fl_softmax_forward(probs, logits, N, V);
    fl_crossentropy_backward(dlogits, probs, y, N, V, 1.0f / N);
    fl_blob_zero_grads(&m.blob);
    fl_tf_backward(&m, &a, dlogits);
    check_param_grads(&m, prefix, 0); /* the path stops at the embeddings */
    /* blk[0].dx is the gradient of the embeddings: summed per position it
     * is the positional embedding's gradient. */
    const float *want = ref_tensor(prefix, "grad.pos_embed.weight", (int64_t)T * d);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < d; j++) {
            float g = 0;
            for (int b = 0; b < B; b++) g += a.blk[0].dx[((size_t)b * T + t) * d + j];
            assert_all_close(&g, &want[t * d + j], 1, "embedding gradient");
        }
    free(tok), free(y), free(emb), free(probs), free(dlogits);
    fl_tf_acts_free(&a), fl_tf_free(&m);
}

static void test_embeds_path(void **state) {
    (void)state;
    check_embeds_path("a.");
    check_embeds_path("b.");
}

static void test_names_and_spec(void **state) {
    (void)state;
    fl_tf_config c = {.vocab = 114, .n_out = 113, .ctx = 3, .n_layers = 1, .d_model = 128, .n_heads = 4,
                      .d_mlp = 512, .act = FL_TF_RELU, .layernorm = 0, .loss_last = 1};
    fl_transformer m;
    assert_int_equal(fl_tf_create(&m, &c), 0);
    assert_string_equal(m.blob.views[0].name, "embed.weight");
    assert_string_equal(m.blob.views[m.blk[0].q_w].name, "blocks.0.attn.q.weight");
    assert_string_equal(m.blob.views[m.blk[0].in_w].name, "blocks.0.mlp.fc_in.weight");
    assert_int_equal(m.blob.views[m.blk[0].in_w].shape[0], 512);
    assert_int_equal(m.blob.views[m.blk[0].in_w].shape[1], 128);
    assert_int_equal(m.blk[0].ln1_w, -1);
    assert_int_equal(m.blob.n, 114 * 128 + 3 * 128 + 4 * (128 * 128 + 128) + 2 * 128 * 512 + 512 + 128 +
                                   113 * 128 + 113);
    char spec[256];
    fl_tf_config back;
    fl_tf_spec_string(&c, spec, sizeof spec);
    assert_int_equal(fl_tf_parse_spec(spec, &back), 0);
    assert_memory_equal(&back, &c, sizeof c);
    fl_tf_free(&m);
    /* Bad configurations are refused with a reason. */
    c.n_heads = 3;
    assert_int_equal(fl_tf_create(&m, &c), -1);
    assert_non_null(strstr(fl_error_msg(), "divisible"));
    assert_int_equal(fl_tf_parse_spec("ctx=3 layers=1", &back), -1);
}

static void test_checkpoint_roundtrip(void **state) {
    (void)state;
    char *path = tu_scratch("model.safetensors");
    fl_transformer m, back;
    fl_mlp mlp;
    load_case("a.", &m);
    assert_int_equal(fl_tf_save(path, &m, "{\"seed\": 1}"), 0);
    char *cfg = NULL;
    assert_int_equal(fl_tf_load(tu_dir, &back, &cfg), 0);
    assert_string_equal(cfg, "{\"seed\": 1}");
    assert_memory_equal(&back.cfg, &m.cfg, sizeof m.cfg);
    assert_int_equal(back.blob.n, m.blob.n);
    assert_memory_equal(back.blob.params, m.blob.params, m.blob.n * sizeof(float));
    /* A transformer is not an MLP, and the error says so. */
    assert_int_equal(fl_mlp_load(path, &mlp, NULL), -1);
    assert_non_null(strstr(fl_error_msg(), "arch"));
    free(cfg);
    free(path);
    fl_tf_free(&m);
    fl_tf_free(&back);
}

TU_MAIN_WITH(ref_setup, ref_teardown,
             cmocka_unit_test(test_prenorm_gelu_all_positions), cmocka_unit_test(test_no_norm_relu_last_position),
             cmocka_unit_test(test_embeds_path), cmocka_unit_test(test_names_and_spec),
             TU_SCRATCH_TEST(test_checkpoint_roundtrip))
