/* test_gpt.c: the byte-level language model against PyTorch: a GPT in
 * nanoGPT's layout (gpt_fixture.safetensors, made by make_gpt_fixture.py
 * in this folder, float64), its weights loaded here by their nanoGPT
 * names. The logits, the masked mean cross-entropy and the gradient of
 * every parameter (the tied embedding's included) must match within 1e-4
 * relative. Also: a mask of zeros scores nothing, the initialisation
 * follows GPT-2, and bad configurations are refused; the key/value cache
 * gives the full pass' logits at every position, and sampling (greedy,
 * seeded, top-k, a stop token) returns the model's own log-probabilities. */
#include "testutil.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE "gpt_fixture.safetensors"
#include "torchref.h"
static int meta(const char *key) {
    const char *v = fl_safetensors_meta(&g_st, key);
    if (!v) fail_msg("fixture has no metadata '%s'", key);
    return atoi(v);
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
        memcpy(fl_blob_param(&m.blob, v), ref_tensor("", w->name, (int64_t)w->numel), w->numel * sizeof(float));
    }
    int *tok = malloc(sizeof(int) * N), *tgt = malloc(sizeof(int) * N);
    const float *ft = ref_tensor("", "tok", N), *fy = ref_tensor("", "targets", N), *mask = ref_tensor("", "mask", N);
    for (int i = 0; i < N; i++) tok[i] = (int)ft[i], tgt[i] = (int)fy[i];
    fl_gpt_acts a;
    assert_int_equal(fl_gpt_acts_alloc(&a, &m, B, c.ctx), 0); /* room for the whole context, used in part */
    const float loss = fl_gpt_forward(&m, &a, tok, tgt, mask, B, T);
    assert_all_close(a.logits, ref_tensor("", "logits", (int64_t)N * c.vocab), (size_t)N * c.vocab, "logits");
    assert_all_close(&loss, ref_tensor("", "loss", 1), 1, "loss");
    fl_blob_zero_grads(&m.blob);
    fl_gpt_backward(&m, &a);
    for (int v = 0; v < m.blob.nviews; v++) {
        const fl_view *w = &m.blob.views[v];
        char name[FL_NAME_MAX + 8];
        snprintf(name, sizeof name, "grad.%s", w->name);
        assert_all_close(fl_blob_grad(&m.blob, v), ref_tensor("", name, (int64_t)w->numel), w->numel, name);
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

/* A small random model with weights large enough to make every logit
 * depend on the context. */
static void random_model(fl_gpt *m, int ctx) {
    const fl_gpt_config c = {19, ctx, 2, 16, 4};
    assert_int_equal(fl_gpt_create(m, &c), 0);
    fl_rng rng;
    fl_rng_init(&rng, 5, FL_STREAM_INIT);
    for (size_t i = 0; i < m->blob.n; i++) m->blob.params[i] = (float)(0.3 * fl_rng_normal(&rng));
}

/* The logits of the full forward pass over seq[0..n), at every position. */
static float *full_logits(const fl_gpt *m, const int *seq, int n) {
    fl_gpt_acts a;
    assert_int_equal(fl_gpt_acts_alloc(&a, m, 1, n), 0);
    fl_gpt_forward(m, &a, seq, NULL, NULL, 1, n);
    float *z = malloc(sizeof(float) * (size_t)n * m->cfg.vocab);
    memcpy(z, a.logits, sizeof(float) * (size_t)n * m->cfg.vocab);
    fl_gpt_acts_free(&a);
    return z;
}

/* Three sequences of different lengths, fed a token a step through the
 * cache (the shorter ones inactive once done): at every position the
 * logits equal the full pass'. */
static void test_cache_equals_full(void **state) {
    (void)state;
    fl_gpt m;
    random_model(&m, 10);
    const int V = m.cfg.vocab, n[3] = {10, 4, 7};
    int seq[3][10];
    fl_rng rng;
    fl_rng_init(&rng, 9, FL_STREAM_DATA);
    for (int b = 0; b < 3; b++)
        for (int t = 0; t < 10; t++) seq[b][t] = (int)fl_rng_below(&rng, (uint32_t)V);
    float *want[3];
    for (int b = 0; b < 3; b++) want[b] = full_logits(&m, seq[b], n[b]);
    fl_gpt_cache c;
    assert_int_equal(fl_gpt_cache_alloc(&c, &m, 3), 0);
    for (int t = 0; t < 10; t++) {
        int tok[3];
        unsigned char active[3];
        for (int b = 0; b < 3; b++) active[b] = t < n[b], tok[b] = active[b] ? seq[b][t] : 0;
        assert_int_equal(fl_gpt_step(&m, &c, tok, active), 0);
        for (int b = 0; b < 3; b++) {
            /* A row that did not advance keeps its last position's logits. */
            const int at = t < n[b] ? t : n[b] - 1;
            assert_all_close(c.logits + (size_t)b * V, want[b] + (size_t)at * V, (size_t)V, "cached logits");
        }
    }
    /* Full sequences cannot take another token. */
    const int one[3] = {1, 1, 1};
    assert_int_equal(fl_gpt_step(&m, &c, one, NULL), -1);
    for (int b = 0; b < 3; b++) free(want[b]);
    fl_gpt_cache_free(&c);
    fl_gpt_free(&m);
}

static void test_sample(void **state) {
    (void)state;
    fl_gpt m;
    random_model(&m, 16);
    const int V = m.cfg.vocab, K = 6;
    const int p0[3] = {3, 1, 4}, p1[2] = {5, 2};
    const int *prompts[2] = {p0, p1};
    int plen[2] = {3, 1};
    fl_gpt_cache c;
    assert_int_equal(fl_gpt_cache_alloc(&c, &m, 2), 0);
    int out[2 * K], len[2], out2[2 * K], len2[2];
    float lp[2 * K];
    /* Greedy: each token the argmax of the full pass over what came before;
     * with prompts of 3 and 1 tokens (the cache filled step by step), then 3
     * and 2 (the common 2 in one forward pass first). */
    fl_sample_opts greedy = {0.0, 0, K, -1, 1};
    for (int round = 0; round < 2; round++, plen[1] = 2) {
        assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &greedy, out, len, lp), 0);
        for (int b = 0; b < 2; b++) {
            assert_int_equal(len[b], K);
            int seq[16];
            memcpy(seq, prompts[b], sizeof(int) * plen[b]);
            for (int t = 0; t < K; t++) {
                float *z = full_logits(&m, seq, plen[b] + t);
                const float *last = z + (size_t)(plen[b] + t - 1) * V;
                int best = 0;
                double mx = last[0], s = 0;
                for (int j = 1; j < V; j++)
                    best = last[j] > last[best] ? j : best, mx = last[j] > mx ? last[j] : mx;
                for (int j = 0; j < V; j++)
                    s += exp(last[j] - mx);
                assert_int_equal(out[b * K + t], best);
                /* Its log-probability under the model itself. */
                assert_float_equal(lp[b * K + t], last[best] - mx - log(s), 1e-4);
                seq[plen[b] + t] = best;
                free(z);
            }
        }
    }
    plen[1] = 1;
    /* Sampling: the same seed, the same tokens; another seed, others. */
    fl_sample_opts hot = {1.5, 0, K, -1, 7};
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &hot, out, len, NULL), 0);
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &hot, out2, len2, NULL), 0);
    assert_memory_equal(out, out2, sizeof out);
    int differ = 0;
    for (uint64_t seed = 8; seed < 12 && !differ; seed++) {
        hot.seed = seed;
        assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &hot, out2, len2, NULL), 0);
        differ = memcmp(out, out2, sizeof out) != 0;
    }
    assert_true(differ);
    /* top-k 1 is greedy; a stop token ends a completion and is kept. */
    fl_sample_opts top1 = {1.0, 1, K, -1, 3};
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &top1, out2, len2, NULL), 0);
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &greedy, out, len, NULL), 0);
    assert_memory_equal(out, out2, sizeof out);
    fl_sample_opts stop = greedy;
    stop.stop = out[2];
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &stop, out2, len2, NULL), 0);
    assert_true(len2[0] <= 3 && out2[len2[0] - 1] == stop.stop);
    /* Bad requests. */
    fl_sample_opts bad = greedy;
    bad.temperature = -1;
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &bad, out, len, NULL), -1);
    bad.temperature = NAN;
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &bad, out, len, NULL), -1);
    bad = greedy;
    bad.max_new = 14; /* 3 + 14 > 16 */
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, plen, 2, &bad, out, len, NULL), -1);
    const int empty[2] = {0, 1};
    assert_int_equal(fl_gpt_sample(&m, &c, prompts, empty, 2, &greedy, out, len, NULL), -1);
    fl_gpt_cache_free(&c);
    fl_gpt_free(&m);
}

