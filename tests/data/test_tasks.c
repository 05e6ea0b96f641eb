/* test_tasks.c: the two tasks' names, indicators and 785-feature inputs,
 * the ParityMNIST correctness rule (any digit of the right parity counts),
 * argmax accuracy, and loading both tasks from a data directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "data/data_fixtures.h"
#include "forgetlab/core/error.h"
#include "forgetlab/data/tasks.h"

#include <math.h>

static void test_names(void **state) {
    (void)state;
    fl_task_id t;
    assert_int_equal(fl_task_parse("parity", &t), 0);
    assert_int_equal(t, FL_TASK_PARITY);
    assert_int_equal(fl_task_parse("fashion", &t), 0);
    assert_int_equal(t, FL_TASK_FASHION);
    assert_string_equal(fl_task_name(FL_TASK_PARITY), "parity");
    assert_string_equal(fl_task_name(FL_TASK_FASHION), "fashion");
    assert_int_equal(fl_task_parse("Parity", &t), -1);
    assert_non_null(strstr(fl_error_msg(), "Parity"));
    assert_int_equal(fl_task_parse("", &t), -1);
    assert_true(fl_task_indicator(FL_TASK_PARITY) == 1.0f);
    assert_true(fl_task_indicator(FL_TASK_FASHION) == -1.0f);
    assert_int_equal(FL_TASK_DIM, 785);
}

static void test_build(void **state) {
    (void)state;
    enum { N = 3 };
    float x[N * 784];
    int label[N] = {7, 0, 4};
    for (int i = 0; i < N * 784; i++) x[i] = (float)(i % 256) / 255.0f;
    fl_images im = {N, 28, 28, x, label};
    for (int t = 0; t < 2; t++) {
        fl_task_data td;
        assert_int_equal(fl_task_build(&td, (fl_task_id)t, &im), 0);
        assert_int_equal(td.task, t);
        assert_int_equal(td.n, N);
        for (int i = 0; i < N; i++) {
            assert_memory_equal(td.x + i * 785, x + i * 784, 784 * sizeof(float));
            assert_true(td.x[i * 785 + 784] == (t == FL_TASK_PARITY ? 1.0f : -1.0f));
            assert_int_equal(td.label[i], label[i]);
        }
        fl_task_free(&td);
        assert_null(td.x);
        fl_task_free(&td); /* twice is harmless */
    }
    /* The images are copied: the task outlives them. */
    fl_task_data td;
    assert_int_equal(fl_task_build(&td, FL_TASK_PARITY, &im), 0);
    x[0] = 0.5f;
    assert_true(td.x[0] == 0.0f);
    fl_task_free(&td);
}

static void test_build_refusals(void **state) {
    (void)state;
    float x[4 * 5] = {0};
    int label[1] = {3};
    fl_images small = {1, 4, 5, x, label};
    fl_task_data td;
    assert_int_equal(fl_task_build(&td, FL_TASK_FASHION, &small), -1);
    assert_non_null(strstr(fl_error_msg(), "4x5"));
    assert_null(td.x);
    float px[784] = {0};
    int bad[1] = {10};
    fl_images im = {1, 28, 28, px, bad};
    assert_int_equal(fl_task_build(&td, FL_TASK_PARITY, &im), -1);
    assert_non_null(strstr(fl_error_msg(), "label 10"));
    fl_task_free(&td);
}

static void test_correct(void **state) {
    (void)state;
    for (int label = 0; label < 10; label++)
        for (int pred = 0; pred < 10; pred++) {
            assert_int_equal(fl_task_correct(FL_TASK_PARITY, label, pred), (label - pred) % 2 == 0);
            assert_int_equal(fl_task_correct(FL_TASK_FASHION, label, pred), label == pred);
        }
    /* sft1's answers: 0 for every even digit, 1 for every odd one. */
    assert_true(fl_task_correct(FL_TASK_PARITY, 8, 0));
    assert_true(fl_task_correct(FL_TASK_PARITY, 9, 1));
    assert_false(fl_task_correct(FL_TASK_PARITY, 1, -1));
    assert_false(fl_task_correct(FL_TASK_PARITY, 0, 10));
}

