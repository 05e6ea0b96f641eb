/* test_clmetrics.c: the continual-learning metrics on hand-made accuracy
 * matrices, worked out by hand: a sequence that only forgets, and one
 * where an early task rises after its own training and then falls, on
 * which first-minus-last and max-minus-last forgetting differ. */
#include "testutil.h"

#include "forgetlab/measure/clmetrics.h"

#include <math.h>

static void test_forgetting_only(void **state) {
    (void)state;
    /* Three tasks; each falls by 0.1 per later task. */
    const double R[9] = {0.9, 0.1, 0.2,
                         0.8, 0.9, 0.3,
                         0.7, 0.8, 0.9};
    const double b[3] = {0.1, 0.1, 0.1};
    fl_cl_metrics m;
    fl_cl_metrics_compute(R, 3, b, &m);
    assert_float_equal(m.avg_acc, (0.7 + 0.8 + 0.9) / 3, 1e-12);
    assert_float_equal(m.bwt, ((0.7 - 0.9) + (0.8 - 0.9)) / 2, 1e-12);
    assert_float_equal(m.forgetting_first, 0.15, 1e-12);
    assert_float_equal(m.forgetting_max, 0.15, 1e-12);
    /* FWT: R[0][1] - b[1], R[1][2] - b[2]. */
    assert_float_equal(m.fwt, ((0.1 - 0.1) + (0.3 - 0.1)) / 2, 1e-12);
}

static void test_rise_then_fall(void **state) {
    (void)state;
    /* Task 0: 0.6 after its training, 0.9 after task 1 (backward
     * transfer), 0.5 after task 2, 0.4 at the end. */
    const double R[16] = {0.6, 0.0, 0.0, 0.0,
                          0.9, 0.8, 0.0, 0.0,
                          0.5, 0.7, 0.9, 0.0,
                          0.4, 0.7, 0.8, 0.9};
    double first[4], max[4];
    fl_cl_task_forgetting(R, 4, first, max);
    assert_float_equal(first[0], 0.2, 1e-12);  /* 0.6 - 0.4 */
    assert_float_equal(max[0], 0.5, 1e-12);    /* 0.9 - 0.4 */
    assert_float_equal(first[1], 0.1, 1e-12);
    assert_float_equal(max[1], 0.1, 1e-12);
    assert_float_equal(first[2], 0.1, 1e-12);
    assert_float_equal(max[2], 0.1, 1e-12);
    assert_true(isnan(first[3]) && isnan(max[3]));
    fl_cl_metrics m;
    fl_cl_metrics_compute(R, 4, NULL, &m);
    assert_float_equal(m.forgetting_first, 0.4 / 3, 1e-12);
    assert_float_equal(m.forgetting_max, 0.7 / 3, 1e-12);
    assert_float_equal(m.bwt, -m.forgetting_first, 1e-12);
    assert_float_equal(m.avg_acc, (0.4 + 0.7 + 0.8 + 0.9) / 4, 1e-12);
    assert_true(isnan(m.fwt)); /* no random model's accuracies */
    /* One task: nothing to forget. */
    fl_cl_metrics_compute(R, 1, NULL, &m);
    assert_float_equal(m.avg_acc, 0.6, 1e-12);
    assert_true(isnan(m.bwt) && isnan(m.forgetting_first) && isnan(m.forgetting_max));
}

TU_MAIN(cmocka_unit_test(test_forgetting_only), cmocka_unit_test(test_rise_then_fall))
