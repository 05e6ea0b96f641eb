/* test_attribution.c: attribution patching against real activation
 * patching (first order for a small corruption, exact where the loss is
 * linear in the unit), ablation scores on a hand-built MLP checked by hand,
 * and the circuit-stability statistics on hand-made vectors (NumPy values
 * noted beside them). */
#include "testutil.h"

#include "forgetlab/measure/attribution.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A random model and n random inputs, with targets cycling over the classes. */
static void setup_model(fl_mlp *m, const char *spec, uint64_t seed) {
    assert_int_equal(fl_mlp_create_from_spec(m, spec), 0);
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_INIT);
    fl_mlp_init(m, &r);
    /* Positive biases keep most units active, so the ReLUs see both sides
     * only rarely and the first-order check tests AP, not the kinks. */
    for (int l = 0; l < m->nlayers; l++) {
        float *b = fl_blob_param(&m->blob, m->b_view[l]);
        for (int j = 0; j < m->dims[l + 1]; j++) b[j] += 0.3f;
    }
}

static void fill_normal(float *x, int n, uint64_t seed) {
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_DATA);
    for (int i = 0; i < n; i++) x[i] = (float)fl_rng_normal(&r);
}

/* Scores of all units and layers for x' = x + eps*d, against the loss change
 * from patching each unit (and each whole layer) from x' into the clean run;
 * returns ||score - actual|| / ||actual|| over every (example, component). */
