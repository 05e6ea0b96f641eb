/* test_step.c: the divergence check names the step and the tensor that
 * became non-finite; the batcher visits every example once per epoch. */
#include "testutil.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/train/step.h"

#include <math.h>
#include <string.h>

static void test_check_finite(void **state) {
    (void)state;
    fl_mlp m;
    assert_int_equal(fl_mlp_create_from_spec(&m, "4-3-2"), 0);
    assert_int_equal(fl_check_finite(0.5f, &m.blob, 7, 1), 0);
    assert_int_equal(fl_check_finite(NAN, NULL, 7, 1), -1);
    assert_non_null(strstr(fl_error_msg(), "step 7: the loss is nan"));
    assert_int_equal(fl_check_finite(INFINITY, NULL, 8, 0), -1);
    assert_non_null(strstr(fl_error_msg(), "the loss is inf"));
    m.blob.grads[m.blob.views[2].offset + 1] = INFINITY; /* layers.1.weight */
    assert_int_equal(fl_check_finite(0.5f, &m.blob, 9, 0), 0); /* weights are fine */
    assert_int_equal(fl_check_finite(0.5f, &m.blob, 9, 1), -1);
    assert_non_null(strstr(fl_error_msg(), "step 9: the gradient of layers.1.weight is not finite"));
    m.blob.params[m.blob.views[3].offset] = NAN; /* layers.1.bias */
    assert_int_equal(fl_check_finite(0.5f, &m.blob, 10, 0), -1);
    assert_non_null(strstr(fl_error_msg(), "the value of layers.1.bias is not finite"));
    fl_mlp_free(&m);
}

static void test_batcher_epochs(void **state) {
    (void)state;
    fl_rng rng;
    fl_rng_init(&rng, 1, FL_STREAM_DATA);
    fl_batcher bt;
    assert_int_equal(fl_batcher_init(&bt, 10, 4, &rng), 0);
    assert_int_equal(fl_batcher_steps_per_epoch(&bt), 3);
    for (int epoch = 0; epoch < 2; epoch++) {
        int seen[10] = {0}, sizes[3];
        for (int k = 0; k < 3; k++) {
            const int *idx;
            sizes[k] = fl_batcher_next(&bt, &idx);
            for (int i = 0; i < sizes[k]; i++) seen[idx[i]]++;
        }
        assert_int_equal(sizes[2], 2); /* the short last batch */
        for (int i = 0; i < 10; i++) assert_int_equal(seen[i], 1);
    }
    fl_batcher_free(&bt);
}

TU_MAIN(cmocka_unit_test(test_check_finite), cmocka_unit_test(test_batcher_epochs))
