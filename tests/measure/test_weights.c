/* test_weights.c: weight-change predictors: L1 on hand values, the Fisher
 * shortcut against explicit per-example gradients, spectral norm and rank on
 * matrices of known singular values. */
#include "testutil.h"

#include "forgetlab/nn/layers.h"
#include "forgetlab/measure/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two models of the given spec with the same random weights (free_models
 * frees them). */
static void two_models(fl_mlp *a, fl_mlp *b, const char *spec, uint64_t seed) {
    fl_rng r;
    fl_rng_init(&r, seed, 0);
    assert_int_equal(fl_mlp_create_from_spec(a, spec), 0);
    assert_int_equal(fl_mlp_create_from_spec(b, spec), 0);
    fl_mlp_init(a, &r);
    memcpy(b->blob.params, a->blob.params, a->blob.n * sizeof(float));
}

/* n standard-normal inputs from (seed, stream 0). */
static void normal_inputs(float *x, int n, uint64_t seed) {
    fl_rng r;
    fl_rng_init(&r, seed, 0);
    for (int i = 0; i < n; i++) x[i] = (float)fl_rng_normal(&r);
}

static void free_models(fl_mlp *a, fl_mlp *b) {
    fl_mlp_free(a);
    fl_mlp_free(b);
}

static void test_l1_and_fisher_l2(void **state) {
    (void)state;
    fl_mlp a, b;
    two_models(&a, &b, "3-2-2", 1);
    b.blob.params[0] += 0.5f;
    b.blob.params[7] -= 0.25f;
    assert_float_equal(fl_weight_l1(&a, &b), 0.75, 1e-6);
    float *F = calloc(a.blob.n, sizeof(float));
    F[0] = 2.0f;
    F[7] = 4.0f;
    F[1] = 100.0f; /* no change there: no contribution */
    assert_float_equal(fl_weight_fisher_l2(F, &a, &b), 2 * 0.25 + 4 * 0.0625, 1e-6);
    free(F);
    free_models(&a, &b);
}

/* The (dz^2)(h^2)^T shortcut equals the mean of squared per-example
 * gradients computed one example at a time, for the same sampled labels. */
static void test_fisher_matches_per_example(void **state) {
    (void)state;
    fl_mlp m, one;
    two_models(&m, &one, "6-5-4-3", 2);
    enum { N = 7, S = 2 };
    float x[N * 6];
    normal_inputs(x, N * 6, 3);
    fl_rng r;
    float *F = malloc(m.blob.n * sizeof(float)), *ref = calloc(m.blob.n, sizeof(float));
    fl_rng_init(&r, 9, 0);
    assert_int_equal(fl_fisher_diag(F, &m, x, N, S, &r), 0);

    /* Reference: labels drawn in the same order (sample-major over the batch). */
    fl_rng_init(&r, 9, 0);
    fl_mlp_acts acts;
    assert_int_equal(fl_mlp_acts_alloc(&acts, &one, N), 0);
    float probs[N * 3], dz[3];
    fl_softmax_forward(probs, fl_mlp_forward(&one, &acts, x, N), N, 3);
    int y[S][N];
    for (int s = 0; s < S; s++)
        for (int i = 0; i < N; i++) y[s][i] = fl_rng_categorical(&r, probs + i * 3, 3);
    for (int s = 0; s < S; s++)
        for (int i = 0; i < N; i++) {
            fl_softmax_forward(probs, fl_mlp_forward(&one, &acts, x + i * 6, 1), 1, 3);
            for (int v = 0; v < 3; v++) dz[v] = probs[v] - (v == y[s][i]);
            fl_blob_zero_grads(&one.blob);
            fl_mlp_backward(&one, &acts, dz, NULL, 1);
            for (size_t k = 0; k < one.blob.n; k++) ref[k] += one.blob.grads[k] * one.blob.grads[k] / (N * S);
        }
    for (size_t k = 0; k < m.blob.n; k++)
        if (fabsf(F[k] - ref[k]) > 1e-5f * fmaxf(1.0f, ref[k])) fail_msg("fisher[%zu] %g, want %g", k, F[k], ref[k]);
    fl_mlp_acts_free(&acts);
    free(F), free(ref);
    free_models(&m, &one);
}

/* log p(y|x) of one example under the softmax over outputs [first,
 * first + count), in double from the float logits. */
