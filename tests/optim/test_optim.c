/* test_optim.c: AdamW, SGD, schedules and clipping against numbers computed
 * by hand from the update rules (and agreeing with torch.optim in float64). */
#include "testutil.h"

#include "forgetlab/optim/optim.h"

#include <math.h>

static void one_param_blob(fl_blob *b, float p) {
    fl_blob_init(b);
    int shape[1] = {1};
    assert_int_equal(fl_blob_add(b, "p", 1, shape), 0);
    assert_int_equal(fl_blob_alloc(b), 0);
    b->params[0] = p;
}

/* Three steps of o at lr 0.1 on one parameter that starts at 1, with the
 * gradients 0.5, -0.25 and 0.125: the parameter is want[t] after step t+1. */
static void check_three_steps(fl_optim *o, const double want[3]) {
    fl_blob b;
    one_param_blob(&b, 1.0f);
    const float g[3] = {0.5f, -0.25f, 0.125f};
    for (int t = 0; t < 3; t++) {
        b.grads[0] = g[t];
        fl_optim_step(o, &b, 0.1f);
        assert_float_equal(b.params[0], want[t], 2e-7);
    }
    fl_blob_free(&b);
}

static void test_adamw_steps(void **state) {
    (void)state;
    fl_optim o;
    fl_optim_adamw(&o, 0.9f, 0.999f, 1e-8f, 0.01f);
    /* Step 1: p = 1*(1 - 0.1*0.01) - 0.1 * 0.5/(sqrt(0.25) + 1e-8) = 0.899000002.
     * Step 2: m = 0.02, v = 3.1225e-4, mhat = 0.02/0.19, vhat = 3.1225e-4/0.001999,
     *         p = 0.899*0.999 - 0.1*mhat/(sqrt(vhat)+1e-8) = 0.8714672987.
     * Step 3 continues the same way: 0.8365529176. */
    const double want[3] = {0.899000002, 0.8714672987, 0.8365529176};
    check_three_steps(&o, want);
    assert_int_equal(o.t, 3);
}

static void test_sgd_momentum(void **state) {
    (void)state;
    fl_optim o;
    fl_optim_sgd(&o, 0.9f, 0.01f);
    /* g' = g + 0.01 p; buf = g' (t=1), else 0.9 buf + g'; p -= 0.1 buf. */
    const double want[3] = {0.949, 0.927151, 0.894059749};
    check_three_steps(&o, want);
}

static void test_schedules(void **state) {
    (void)state;
    fl_schedule s = {FL_SCHED_COSINE, 1.0f, 10, 110, 0.0f};
    assert_float_equal(fl_schedule_lr(&s, 0), 0.1, 1e-7);
    assert_float_equal(fl_schedule_lr(&s, 9), 1.0, 1e-7);
    assert_float_equal(fl_schedule_lr(&s, 10), 1.0, 1e-7);
    assert_float_equal(fl_schedule_lr(&s, 35), 0.8535533906, 1e-6); /* (1+cos(pi/4))/2 */
    assert_float_equal(fl_schedule_lr(&s, 60), 0.5, 1e-6);
    assert_float_equal(fl_schedule_lr(&s, 110), 0.0, 1e-7);
    assert_float_equal(fl_schedule_lr(&s, 500), 0.0, 1e-7);
    s.min_lr = 0.1f;
    assert_float_equal(fl_schedule_lr(&s, 60), 0.55, 1e-6);
    fl_schedule c = {FL_SCHED_CONSTANT, 3e-4f, 10, 110, 0.0f};
    assert_float_equal(fl_schedule_lr(&c, 0), 3e-4, 1e-10);
    assert_float_equal(fl_schedule_lr(&c, 1000), 3e-4, 1e-10);
    fl_sched_kind k;
    assert_int_equal(fl_schedule_parse("cosine", &k), 0);
    assert_int_equal(k, FL_SCHED_COSINE);
    assert_int_equal(fl_schedule_parse("linear", &k), -1);
}

static void test_clip(void **state) {
    (void)state;
    fl_blob b;
    fl_blob_init(&b);
    int shape[1] = {2};
    fl_blob_add(&b, "g", 1, shape);
    assert_int_equal(fl_blob_alloc(&b), 0);
    b.grads[0] = 3;
    b.grads[1] = 4;
    assert_float_equal(fl_clip_grad_norm(&b, 10.0f), 5.0, 1e-6); /* under the limit: untouched */
    assert_float_equal(b.grads[0], 3.0, 0);
    assert_float_equal(fl_clip_grad_norm(&b, 1.0f), 5.0, 1e-6);
    assert_float_equal(b.grads[0], 0.6, 1e-6);
    assert_float_equal(b.grads[1], 0.8, 1e-6);
    assert_float_equal(fl_clip_grad_norm(&b, 0.0f), 1.0, 1e-6); /* 0: report only */
    fl_blob_free(&b);
}

TU_MAIN(cmocka_unit_test(test_adamw_steps), cmocka_unit_test(test_sgd_momentum), cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_clip))
