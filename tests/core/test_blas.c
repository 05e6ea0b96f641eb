/* test_blas.c: the choice of BLAS core from the CPU's features and the
 * library's own choice (a pure function), the feature words, and the
 * self-check on the kernels this process loaded. */
#include "testutil.h"

#include "forgetlab/core/blas.h"

#include <string.h>

static const fl_cpu_features SSE = {.sse3 = 1};
static const fl_cpu_features AVX2 = {.sse3 = 1, .avx = 1, .fma = 1, .avx2 = 1};
static const fl_cpu_features AVX512 = {.sse3 = 1, .avx = 1, .fma = 1, .avx2 = 1, .avx512f = 1,
                                        .avx512bw = 1, .avx512dq = 1, .avx512vl = 1};
static const fl_cpu_features AVX512BF = {.sse3 = 1, .avx = 1, .fma = 1, .avx2 = 1, .avx512f = 1,
                                          .avx512bw = 1, .avx512dq = 1, .avx512vl = 1, .avx512_bf16 = 1};

static void test_core_for_cpu(void **state) {
    (void)state;
    const fl_cpu_features avx = {.sse3 = 1, .avx = 1};
    const fl_cpu_features avx512f_only = {.sse3 = 1, .avx = 1, .fma = 1, .avx2 = 1, .avx512f = 1};
    assert_null(fl_blas_core_for(&SSE));
    assert_string_equal(fl_blas_core_for(&avx), "Sandybridge");
    assert_string_equal(fl_blas_core_for(&AVX2), "Haswell");
    /* SkylakeX's kernels need BW, DQ and VL besides F (Knights Landing has F alone). */
    assert_string_equal(fl_blas_core_for(&avx512f_only), "Haswell");
    assert_string_equal(fl_blas_core_for(&AVX512), "SkylakeX");
    assert_string_equal(fl_blas_core_for(&AVX512BF), "Cooperlake");
}

static void test_tiers(void **state) {
    (void)state;
    assert_int_equal(fl_blas_core_tier("Prescott"), 1);
    assert_int_equal(fl_blas_core_tier("NEHALEM"), 1);
    assert_int_equal(fl_blas_core_tier("Sandybridge"), 2);
    assert_int_equal(fl_blas_core_tier("Zen"), 3);
    assert_int_equal(fl_blas_core_tier("Haswell"), 3);
    assert_int_equal(fl_blas_core_tier("SkylakeX"), 4);
    assert_int_equal(fl_blas_core_tier("Cooperlake"), 4);
    assert_int_equal(fl_blas_core_tier("NeoverseN1"), 0);
    assert_int_equal(fl_blas_core_tier(NULL), 0);
}

static void test_fallback_cores_switch(void **state) {
    (void)state;
    /* The machine: an AVX-512 Xeon OpenBLAS does not know, Prescott. */
    assert_string_equal(fl_blas_core_choose("Prescott", &AVX512, NULL, NULL), "SkylakeX");
    assert_string_equal(fl_blas_core_choose("Prescott", &AVX512BF, "", "auto"), "Cooperlake");
    assert_string_equal(fl_blas_core_choose("Nehalem", &AVX2, NULL, NULL), "Haswell");
    assert_string_equal(fl_blas_core_choose("Sandybridge", &AVX2, NULL, NULL), "Haswell");
    /* A lower tier than the CPU's, even the AVX2 one, on an AVX-512 CPU. */
    assert_string_equal(fl_blas_core_choose("Haswell", &AVX512, NULL, NULL), "SkylakeX");
}

static void test_right_core_kept(void **state) {
    (void)state;
    assert_null(fl_blas_core_choose("Haswell", &AVX2, NULL, NULL));
    assert_null(fl_blas_core_choose("Zen", &AVX2, NULL, NULL));
    assert_null(fl_blas_core_choose("SkylakeX", &AVX512, NULL, NULL));
    /* A Cooperlake core on a CPU without BF16 is the CPU's own business. */
    assert_null(fl_blas_core_choose("Cooperlake", &AVX512, NULL, NULL));
    assert_null(fl_blas_core_choose("Prescott", &SSE, NULL, NULL));
    /* A name this table does not know is not judged. */
    assert_null(fl_blas_core_choose("SomeFutureCore", &AVX512, NULL, NULL));
}

static void test_user_setting_kept(void **state) {
    (void)state;
    assert_null(fl_blas_core_choose("Prescott", &AVX512, "Prescott", NULL));
    assert_null(fl_blas_core_choose("Haswell", &AVX512, "Haswell", "auto"));
    assert_null(fl_blas_core_choose("Prescott", &AVX512, NULL, "keep"));
    /* An explicit name wins, over the environment's too... */
    assert_string_equal(fl_blas_core_choose("Prescott", &AVX512, "Prescott", "Haswell"), "Haswell");
    assert_string_equal(fl_blas_core_choose("SkylakeX", &AVX512, NULL, "Haswell"), "Haswell");
    /* ... and asks for nothing when it runs already. */
    assert_null(fl_blas_core_choose("Haswell", &AVX512, NULL, "haswell"));
}

static void test_feature_text(void **state) {
    (void)state;
    char buf[160];
    fl_cpu_features_text(&AVX512BF, buf, sizeof buf);
    assert_string_equal(buf, "sse3 avx fma avx2 avx512f avx512bw avx512dq avx512vl avx512_bf16");
    const fl_cpu_features none = {0};
    fl_cpu_features_text(&none, buf, sizeof buf);
    assert_string_equal(buf, "none");
    fl_cpu_features_text(&AVX2, buf, 9); /* truncated, still a string */
    assert_true(strlen(buf) < 9);
}

static void test_this_machine(void **state) {
    (void)state;
    /* The kernels this process loaded multiply right, and what they are
     * called is known to the table whenever the CPU is x86. */
    assert_int_equal(fl_blas_self_check(), 0);
    fl_cpu_features f;
    fl_cpu_features_detect(&f);
#if defined(__x86_64__)
    assert_true(f.sse3);
    assert_true(fl_blas_core_tier(fl_blas_core()) > 0);
#endif
    char id[96];
    fl_blas_kernels_id(id, sizeof id);
    assert_non_null(strstr(id, fl_blas_core()));
    assert_non_null(strstr(id, "OpenBLAS"));
}

TU_MAIN(cmocka_unit_test(test_core_for_cpu), cmocka_unit_test(test_tiers), cmocka_unit_test(test_fallback_cores_switch),
        cmocka_unit_test(test_right_core_kept), cmocka_unit_test(test_user_setting_kept),
        cmocka_unit_test(test_feature_text), cmocka_unit_test(test_this_machine))