static void test_accuracy(void **state) {
    (void)state;
    float z[4][10] = {{0}};
    int label[4] = {3, 3, 2, 6};
    z[0][5] = 2.0f;                   /* 5: odd like 3 */
    z[1][3] = 1.0f, z[1][4] = 1.0f;   /* tie: the first maximum, 3 */
    z[2][9] = -1.0f;                  /* all others 0: argmax 0, even like 2 */
    z[3][6] = 5.0f, z[3][1] = NAN;    /* a NaN row answers nothing */
    assert_true(fabs(fl_task_accuracy(FL_TASK_PARITY, &z[0][0], label, 4) - 0.75) < 1e-12);
    assert_true(fabs(fl_task_accuracy(FL_TASK_FASHION, &z[0][0], label, 4) - 0.25) < 1e-12);
    assert_true(fl_task_accuracy(FL_TASK_FASHION, &z[0][0], label, 0) == 0.0);
    float neg[10];
    for (int c = 0; c < 10; c++) neg[c] = -10.0f - (float)c;
    int l7 = 7;
    neg[7] = -1e30f;
    neg[2] = -9.5f;
    assert_true(fl_task_accuracy(FL_TASK_FASHION, neg, &l7, 1) == 0.0);
    l7 = 2;
    assert_true(fl_task_accuracy(FL_TASK_FASHION, neg, &l7, 1) == 1.0);
}

static void test_load(void **state) {
    (void)state;
    char dir[4096];
    assert_int_equal(tu_mkscratch(dir, sizeof dir, "tasks"), 0);
    const int count[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    assert_int_equal(fx_mnist_dir(dir, count), 0);
    assert_int_equal(fx_fashion_split(dir, "train", 12, 12, 28, 28, 3, -1), 0);
    assert_int_equal(fx_fashion_split(dir, "t10k", 4, 4, 28, 28, 4, -1), 0);
    fl_task_data td;
    assert_int_equal(fl_task_load(&td, FL_TASK_PARITY, dir, "train"), 0);
    assert_int_equal(td.n, 40);
    assert_true(td.x[784] == 1.0f && td.x[39 * 785 + 784] == 1.0f);
    assert_int_equal(td.label[39], 9);
    fl_task_free(&td);
    assert_int_equal(fl_task_load(&td, FL_TASK_PARITY, dir, "test"), 0);
    assert_int_equal(td.n, 10);
    fl_task_free(&td);
    assert_int_equal(fl_task_load(&td, FL_TASK_FASHION, dir, "train"), 0);
    assert_int_equal(td.task, FL_TASK_FASHION);
    assert_int_equal(td.n, 12);
    assert_true(td.x[784] == -1.0f);
    assert_true(td.x[785 + 5] == fx_pixel_byte(3, 1, 5) / 255.0f);
    assert_int_equal(td.label[11], 1);
    fl_task_free(&td);
    assert_int_equal(fl_task_load(&td, FL_TASK_FASHION, dir, "test"), 0);
    assert_int_equal(td.n, 4);
    fl_task_free(&td);
    /* Failures leave td empty, safe to free. */
    assert_int_equal(fl_task_load(&td, FL_TASK_FASHION, dir, "dev"), -1);
    assert_null(td.x);
    fl_task_free(&td);
    tu_remove_tree(dir);
    assert_int_equal(fl_task_load(&td, FL_TASK_PARITY, dir, "train"), -1);
    assert_non_null(strstr(fl_error_msg(), "0.json"));
    fl_task_free(&td);
}

TU_MAIN(cmocka_unit_test(test_names), cmocka_unit_test(test_build), cmocka_unit_test(test_build_refusals),
        cmocka_unit_test(test_correct), cmocka_unit_test(test_accuracy), cmocka_unit_test(test_load))
