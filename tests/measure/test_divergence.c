/* test_divergence.c: the distribution predictors on hand-computed values,
 * the direction of the KL included. */
#include "testutil.h"

#include "forgetlab/measure/divergence.h"

#include <math.h>

/* Row 1: pi_0 = (1/4, 3/4), pi = (1/2, 1/2).
 *   forward KL(pi_0||pi) = 1/4 ln(1/2) + 3/4 ln(3/2)      = 0.1308120
 *   reverse KL(pi||pi_0) = 1/2 ln 2 + 1/2 ln(2/3)          = 0.1438410
 *   TV = 1/2 (1/4 + 1/4) = 1/4;  L2 = sqrt(2/16) = 0.3535534
 *   JS: m = (3/8, 5/8); 1/2 [1/4 ln(2/3) + 3/4 ln(6/5)] + 1/2 [1/2 ln(4/3) + 1/2 ln(4/5)] = 0.0338221
 * Row 2: identical distributions: every divergence is 0. */
static void test_hand_values(void **state) {
    (void)state;
    float lp0[4] = {logf(0.25f), logf(0.75f), logf(0.6f), logf(0.4f)};
    float lp1[4] = {logf(0.5f), logf(0.5f), logf(0.6f), logf(0.4f)};
    fl_divergences d;
    fl_divergences_compute(&d, lp0, lp1, 1, 2);
    assert_float_equal(d.forward_kl, 0.1308120, 1e-6);
    assert_float_equal(d.reverse_kl, 0.1438410, 1e-6);
    assert_float_equal(d.tv, 0.25, 1e-7);
    assert_float_equal(d.l2, 0.3535534, 1e-6);
    assert_float_equal(d.js, 0.0338221, 1e-6);
    fl_divergences_compute(&d, lp0, lp1, 2, 2); /* averaged with a zero row */
    assert_float_equal(d.forward_kl, 0.1308120 / 2, 1e-6);
    assert_float_equal(d.tv, 0.125, 1e-7);
    /* Swapping the models swaps the KL directions. */
    fl_divergences_compute(&d, lp1, lp0, 1, 2);
    assert_float_equal(d.forward_kl, 0.1438410, 1e-6);
    assert_float_equal(d.reverse_kl, 0.1308120, 1e-6);
}

/* A class the base never predicts contributes nothing to the forward KL,
 * however the fine-tuned model moves it. */
static void test_zero_mass(void **state) {
    (void)state;
    float lp0[3] = {logf(0.5f), logf(0.5f), -INFINITY};
    float lp1[3] = {logf(0.25f), logf(0.25f), logf(0.5f)};
    fl_divergences d;
    fl_divergences_compute(&d, lp0, lp1, 1, 3);
    assert_float_equal(d.forward_kl, log(2.0), 1e-6);
    assert_true(isinf(d.reverse_kl)); /* pi puts mass where pi_0 has none */
    assert_float_equal(d.js, 0.5 * (2 * 0.5 * log(0.5 / 0.375)) + 0.5 * (2 * 0.25 * log(0.25 / 0.375) + 0.5 * log(2.0)), 1e-6);
    assert_true(d.js <= log(2.0));
}

TU_MAIN(cmocka_unit_test(test_hand_values), cmocka_unit_test(test_zero_mass))
