/* test_stats.c: the fits and statistics of the study on values computed
 * independently (NumPy's polyfit and corrcoef for the two non-trivial
 * numbers, noted beside them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forgetlab/stats.h"

#include <math.h>

static void test_poly2(void **state) {
    (void)state;
    double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {1, 2.5, 2.9, 4.2, 3.8, 6.1}, c[3];
    /* numpy.polyfit(x, y, 2) -> [0.01428571, 0.80571429, 1.27142857], R^2 0.90363970 */
    assert_float_equal(fl_poly2_r2(x, y, 6, c), 0.9036397029, 1e-9);
    assert_float_equal(c[0], 1.27142857, 1e-7);
    assert_float_equal(c[1], 0.80571429, 1e-7);
    assert_float_equal(c[2], 0.01428571, 1e-7);
    /* An exact quadratic of tiny x (KLs of 1e-4) is fitted exactly. */
    double xs[5], ys[5];
    for (int i = 0; i < 5; i++) {
        xs[i] = 1e-4 * (i + 1);
        ys[i] = 3 - 2e3 * xs[i] + 5e7 * xs[i] * xs[i];
    }
    assert_float_equal(fl_poly2_r2(xs, ys, 5, c), 1.0, 1e-9);
    assert_float_equal(c[2], 5e7, 1e-1);
    double flat[4] = {2, 2, 2, 2};
    assert_true(isnan(fl_poly2_r2(x, flat, 4, NULL)));
    assert_true(isnan(fl_poly2_r2(x, y, 2, NULL)));
}

static void test_bootstrap(void **state) {
    (void)state;
    enum { N = 200 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = i / (double)N;
        y[i] = x[i] * x[i] + 0.05 * sin(37.0 * i); /* deterministic "noise" */
    }
    fl_r2_ci a, b;
    fl_poly2_r2_bootstrap(x, y, N, 1000, 1, &a);
    fl_poly2_r2_bootstrap(x, y, N, 1000, 1, &b);
    assert_int_equal(a.n, N);
    assert_true(a.lo <= a.r2 && a.r2 <= a.hi);
    assert_true(a.hi - a.lo < 0.1 && a.hi - a.lo > 0);
    assert_float_equal(a.lo, b.lo, 0); /* seeded: reproducible */
}

static void test_spearman(void **state) {
    (void)state;
    double x[4] = {1, 2, 2, 3}, y[4] = {1, 3, 2, 4}, r[4];
    fl_ranks(x, 4, r);
    assert_float_equal(r[1], 2.5, 0);
    assert_float_equal(r[2], 2.5, 0);
    /* numpy.corrcoef([1, 2.5, 2.5, 4], [1, 3, 2, 4])[0, 1] = 0.9486832981 */
    assert_float_equal(fl_spearman(x, y, 4), 0.9486832981, 1e-9);
    double up[4] = {-1, 0, 7, 8}, z[4] = {10, 5, 1, -3}; /* z decreases as up increases */
    assert_float_equal(fl_spearman(up, z, 4), -1.0, 1e-12);
    double c[4] = {1, 1, 1, 1};
    assert_true(isnan(fl_spearman(x, c, 4)));
}

static void test_pareto(void **state) {
    (void)state;
    /* (new, prior): the frontier is (0.9, 0.5), (0.7, 0.8), (0.5, 0.9). */
    double a[6] = {0.9, 0.7, 0.5, 0.6, 0.7, 0.88};
    double b[6] = {0.5, 0.8, 0.9, 0.7, 0.79, 0.49};
    int keep[6];
    assert_int_equal(fl_pareto_keep(a, b, 6, 0.02, keep), 5);
    int want[6] = {1, 1, 1, 0, 1, 1};
    for (int i = 0; i < 6; i++) assert_int_equal(keep[i], want[i]);
    assert_int_equal(fl_pareto_keep(a, b, 6, 0.0, keep), 3);
}

static void test_fit_exp(void **state) {
    (void)state;
    enum { N = 30 };
    double x[N], y[N], p[3];
    for (int i = 0; i < N; i++) {
        x[i] = 0.5 + 0.5 * i / (N - 1);
        y[i] = 0.8 - 0.002 * exp(6.0 * x[i]);
    }
    assert_true(fl_fit_exp(x, y, N, p) < 1e-12);
    assert_float_equal(p[0], 0.8, 1e-4);
    assert_float_equal(p[1], -0.002, 1e-5);
    assert_float_equal(p[2], 6.0, 1e-3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poly2),
        cmocka_unit_test(test_bootstrap),
        cmocka_unit_test(test_spearman),
        cmocka_unit_test(test_pareto),
        cmocka_unit_test(test_fit_exp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