static double ap_error(const fl_mlp *m, fl_ap_loss loss, const float *x, const float *d,
                       const int *target, int n, double eps) {
    int in = m->dims[0], nc = fl_ap_ncomponents(m), nu = fl_ap_nunits(m);
    float *xc = malloc(sizeof(float) * n * in), *s = malloc(sizeof(float) * n * nc);
    float *clean = malloc(sizeof(float) * n), *pl = malloc(sizeof(float) * n);
    float *val = malloc(sizeof(float) * n * 64);
    for (int i = 0; i < n * in; i++) xc[i] = x[i] + (float)eps * d[i];
    fl_ap_opts o = {.loss = loss, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    assert_int_equal(fl_ap_scores(m, &o, x, xc, target, n, s), 0);
    assert_int_equal(fl_patch_unit_loss(m, loss, 0, x, target, NULL, n, -1, 0, NULL, clean), 0);
    fl_mlp_acts a;
    assert_int_equal(fl_mlp_acts_alloc(&a, m, n), 0);
    fl_mlp_forward(m, &a, xc, n);
    double num = 0, den = 0;
    for (int l = 0, off = 0; l < m->nlayers - 1; off += m->dims[l + 1], l++) {
        int w = m->dims[l + 1];
        assert_true(w <= 64);
        for (int j = 0; j < w; j++) {
            for (int b = 0; b < n; b++) val[b] = a.post[l][b * w + j];
            assert_int_equal(fl_patch_unit_loss(m, loss, 0, x, target, NULL, n, l, j, val, pl), 0);
            for (int b = 0; b < n; b++) {
                double act = (double)pl[b] - clean[b], e = s[b * nc + off + j] - act;
                num += e * e;
                den += act * act;
            }
        }
        assert_int_equal(fl_patch_unit_loss(m, loss, 0, x, target, NULL, n, l, -1, a.post[l], pl), 0);
        for (int b = 0; b < n; b++) {
            double act = (double)pl[b] - clean[b], e = s[b * nc + nu + l] - act;
            num += e * e;
            den += act * act;
        }
    }
    fl_mlp_acts_free(&a);
    free(xc), free(s), free(clean), free(pl), free(val);
    return sqrt(num / den);
}

static void test_first_order(void **state) {
    (void)state;
    enum { N = 8, IN = 12 };
    fl_mlp m;
    setup_model(&m, "12-16-10-4", 7);
    float x[N * IN], d[N * IN];
    int target[N];
    fill_normal(x, N * IN, 1);
    fill_normal(d, N * IN, 2);
    for (int b = 0; b < N; b++) target[b] = b % 4;
    for (int li = 0; li < 2; li++) {
        fl_ap_loss loss = li ? FL_AP_LOSS_LOGIT_DIFF : FL_AP_LOSS_CE;
        double e1 = ap_error(&m, loss, x, d, target, N, 0.1);
        double e2 = ap_error(&m, loss, x, d, target, N, 0.01);
        print_message("# %s: relative error %.3g at eps 0.1, %.3g at eps 0.01\n",
                      fl_ap_loss_name(loss), e1, e2);
        /* First order: the error of the estimate is O(eps^2) while the
         * change is O(eps), so the relative error falls about tenfold. */
        assert_true(e1 < 0.2);
        assert_true(e2 < 0.25 * e1 || e2 < 1e-4);
    }
    fl_mlp_free(&m);
}

/* Logit difference with two classes is linear in each unit of the last
 * hidden layer (and in the layer as a whole): the score is the exact
 * change, however large the corruption. */
static void test_exact_when_linear(void **state) {
    (void)state;
    enum { N = 6, IN = 5 };
    fl_mlp m;
    setup_model(&m, "5-7-6-2", 11);
    float x[N * IN], xc[N * IN], s[N * 15], clean[N], pl[N], val[N];
    int target[N];
    fill_normal(x, N * IN, 3);
    fill_normal(xc, N * IN, 4);
    for (int b = 0; b < N; b++) target[b] = b % 2;
    assert_int_equal(fl_ap_ncomponents(&m), 15);
    fl_ap_opts o = {.loss = FL_AP_LOSS_LOGIT_DIFF, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    assert_int_equal(fl_ap_scores(&m, &o, x, xc, target, N, s), 0);
    assert_int_equal(fl_patch_unit_loss(&m, o.loss, 0, x, target, NULL, N, -1, 0, NULL, clean), 0);
    fl_mlp_acts a;
    assert_int_equal(fl_mlp_acts_alloc(&a, &m, N), 0);
    fl_mlp_forward(&m, &a, xc, N);
    for (int j = 0; j < 6; j++) {
        for (int b = 0; b < N; b++) val[b] = a.post[1][b * 6 + j];
        assert_int_equal(fl_patch_unit_loss(&m, o.loss, 0, x, target, NULL, N, 1, j, val, pl), 0);
        for (int b = 0; b < N; b++) assert_float_equal(s[b * 15 + 7 + j], pl[b] - clean[b], 1e-5);
    }
    assert_int_equal(fl_patch_unit_loss(&m, o.loss, 0, x, target, NULL, N, 1, -1, a.post[1], pl), 0);
    for (int b = 0; b < N; b++) assert_float_equal(s[b * 15 + 14], pl[b] - clean[b], 1e-5);
    fl_mlp_acts_free(&a);
    char name[64];
    fl_ap_component_name(&m, 0, name, sizeof name);
    assert_string_equal(name, "layers.0.unit.0");
    fl_ap_component_name(&m, 12, name, sizeof name);
    assert_string_equal(name, "layers.1.unit.5");
    fl_ap_component_name(&m, 14, name, sizeof name);
    assert_string_equal(name, "layers.1");
    fl_mlp_free(&m);
}

/* 2-2-2: a = relu(x), z = [[1,2],[3,-1]] a. For x = (1, 2): a = (1, 2),
 * z = (5, 1), target 0. Logit-diff loss L = z1 - z0 = -4, dL/da = W1^T
 * (-1, 1) = (2, -3). Zero ablation: (0 - a) * g = (-2, 6) (zeroing unit 0
 * gives z = (4, -2), L = -6: change -2; unit 1 gives z = (1, 3), L = 2:
 * change 6), layer 4. Mean over {(1,2), (3,0)} is (2, 1): (1*2, -1*-3) =
 * (2, 3), layer 5. CE: dL/dz = (-p1, p1), p1 = 1/(1+e^4), dL/da = (2p1, -3p1),
 * zero ablation (-2p1, 6p1). */
static void test_ablation_by_hand(void **state) {
    (void)state;
    fl_mlp m;
    assert_int_equal(fl_mlp_create_from_spec(&m, "2-2-2"), 0);
    float *w0 = fl_blob_param(&m.blob, m.w_view[0]), *w1 = fl_blob_param(&m.blob, m.w_view[1]);
    w0[0] = 1, w0[3] = 1;
    w1[0] = 1, w1[1] = 2, w1[2] = 3, w1[3] = -1;
    float x[2] = {1, 2}, ref[4] = {1, 2, 3, 0}, mean[2], s[3];
    int target[1] = {0};
    fl_ap_opts o = {.loss = FL_AP_LOSS_LOGIT_DIFF, .corrupt = FL_AP_CORRUPT_ZERO};
    assert_int_equal(fl_ap_scores(&m, &o, x, NULL, target, 1, s), 0);
    assert_float_equal(s[0], -2, 1e-6);
    assert_float_equal(s[1], 6, 1e-6);
    assert_float_equal(s[2], 4, 1e-6);
    assert_int_equal(fl_ap_mean_acts(&m, ref, 2, mean), 0);
    assert_float_equal(mean[0], 2, 1e-6);
    assert_float_equal(mean[1], 1, 1e-6);
    o.corrupt = FL_AP_CORRUPT_MEAN;
    assert_int_equal(fl_ap_scores(&m, &o, x, NULL, target, 1, s), -1); /* no means given */
    o.mean_acts = mean;
    assert_int_equal(fl_ap_scores(&m, &o, x, NULL, target, 1, s), 0);
    assert_float_equal(s[0], 2, 1e-6);
    assert_float_equal(s[1], 3, 1e-6);
    assert_float_equal(s[2], 5, 1e-6);
    o = (fl_ap_opts){.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_ZERO};
    assert_int_equal(fl_ap_scores(&m, &o, x, NULL, target, 1, s), 0);
    double p1 = 1 / (1 + exp(4.0));
    assert_float_equal(s[0], -2 * p1, 1e-6);
    assert_float_equal(s[1], 6 * p1, 1e-6);
    o.corrupt = FL_AP_CORRUPT_COUNTERFACTUAL;
    assert_int_equal(fl_ap_scores(&m, &o, x, NULL, target, 1, s), -1); /* no x' given */
    fl_mlp_free(&m);
}

static void test_targets(void **state) {
    (void)state;
    float z[2 * 10] = {0};
    z[3] = 5;      /* example 0: predicts 3, true digit 7: right parity, keep 3 */
    z[10 + 4] = 5; /* example 1: predicts 4, true digit 7: wrong, use 7 */
    int label[2] = {7, 7}, t[2];
    fl_ap_targets(FL_TASK_PARITY, z, label, 2, t);
    assert_int_equal(t[0], 3);
    assert_int_equal(t[1], 7);
    fl_ap_targets(FL_TASK_FASHION, z, label, 2, t);
    assert_int_equal(t[0], 7);
    /* Parity logit-diff: the best wrong logit is of the other parity only. */
    float zz[10] = {0, 0, 0, 9, 0, 8, 0, 0, 4, 0}, l, dz[10];
    int t3 = 3;
    fl_ap_loss_eval(FL_AP_LOSS_LOGIT_DIFF, 1, zz, &t3, NULL, 1, 10, &l, dz);
    assert_float_equal(l, 4 - 9, 1e-6);
    assert_float_equal(dz[8], 1, 0);
    assert_float_equal(dz[5], 0, 0);
    fl_ap_loss_eval(FL_AP_LOSS_LOGIT_DIFF, 0, zz, &t3, NULL, 1, 10, &l, dz);
    assert_float_equal(l, 8 - 9, 1e-6);
}

static void test_cs(void **state) {
    (void)state;
    float v[6 * 5] = {1, 2, 3, 4, 5, 2, 4, 6, 8, 10, 5, 4, 3, 2, 1,
                      1, 1, 2, 2, 3, 3, 1, 2, 5, 4, 7, 7, 7, 7, 7};
    double rho[36];
    int cls[6];
    fl_cs_matrix(v, 5, 5, rho);
    /* numpy.corrcoef of the average ranks */
    double want[5] = {1, 1, -1, 0.9486833, 0.6};
    for (int j = 0; j < 5; j++) assert_float_equal(rho[j], want[j], 1e-6);
    assert_float_equal(rho[3 * 5 + 4], 0.5797509, 1e-6);
    assert_float_equal(rho[4 * 5 + 3], 0.5797509, 1e-6);
    assert_float_equal(fl_cs_mean(rho, 5), 0.11284342024147165, 1e-9);
    assert_int_equal(fl_cs_classes(rho, 5, 0.5, cls), 2);
    int c05[5] = {0, 0, 1, 0, 0};
    for (int i = 0; i < 5; i++) assert_int_equal(cls[i], c05[i]);
    assert_int_equal(fl_cs_classes(rho, 5, 0.95, cls), 4);
    int c95[5] = {0, 0, 1, 2, 3};
    for (int i = 0; i < 5; i++) assert_int_equal(cls[i], c95[i]);
    /* A constant vector: NaN correlations, left out of the mean, no edges. */
    fl_cs_matrix(v, 6, 5, rho);
    assert_true(isnan(rho[5 * 6 + 0]) && isnan(rho[5 * 6 + 5]));
    assert_int_equal(fl_cs_classes(rho, 6, 0.5, cls), 3);
    assert_int_equal(cls[5], 2);
    assert_float_equal(fl_cs_mean(rho, 6), 0.11284342024147165, 1e-9);
    double one = 1;
    assert_true(isnan(fl_cs_mean(&one, 1)));
}

TU_MAIN(cmocka_unit_test(test_first_order), cmocka_unit_test(test_exact_when_linear),
        cmocka_unit_test(test_ablation_by_hand), cmocka_unit_test(test_targets), cmocka_unit_test(test_cs))
