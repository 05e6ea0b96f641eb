/* test_stability.c: circuit stability from per-example scores: Spearman
 * matrices of hand-made vectors with known ranks, group means, the
 * random-split baseline (for i.i.d. noise CS lands inside it; for scores
 * with a real group structure far outside it), and within-subtask partners. */
#include "testutil.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/measure/stability.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Known ranks: a vector against a monotone transform of itself (1), its
 * reverse (-1), and two with ties whose Spearman NumPy gives as 0.9486833
 * (corrcoef of the average ranks [1, 2.5, 2.5, 4] and [1, 2, 3, 4]). */
static void test_matrix_known_ranks(void **state) {
    (void)state;
    const float v[4 * 4] = {1, 2, 3, 4, /* */ 10, 200, 3000, 40000, /* */ 4, 3, 2, 1, /* */ 1, 5, 5, 9};
    double rho[16];
    fl_cs_matrix(v, 4, 4, rho);
    assert_float_equal(rho[0 * 4 + 1], 1.0, 1e-12);
    assert_float_equal(rho[0 * 4 + 2], -1.0, 1e-12);
    assert_float_equal(rho[0 * 4 + 3], 0.9486832981, 1e-9);
    assert_float_equal(rho[3 * 4 + 0], 0.9486832981, 1e-9);
    for (int i = 0; i < 4; i++) assert_float_equal(rho[i * 4 + i], 1.0, 1e-12);
    /* CS: the mean of the 12 off-diagonal entries. */
    double want = 2 * (1 - 1 + 0.9486832981 - 1 + 0.9486832981 - 0.9486832981) / 12;
    assert_float_equal(fl_cs_mean(rho, 4), want, 1e-9);
    /* -0 and +0 are one value (a tie), and a constant vector has no Spearman. */
    const float z[2 * 3] = {0.0f, -0.0f, 1.0f, 2, 2, 2};
    fl_cs_matrix(z, 2, 3, rho);
    assert_true(isnan(rho[1]));
}

static void test_group_means(void **state) {
    (void)state;
    const float s[5 * 2] = {1, 10, 3, 30, /* group 0 */ 5, 50, 7, 70, 9, 90 /* group 1 */};
    const int count[2] = {2, 3};
    float v[4];
    fl_cs_group_means(s, 2, count, 2, v);
    assert_float_equal(v[0], 2, 1e-6);
    assert_float_equal(v[1], 20, 1e-6);
    assert_float_equal(v[2], 7, 1e-6);
    assert_float_equal(v[3], 70, 1e-6);
}

/* n examples in k groups of per; scores i.i.d. normal, plus `shift` times a
 * group-specific pattern when shift > 0. */
static float *make_scores(int k, int per, int c, double shift, uint64_t seed) {
    float *s = malloc(sizeof(float) * (size_t)k * per * c);
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_DATA);
    float *pattern = malloc(sizeof(float) * (size_t)k * c);
    for (int i = 0; i < k * c; i++) pattern[i] = (float)fl_rng_normal(&r);
    for (int g = 0; g < k; g++)
        for (int e = 0; e < per; e++)
            for (int j = 0; j < c; j++)
                s[((size_t)g * per + e) * c + j] = (float)(fl_rng_normal(&r) + shift * pattern[g * c + j]);
    free(pattern);
    return s;
}

/* For noise, the grouping means nothing: CS is one more draw of what random
 * splits give, so it lands inside [lo, hi] most of the time (95% in
 * expectation; at least 16 of 20 seeds asked). Groups with their own
 * patterns make CS fall far below the band: the check can fail. */
static void test_baseline(void **state) {
    (void)state;
    enum { K = 6, PER = 8, C = 40 };
    int count[K], inside = 0;
    for (int g = 0; g < K; g++) count[g] = PER;
    for (uint64_t seed = 0; seed < 20; seed++) {
        float *s = make_scores(K, PER, C, 0.0, seed);
        fl_cs_stats st;
        assert_int_equal(fl_cs_compute(s, C, count, K, 200, seed, NULL, NULL, &st), 0);
        assert_int_equal(st.random.draws, 200);
        assert_true(st.random.lo <= st.random.mean && st.random.mean <= st.random.hi);
        inside += st.cs >= st.random.lo && st.cs <= st.random.hi;
        free(s);
    }
    if (inside < 16) fail_msg("noise: CS inside its random-split band for %d of 20 seeds", inside);
    float *s = make_scores(K, PER, C, 2.0, 99);
    fl_cs_stats st;
    assert_int_equal(fl_cs_compute(s, C, count, K, 200, 99, NULL, NULL, &st), 0);
    if (!(st.cs < st.random.lo - 0.2)) fail_msg("structured: CS %.3f not below its band [%.3f, %.3f]", st.cs, st.random.lo, st.random.hi);
    /* The same seed gives the same baseline. */
    fl_cs_stats again;
    assert_int_equal(fl_cs_compute(s, C, count, K, 200, 99, NULL, NULL, &again), 0);
    assert_true(again.random.mean == st.random.mean && again.random.lo == st.random.lo);
    free(s);
}

static void test_within_partners(void **state) {
    (void)state;
    const int count[3] = {2, 5, 3};
    int partner[10], used[10] = {0};
    assert_int_equal(fl_within_partners(count, 3, 7, partner), 0);
    for (int i = 0; i < 10; i++) {
        const int gi = i < 2 ? 0 : i < 7 ? 1 : 2, p = partner[i], gp = p < 2 ? 0 : p < 7 ? 1 : 2;
        assert_int_not_equal(p, i);  /* never itself */
        assert_int_equal(gp, gi);    /* always its own subtask */
        used[p]++;
    }
    for (int i = 0; i < 10; i++) assert_int_equal(used[i], 1); /* each a partner once */
    const int one[2] = {3, 1};
    assert_int_equal(fl_within_partners(one, 2, 7, partner), FL_BAD_REQUEST);
    assert_non_null(strstr(fl_error_msg(), "at least two"));
}

TU_MAIN(cmocka_unit_test(test_matrix_known_ranks), cmocka_unit_test(test_group_means),
        cmocka_unit_test(test_baseline), cmocka_unit_test(test_within_partners))