/* Saved under nanoGPT's names with lm_head.weight beside them, loaded back
 * to the bit; a file whose lm_head is not the embedding is refused. */
static void test_save_load(void **state) {
    (void)state;
    fl_gpt m, back;
    random_model(&m, 12);
    char *path = tu_scratch("model.safetensors");
    assert_int_equal(fl_gpt_save(path, &m, "{\"command\":\"test\"}"), 0);
    char *cfg = NULL;
    assert_int_equal(fl_gpt_load(path, &back, &cfg), 0);
    assert_string_equal(cfg, "{\"command\":\"test\"}");
    assert_int_equal(back.cfg.n_layer, 2);
    assert_memory_equal(back.blob.params, m.blob.params, sizeof(float) * m.blob.n);
    fl_safetensors st;
    assert_int_equal(fl_safetensors_read(path, &st), 0);
    assert_int_equal(st.ntensors, m.blob.nviews + 1);
    const fl_st_tensor *head = fl_safetensors_get(&st, "lm_head.weight");
    assert_non_null(head);
    assert_non_null(fl_safetensors_get(&st, "transformer.h.1.mlp.c_proj.bias"));
    assert_memory_equal(head->data, fl_blob_param(&m.blob, m.wte), sizeof(float) * (size_t)head->numel);
    /* The same tensors with lm_head changed: not a tied model. */
    fl_st_tensor ts[FL_MAX_VIEWS + 1];
    float *copy = malloc(sizeof(float) * (size_t)head->numel);
    memcpy(copy, head->data, sizeof(float) * (size_t)head->numel);
    copy[3] += 1.0f;
    for (int i = 0; i < st.ntensors; i++) {
        ts[i] = st.tensors[i];
        if (!strcmp(ts[i].name, "lm_head.weight")) ts[i].data = copy;
    }
    const char *keys[] = {"format", "arch", "spec", "activation", "version", "config"};
    const char *vals[] = {"forgetlab", "gpt", fl_safetensors_meta(&st, "spec"), "gelu", "x", "{}"};
    char *bad = tu_scratch("untied.safetensors");
    assert_int_equal(fl_safetensors_write(bad, ts, st.ntensors, keys, vals, 6), 0);
    fl_gpt other;
    assert_int_equal(fl_gpt_load(bad, &other, NULL), -1);
    assert_non_null(strstr(fl_error_msg(), "lm_head.weight differs"));
    fl_safetensors_free(&st);
    /* Another architecture's file is refused by name. */
    fl_mlp mlp;
    assert_int_equal(fl_mlp_create(&mlp, 1, (int[]){4, 3}), 0);
    assert_int_equal(fl_mlp_save(bad, &mlp, NULL), 0);
    assert_int_equal(fl_gpt_load(bad, &other, NULL), -1);
    assert_non_null(strstr(fl_error_msg(), "arch 'gpt'"));
    fl_mlp_free(&mlp);
    free(copy), free(cfg), free(path), free(bad);
    fl_gpt_free(&back), fl_gpt_free(&m);
}

TU_MAIN_WITH(ref_setup, ref_teardown,
             cmocka_unit_test(test_against_torch), cmocka_unit_test(test_init_and_config),
             cmocka_unit_test(test_cache_equals_full), cmocka_unit_test(test_sample),
             TU_SCRATCH_TEST(test_save_load))
