/* test_attribution_gpt.c: the language model's AP-IG node scores
 * (attribution_gpt.h) on a small random model: "embed" scores KL(clean ||
 * corrupted output) (completeness of the path integral), every layer's
 * heads sum to its attention node and its neurons to its MLP node, and a
 * prompt against itself scores zero everywhere. */
#include "testutil.h"

#include "forgetlab/measure/attribution_gpt.h"

#include <math.h>
#include <stdlib.h>

enum { N = 3, T = 6, M = 40 };

static void random_model(fl_gpt *m) {
    const fl_gpt_config c = {19, 10, 2, 16, 4};
    assert_int_equal(fl_gpt_create(m, &c), 0);
    fl_rng rng;
    fl_rng_init(&rng, 5, FL_STREAM_INIT);
    for (size_t i = 0; i < m->blob.n; i++) m->blob.params[i] = (float)(0.6 * fl_rng_normal(&rng));
}

/* KL(softmax(clean) || softmax(corrupt)) at each prompt's last position. */
static double last_kl(fl_gpt *m, const int *tok, const int *tokc, int b) {
    fl_gpt_acts a;
    const int V = m->cfg.vocab;
    double lp[2][32];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(fl_gpt_acts_alloc(&a, m, 1, T), 0);
        fl_gpt_forward(m, &a, (k ? tokc : tok) + b * T, NULL, NULL, 1, T);
        const float *z = a.logits + (size_t)(T - 1) * V;
        double mx = z[0], s = 0;
        for (int v = 1; v < V; v++) mx = fmax(mx, z[v]);
        for (int v = 0; v < V; v++) s += exp(z[v] - mx);
        for (int v = 0; v < V; v++) lp[k][v] = z[v] - mx - log(s);
        fl_gpt_acts_free(&a);
    }
    double kl = 0;
    for (int v = 0; v < V; v++) kl += exp(lp[0][v]) * (lp[0][v] - lp[1][v]);
    return kl;
}

static void test_scores(void **state) {
    (void)state;
    fl_gpt m;
    random_model(&m);
    const int nc = fl_ap_gpt_ncomponents(&m), NH = 4, C = 16, per = NH + 2 + 4 * C;
    assert_int_equal(nc, 1 + 2 * per);
    char name[64];
    fl_ap_gpt_component_name(&m, 0, name, sizeof name);
    assert_string_equal(name, "embed");
    fl_ap_gpt_component_name(&m, 1 + per + NH + 1, name, sizeof name);
    assert_string_equal(name, "h.1.mlp");
    fl_ap_gpt_component_name(&m, nc - 1, name, sizeof name);
    assert_string_equal(name, "h.1.mlp.neuron.63");
    int tok[N * T], tokc[N * T];
    fl_rng rng;
    fl_rng_init(&rng, 7, FL_STREAM_DATA);
    for (int i = 0; i < N * T; i++) tok[i] = (int)fl_rng_below(&rng, 19), tokc[i] = (int)fl_rng_below(&rng, 19);
    float *s = malloc(sizeof(float) * (size_t)N * nc);
    assert_int_equal(fl_ap_gpt_scores(&m, tok, tokc, N, T, M, s), 0);
    for (int b = 0; b < N; b++) {
        const float *sb = s + (size_t)b * nc;
        const double kl = last_kl(&m, tok, tokc, b);
        print_message("prompt %d: KL %.6f, embed score %.6f\n", b, kl, sb[0]);
        assert_true(kl > 1e-3);
        assert_true(fabs(sb[0] - kl) < 2e-3 * kl + 1e-5);
        for (int l = 0; l < 2; l++) {
            const float *q = sb + 1 + l * per;
            double heads = 0, neurons = 0;
            for (int h = 0; h < NH; h++) heads += q[h];
            for (int j = 0; j < 4 * C; j++) neurons += q[NH + 2 + j];
            assert_true(fabs(heads - q[NH]) < 1e-4 * fmax(1, fabs(q[NH])) + 1e-6);
            assert_true(fabs(neurons - q[NH + 1]) < 1e-4 * fmax(1, fabs(q[NH + 1])) + 1e-6);
        }
    }
    /* Against itself: no path, no score. */
    assert_int_equal(fl_ap_gpt_scores(&m, tok, tok, N, T, 3, s), 0);
    for (int i = 0; i < N * nc; i++) assert_true(s[i] == 0);
    /* The gradient slab is left zeroed. */
    for (size_t i = 0; i < m.blob.n; i++) assert_true(m.blob.grads[i] == 0);
    free(s);
    fl_gpt_free(&m);
}

TU_MAIN(cmocka_unit_test(test_scores))
