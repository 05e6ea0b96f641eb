/* test_activations.c: linear CKA's invariances and a hand-computed value;
 * activation change is zero for identical models and matches a direct
 * computation otherwise. */
#include "testutil.h"

#include "forgetlab/measure/activations.h"

#include <math.h>
#include <string.h>

static void test_cka(void **state) {
    (void)state;
    enum { N = 50, P = 4 };
    fl_rng r;
    fl_rng_init(&r, 1, 0);
    float X[N * P], Y[N * P], Z[N * 2];
    for (int i = 0; i < N * P; i++) X[i] = (float)fl_rng_normal(&r);
    /* An orthogonal transform (swap + sign flip), scaling and shift of X:
     * linear CKA is invariant to all three. */
    for (int i = 0; i < N; i++) {
        Y[i * P + 0] = 3 * X[i * P + 1] + 7;
        Y[i * P + 1] = -3 * X[i * P + 0];
        Y[i * P + 2] = 3 * X[i * P + 3];
        Y[i * P + 3] = 3 * X[i * P + 2] - 1;
    }
    assert_float_equal(fl_linear_cka(X, P, Y, P, N), 1.0, 1e-6);
    assert_float_equal(fl_linear_cka(X, P, X, P, N), 1.0, 1e-6);
    /* Hand value: X = (1,2,3,4)^T, Z = (1,0,0,1)^T, one column each:
     * centred x = (-1.5,-.5,.5,1.5), z = (.5,-.5,-.5,.5); x.z = 0 -> CKA 0.
     * Z2 = (1,2,4,3): z2 = (-1.5,-.5,1.5,.5), x.z2 = 4, |x|^2 = 5, |z2|^2 = 5:
     * CKA = 16 / 25. */
    float x1[4] = {1, 2, 3, 4}, z1[4] = {1, 0, 0, 1}, z2[4] = {1, 2, 4, 3};
    assert_float_equal(fl_linear_cka(x1, 1, z1, 1, 4), 0.0, 1e-9);
    assert_float_equal(fl_linear_cka(x1, 1, z2, 1, 4), 16.0 / 25.0, 1e-7);
    for (int i = 0; i < N * 2; i++) Z[i] = 1.0f; /* constant: defined as 0 */
    assert_float_equal(fl_linear_cka(X, P, Z, 2, N), 0.0, 0);
}

static void test_activation_change(void **state) {
    (void)state;
    fl_mlp a, b;
    fl_rng r;
    fl_rng_init(&r, 2, 0);
    assert_int_equal(fl_mlp_create_from_spec(&a, "5-4-3-2"), 0);
    assert_int_equal(fl_mlp_create_from_spec(&b, "5-4-3-2"), 0);
    fl_mlp_init(&a, &r);
    memcpy(b.blob.params, a.blob.params, a.blob.n * sizeof(float));
    enum { N = 9 };
    float x[N * 5];
    for (int i = 0; i < N * 5; i++) x[i] = (float)fl_rng_normal(&r);
    fl_act_change c;
    assert_int_equal(fl_activation_change(&c, &a, &b, x, N), 0);
    assert_float_equal(c.l1, 0.0, 0);
    assert_float_equal(c.l2, 0.0, 0);
    assert_float_equal(c.cka, 1.0, 1e-6);
    /* Shift layer 1's bias (the second hidden layer) by +1: every unit that
     * was active moves by 1; check against a direct per-input computation. */
    float *b1 = b.blob.params + b.blob.views[b.b_view[1]].offset;
    for (int k = 0; k < 3; k++) b1[k] += 1.0f;
    assert_int_equal(fl_activation_change(&c, &a, &b, x, N), 0);
    fl_mlp_acts aa, ab;
    fl_mlp_acts_alloc(&aa, &a, N);
    fl_mlp_acts_alloc(&ab, &b, N);
    fl_mlp_forward(&a, &aa, x, N);
    fl_mlp_forward(&b, &ab, x, N);
    double l1 = 0, l2 = 0;
    for (int i = 0; i < N; i++) {
        double s1 = 0, s2 = 0;
        for (int k = 0; k < 3; k++) {
            double d = ab.post[1][i * 3 + k] - aa.post[1][i * 3 + k];
            s1 += fabs(d);
            s2 += d * d;
        }
        l1 += s1;
        l2 += sqrt(s2);
    }
    assert_true(l1 > 0);
    assert_float_equal(c.l1, l1 / N, 1e-6);
    assert_float_equal(c.l2, l2 / N, 1e-6);
    fl_mlp_acts_free(&aa);
    fl_mlp_acts_free(&ab);
    fl_mlp_free(&a);
    fl_mlp_free(&b);
}

TU_MAIN(cmocka_unit_test(test_cka), cmocka_unit_test(test_activation_change))
