/* test_vmath.c: the vectorisable exp and erf of src/nn/vmath.h against
 * libm in double, over every input the language model feeds them (softmax
 * scores after the max is subtracted, GELU's pre-activations) and beyond:
 * the accuracy the header promises, the clamp below e^-87, erf's symmetry. */
#include "testutil.h"

#include "nn/vmath.h"

#include <float.h>
#include <math.h>

static void test_exp(void **state) {
    (void)state;
    double worst = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.00037f) {
        const double e = exp((double)x), r = fabs((double)fl_vexpf(x) - e) / e;
        worst = r > worst ? r : worst;
    }
    assert_true(worst < 2e-7);
    assert_true(fl_vexpf(0.0f) == 1.0f);
    /* Below the clamp: a tiny non-negative number, never a NaN or garbage. */
    for (float x = -1000.0f; x < -87.0f; x += 0.5f) {
        const float y = fl_vexpf(x);
        assert_true(y >= 0.0f && y < 2e-38f);
    }
    assert_true(fl_vexpf(-INFINITY) >= 0.0f && fl_vexpf(-INFINITY) < 2e-38f);
}

static void test_erf(void **state) {
    (void)state;
    double worst = 0;
    for (float x = -12.0f; x <= 12.0f; x += 0.00011f) {
        const double d = fabs((double)fl_verff(x) - erf((double)x));
        worst = d > worst ? d : worst;
        assert_true(fl_verff(-x) == -fl_verff(x));
    }
    assert_true(worst < 1e-6);
    assert_true(fabsf(fl_verff(0.0f)) < 1e-7f);
    assert_true(fl_verff(30.0f) == 1.0f && fl_verff(-30.0f) == -1.0f);
}

TU_MAIN(cmocka_unit_test(test_exp), cmocka_unit_test(test_erf))