static double log_prob(fl_mlp *m, fl_mlp_acts *a, const float *x, int y, int first, int count) {
    const float *z = fl_mlp_forward(m, a, x, 1);
    double mx = z[first], s = 0;
    for (int v = first + 1; v < first + count; v++) mx = fmax(mx, z[v]);
    for (int v = first; v < first + count; v++) s += exp(z[v] - mx);
    return z[y] - mx - log(s);
}

/* The exact Fisher (samples 0: every class, weighted by its probability)
 * against finite differences of log p(y|x) in each parameter:
 * F_k = 1/N sum_x sum_y p(y|x) (d log p(y|x) / d theta_k)^2; over all
 * three outputs, and for a head of outputs 1-2 with output 0 masked
 * (fl_fisher_diag_head: the parameters of output 0 get none). */
static void fisher_fd(int first, int count) {
    fl_mlp m, one;
    two_models(&m, &one, "5-4-3", 4);
    enum { N = 3, V = 3 };
    float x[N * 5];
    normal_inputs(x, N * 5, 5);
    float *F = malloc(m.blob.n * sizeof(float));
    if (count == V) assert_int_equal(fl_fisher_diag(F, &m, x, N, 0, NULL), 0);
    else assert_int_equal(fl_fisher_diag_head(F, &m, x, N, first, count), 0);
    fl_mlp_acts a;
    assert_int_equal(fl_mlp_acts_alloc(&a, &one, 1), 0);
    const float eps = 1e-3f;
    for (size_t k = 0; k < one.blob.n; k++) {
        double want = 0;
        for (int i = 0; i < N; i++)
            for (int y = first; y < first + count; y++) {
                const float keep = one.blob.params[k];
                const double p = exp(log_prob(&one, &a, x + i * 5, y, first, count));
                one.blob.params[k] = keep + eps;
                const double up = log_prob(&one, &a, x + i * 5, y, first, count);
                one.blob.params[k] = keep - eps;
                const double down = log_prob(&one, &a, x + i * 5, y, first, count);
                one.blob.params[k] = keep;
                const double g = (up - down) / (2.0 * eps);
                want += p * g * g / N;
            }
        if (fabs(F[k] - want) > 2e-2 * fabs(want) + 1e-5) fail_msg("exact fisher[%zu] %g, want %g", k, F[k], want);
    }
    fl_mlp_acts_free(&a);
    free(F);
    free_models(&m, &one);
}

static void test_fisher_exact_fd(void **state) {
    (void)state;
    fisher_fd(0, 3);
    fisher_fd(1, 2);
    const fl_mlp shape = {.nlayers = 1, .dims = {5, 3}};
    float F[1];
    assert_int_equal(fl_fisher_diag_head(F, &shape, NULL, 0, 2, 2), -1); /* outputs 2-3 of 3 */
}

/* delta W of layer 0 = u v^T: spectral norm |u||v|, rank 1; layer 1 moved by
 * a random full matrix: full rank; unchanged layers: 0 and rank 0. */
static void test_spectral_and_rank(void **state) {
    (void)state;
    fl_mlp a, b;
    two_models(&a, &b, "8-6-5-4", 4);
    float u[6] = {1, -2, 0.5f, 0, 3, 1}, v[8] = {0.5f, 1, -1, 2, 0, 0.25f, 1, -0.5f};
    float *w0 = b.blob.params + b.blob.views[b.w_view[0]].offset;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++) w0[i * 8 + j] += u[i] * v[j];
    fl_rng r;
    fl_rng_init(&r, 5, 0);
    float *w1 = b.blob.params + b.blob.views[b.w_view[1]].offset;
    for (int i = 0; i < 5 * 6; i++) w1[i] += 0.1f * (float)fl_rng_normal(&r);
    double per[3];
    fl_weight_spectral(&a, &b, 100, &r, per);
    double nu = 0, nv = 0;
    for (int i = 0; i < 6; i++) nu += u[i] * u[i];
    for (int j = 0; j < 8; j++) nv += v[j] * v[j];
    assert_float_equal(per[0], sqrt(nu * nv), 1e-4 * sqrt(nu * nv));
    assert_true(per[1] > 0);
    assert_float_equal(per[2], 0.0, 0);
    int rank[3];
    assert_int_equal(fl_weight_ranks(&a, &b, rank), 0);
    assert_int_equal(rank[0], 1);
    assert_int_equal(rank[1], 5);
    assert_int_equal(rank[2], 0);
    free_models(&a, &b);
}

TU_MAIN(cmocka_unit_test(test_l1_and_fisher_l2), cmocka_unit_test(test_fisher_matches_per_example),
        cmocka_unit_test(test_fisher_exact_fd),
        cmocka_unit_test(test_spectral_and_rank))
