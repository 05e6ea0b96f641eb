/* test_clbench.c: the continual-learning benchmarks: rotation (0 and 360
 * degrees leave an image as it is, 90 degrees moves a pixel where it
 * should, four quarter turns come back), and, on the real data when it is
 * there, every benchmark and scenario's tasks: their classes, targets and
 * heads, permutations that keep each image's pixels, rotation 0 for the
 * first rotated task; bad task counts refused. */
#include "testutil.h"

#include "forgetlab/data/clbench.h"
#include "forgetlab/data/data.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_rotation(void **state) {
    (void)state;
    float in[28 * 28] = {0}, out[28 * 28], back[28 * 28];
    fl_rng r;
    fl_rng_init(&r, 3, FL_STREAM_DATA);
    for (int i = 0; i < 28 * 28; i++) in[i] = (float)fl_rng_double(&r);
    fl_rotate_image(out, in, 28, 28, 0);
    for (int i = 0; i < 28 * 28; i++) assert_float_equal(out[i], in[i], 1e-6);
    fl_rotate_image(out, in, 28, 28, 360);
    for (int i = 0; i < 28 * 28; i++) assert_float_equal(out[i], in[i], 1e-5);
    /* A quarter turn: out(r, q) = in(q, 27 - r). */
    fl_rotate_image(out, in, 28, 28, 90);
    for (int rr = 0; rr < 28; rr++)
        for (int q = 0; q < 28; q++) assert_float_equal(out[rr * 28 + q], in[q * 28 + 27 - rr], 1e-5);
    memcpy(back, in, sizeof in);
    for (int k = 0; k < 4; k++) {
        fl_rotate_image(out, back, 28, 28, 90);
        memcpy(back, out, sizeof out);
    }
    for (int i = 0; i < 28 * 28; i++) assert_float_equal(back[i], in[i], 1e-5);
}

static int have_data(void) {
    fl_images im = {0};
    const int ok = fl_mnist_load(fl_data_dir(NULL), "test", &im) == 0;
    fl_images_free(&im);
    return ok;
}

static void test_split(void **state) {
    (void)state;
    if (!have_data()) skip();
    for (int sc = 0; sc < FL_CL_NSCENARIO; sc++) {
        fl_cl_bench b;
        assert_int_equal(fl_cl_bench_load(&b, FL_CL_SPLIT_MNIST, (fl_cl_scenario)sc, 0, 0, NULL, 1), 0);
        assert_int_equal(b.ntasks, 5);
        assert_int_equal(b.nout, sc == FL_CL_DOMAIN_IL ? 2 : 10);
        int total = 0;
        for (int t = 0; t < 5; t++) {
            total += b.test[t].n;
            assert_int_equal(b.head_first[t], sc == FL_CL_TASK_IL ? 2 * t : 0);
            assert_int_equal(b.head_size[t], sc == FL_CL_TASK_IL ? 2 : b.nout);
            for (int i = 0; i < b.test[t].n; i++) {
                const int y = b.test[t].y[i];
                if (sc == FL_CL_DOMAIN_IL) assert_true(y == 0 || y == 1);
                else assert_true(y == 2 * t || y == 2 * t + 1);
            }
        }
        assert_int_equal(total, 2000);
        fl_cl_bench_free(&b);
    }
}

