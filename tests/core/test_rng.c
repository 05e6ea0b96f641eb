/* test_rng.c: the generator is deterministic per (seed, stream), streams are
 * independent, and the derived draws have the right ranges and moments. */
#include "testutil.h"

#include "forgetlab/core/blob.h"
#include "forgetlab/core/rng.h"

#include <math.h>
#include <string.h>

static void test_deterministic(void **state) {
    (void)state;
    fl_rng a, b, c, d;
    fl_rng_init(&a, 7, FL_STREAM_DATA);
    fl_rng_init(&b, 7, FL_STREAM_DATA);
    fl_rng_init(&c, 7, FL_STREAM_INIT);
    fl_rng_init(&d, 8, FL_STREAM_DATA);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = fl_rng_u64(&a);
        assert_true(x == fl_rng_u64(&b));
        same_c += x == fl_rng_u64(&c);
        same_d += x == fl_rng_u64(&d);
    }
    assert_int_equal(same_c, 0);
    assert_int_equal(same_d, 0);
}

static void test_ranges_and_moments(void **state) {
    (void)state;
    fl_rng r;
    fl_rng_init(&r, 1, 0);
    enum { N = 200000 };
    double sf = 0, sn = 0, sn2 = 0;
    int counts[7] = {0};
    for (int i = 0; i < N; i++) {
        float f = fl_rng_float(&r);
        assert_true(f >= 0.0f && f < 1.0f);
        sf += f;
        double z = fl_rng_normal(&r);
        sn += z;
        sn2 += z * z;
        uint32_t k = fl_rng_below(&r, 7);
        assert_true(k < 7);
        counts[k]++;
    }
    assert_float_equal(sf / N, 0.5, 0.005);
    assert_float_equal(sn / N, 0.0, 0.01);
    assert_float_equal(sn2 / N, 1.0, 0.02);
    for (int k = 0; k < 7; k++) assert_float_equal(counts[k] / (double)N, 1.0 / 7, 0.005);
}

static void test_shuffle_is_permutation(void **state) {
    (void)state;
    fl_rng r;
    fl_rng_init(&r, 3, 0);
    int a[100], seen[100] = {0};
    for (int i = 0; i < 100; i++) a[i] = i;
    fl_rng_shuffle(&r, a, 100);
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 100; i++) assert_int_equal(seen[i], 1);
    assert_true(moved > 80);
}

static void test_categorical(void **state) {
    (void)state;
    fl_rng r;
    fl_rng_init(&r, 5, 0);
    const float p[4] = {0.1f, 0.0f, 0.6f, 0.3f};
    int counts[4] = {0};
    enum { N = 100000 };
    for (int i = 0; i < N; i++) counts[fl_rng_categorical(&r, p, 4)]++;
    assert_int_equal(counts[1], 0); /* zero mass is never drawn */
    assert_float_equal(counts[0] / (double)N, 0.1, 0.005);
    assert_float_equal(counts[2] / (double)N, 0.6, 0.005);
}

static void test_blob_layout(void **state) {
    (void)state;
    fl_blob b;
    fl_blob_init(&b);
    int s1[2] = {3, 5}, s2[1] = {3};
    assert_int_equal(fl_blob_add(&b, "w", 2, s1), 0);
    assert_int_equal(fl_blob_add(&b, "b", 1, s2), 1);
    int bad[1] = {0};
    assert_int_equal(fl_blob_add(&b, "z", 1, bad), -1);
    assert_int_equal(fl_blob_alloc(&b), 0);
    assert_int_equal(b.n, 18);
    assert_int_equal(b.views[1].offset, 15);
    assert_ptr_equal(fl_blob_param(&b, 1), b.params + 15);
    assert_ptr_equal(fl_blob_grad(&b, 1), b.grads + 15);
    assert_true(((uintptr_t)b.grads & 63) == 0 && ((uintptr_t)b.v & 63) == 0);
    assert_ptr_equal(fl_blob_find(&b, "b"), &b.views[1]);
    assert_null(fl_blob_find(&b, "nope"));
    assert_int_equal(fl_blob_add(&b, "late", 1, s2), -1); /* after allocation */
    for (size_t i = 0; i < b.n; i++) b.grads[i] = b.m[i] = b.v[i] = 1.0f;
    fl_blob_zero_grads(&b);
    fl_blob_zero_moments(&b);
    for (size_t i = 0; i < b.n; i++) assert_true(b.grads[i] == 0 && b.m[i] == 0 && b.v[i] == 0);
    fl_blob_free(&b);
}

TU_MAIN(cmocka_unit_test(test_deterministic), cmocka_unit_test(test_ranges_and_moments),
        cmocka_unit_test(test_shuffle_is_permutation), cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_blob_layout))