static void test_permuted_and_rotated(void **state) {
    (void)state;
    if (!have_data()) skip();
    fl_cl_bench p, r;
    assert_int_equal(fl_cl_bench_load(&p, FL_CL_PERMUTED_MNIST, FL_CL_CLASS_IL, 3, 100, NULL, 1), 0);
    assert_int_equal(p.nout, 30);
    fl_images te = {0};
    assert_int_equal(fl_mnist_load(fl_data_dir(NULL), "test", &te), 0);
    for (int t = 0; t < 3; t++) {
        assert_int_equal(p.train[t].n, 100);
        assert_int_equal(p.test[t].n, te.n);
        /* The same image under each task's permutation: the same pixels. */
        double s = 0, s0 = 0;
        for (int i = 0; i < FL_CL_DIM; i++) s += p.test[t].x[i], s0 += te.x[i];
        assert_float_equal(s, s0, 1e-3);
        assert_int_equal(p.test[t].y[0], 10 * t + te.label[0]);
    }
    assert_memory_not_equal(p.test[0].x, p.test[1].x, sizeof(float) * FL_CL_DIM);
    assert_int_equal(fl_cl_bench_load(&r, FL_CL_ROTATED_MNIST, FL_CL_DOMAIN_IL, 4, 50, NULL, 1), 0);
    assert_int_equal(r.nout, 10);
    for (int i = 0; i < FL_CL_DIM; i++) assert_float_equal(r.test[0].x[i], te.x[i], 1e-6); /* 0 degrees */
    assert_int_equal(r.test[2].y[5], te.label[5]);
    fl_cl_bench_free(&p), fl_cl_bench_free(&r);
    fl_images_free(&te);
    assert_int_equal(fl_cl_bench_load(&p, FL_CL_SPLIT_MNIST, FL_CL_TASK_IL, 3, 0, NULL, 1), -1);
    assert_int_equal(fl_cl_bench_load(&p, FL_CL_PERMUTED_MNIST, FL_CL_TASK_IL, 1, 0, NULL, 1), -1);
    assert_int_equal(fl_cl_bench_load(&p, FL_CL_PERMUTED_MNIST, FL_CL_TASK_IL, 3, -1, NULL, 1), -1);
    fl_cl_benchmark bb;
    fl_cl_scenario ss;
    assert_int_equal(fl_cl_benchmark_parse("split-fashion", &bb), 0);
    assert_int_equal(bb, FL_CL_SPLIT_FASHION);
    assert_int_equal(fl_cl_benchmark_parse("split-cifar", &bb), -1);
    assert_int_equal(fl_cl_scenario_parse("domain", &ss), 0);
    assert_int_equal(fl_cl_scenario_parse("instance", &ss), -1);
}

/* A validation split: ceil(frac n) of each task's training examples
 * become its evaluation set, the rest stay for training; together they are
 * the training examples as before, each once; the same seed draws the
 * same split, another seed another; impossible fractions are refused. */
static void test_hold_out(void **state) {
    (void)state;
    if (!have_data()) skip();
    fl_cl_bench full, a, c;
    assert_int_equal(fl_cl_bench_load(&full, FL_CL_SPLIT_MNIST, FL_CL_CLASS_IL, 0, 200, NULL, 1), 0);
    assert_int_equal(fl_cl_bench_load(&a, FL_CL_SPLIT_MNIST, FL_CL_CLASS_IL, 0, 200, NULL, 1), 0);
    assert_int_equal(fl_cl_bench_load(&c, FL_CL_SPLIT_MNIST, FL_CL_CLASS_IL, 0, 200, NULL, 1), 0);
    assert_int_equal(fl_cl_bench_hold_out(&a, 0.15, 3), 0);
    assert_int_equal(fl_cl_bench_hold_out(&c, 0.15, 4), 0);
    for (int t = 0; t < 5; t++) {
        const fl_cl_set *f = &full.train[t], *tr = &a.train[t], *va = &a.test[t];
        assert_int_equal(va->n, 30);
        assert_int_equal(tr->n + va->n, f->n);
        int *used = calloc((size_t)f->n, sizeof(int));
        for (int s = 0; s < 2; s++) {
            const fl_cl_set *part = s ? va : tr;
            for (int j = 0; j < part->n; j++) {
                int found = -1;
                for (int i = 0; i < f->n && found < 0; i++)
                    if (!used[i] && f->y[i] == part->y[j] &&
                        !memcmp(f->x + (size_t)i * FL_CL_DIM, part->x + (size_t)j * FL_CL_DIM, sizeof(float) * FL_CL_DIM))
                        found = i;
                assert_true(found >= 0);
                used[found] = 1;
            }
        }
        free(used);
        assert_true(c.test[t].n == 30 && memcmp(c.test[t].x, va->x, sizeof(float) * FL_CL_DIM * 30) != 0);
    }
    assert_int_equal(fl_cl_bench_hold_out(&full, 0, 1), -1);
    assert_int_equal(fl_cl_bench_hold_out(&full, 1, 1), -1);
    fl_cl_bench_free(&full), fl_cl_bench_free(&a), fl_cl_bench_free(&c);
}

TU_MAIN(cmocka_unit_test(test_rotation), cmocka_unit_test(test_split), cmocka_unit_test(test_permuted_and_rotated),
        cmocka_unit_test(test_hold_out))
