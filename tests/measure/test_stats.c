/* test_stats.c: the fits and statistics of the study on values computed
 * independently (NumPy's polyfit and corrcoef for the two non-trivial
 * numbers, noted beside them). */
#include "testutil.h"

#include "forgetlab/core/rng.h"
#include "forgetlab/measure/stats.h"

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
    assert_int_equal(fl_poly2_r2_bootstrap(x, y, N, NULL, 1000, 1, &a), 0);
    assert_int_equal(fl_poly2_r2_bootstrap(x, y, N, NULL, 1000, 1, &b), 0);
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

/* Hand-made points: two are within 2 points of the non-dominated set and
 * out of order (pooled by the isotonic fit), one is dominated. */
static void test_frontier_isotonic(void **state) {
    (void)state;
    double a[7] = {0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.9}, b[7] = {0.9, 0.3, 0.92, 0.8, 0.82, 0.5, 0.5};
    double fx[7], fy[7];
    /* Kept: all but (0.55, 0.3); the two (0.9, 0.5) pool into one point;
     * .90 < .92 and .80 < .82 violate "non-increasing" and are averaged. */
    const int m = fl_frontier_fit(a, b, NULL, 7, 0.02, fx, fy);
    assert_int_equal(m, 5);
    const double wx[5] = {0.5, 0.6, 0.7, 0.8, 0.9}, wy[5] = {0.91, 0.91, 0.81, 0.81, 0.5};
    for (int i = 0; i < 5; i++) {
        assert_float_equal(fx[i], wx[i], 1e-12);
        assert_float_equal(fy[i], wy[i], 1e-12);
    }
    assert_float_equal(fl_frontier_at(fx, fy, m, 0.65), 0.86, 1e-12);
    assert_float_equal(fl_frontier_at(fx, fy, m, 0.4), 0.91, 0); /* reaching further does as well */
    assert_true(isnan(fl_frontier_at(fx, fy, m, 0.95)));        /* never reached */
    /* Trapezoids: .091 + .086 + .081 + .0655. */
    assert_float_equal(fl_frontier_area(fx, fy, m, 0.5, 0.9), 0.3235, 1e-12);
    assert_float_equal(fl_frontier_area(fx, fy, m, 0.65, 0.75), 0.5 * (0.86 + 0.81) * 0.05 + 0.81 * 0.05, 1e-12);
    /* A subset through idx: only the last three points. */
    const int idx[3] = {4, 5, 6};
    assert_int_equal(fl_frontier_fit(a, b, idx, 3, 0.02, fx, fy), 2);
    assert_float_equal(fy[0], 0.82, 1e-12);
}

/* R runs of K checkpoints: each run sits off the common curve by its own
 * offset, so its checkpoints are not independent. Resampling runs must
 * see that; resampling points cannot. */
static void test_run_bootstrap(void **state) {
    (void)state;
    enum { R = 8, K = 25, N = R * K };
    double x[N], y[N];
    int run[N], seed[N];
    for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++) {
            const int i = r * K + k;
            x[i] = k / (double)K;
            y[i] = x[i] + 0.4 * sin(2.3 * r + 1.0) + 0.01 * sin(17.0 * i);
            run[i] = 100 - r; /* any labels */
            seed[i] = r % 2;
        }
    fl_clusters c;
    assert_int_equal(fl_clusters_init(&c, run, NULL, N), 0);
    assert_int_equal(c.nruns, R);
    assert_int_equal(c.nseeds, 1);
    fl_r2_ci pts, runs;
    assert_int_equal(fl_poly2_r2_bootstrap(x, y, N, NULL, 1000, 1, &pts), 0);
    assert_int_equal(fl_poly2_r2_bootstrap(x, y, N, &c, 1000, 1, &runs), 0);
    assert_float_equal(pts.r2, runs.r2, 0);
    assert_true(runs.hi - runs.lo > 1.5 * (pts.hi - pts.lo)); /* 0.29 against 0.16 */
    /* A draw is made of whole runs: every run in it with all K points. */
    fl_rng rng;
    fl_rng_init(&rng, 3, FL_STREAM_BOOTSTRAP);
    int idx[N], count[R] = {0};
    assert_int_equal(fl_clusters_draw(&c, &rng, idx), N);
    for (int j = 0; j < N; j++) count[idx[j] / K]++;
    for (int r = 0; r < R; r++) assert_int_equal(count[r] % K, 0);
    fl_clusters_free(&c);
    /* Two seeds: a draw takes seeds whole, then runs within them; its
     * size varies with the seeds drawn. */
    assert_int_equal(fl_clusters_init(&c, run, seed, N), 0);
    assert_int_equal(c.nseeds, 2);
    int sizes_differ = 0;
    for (int t = 0; t < 20; t++) {
        int m = fl_clusters_draw(&c, &rng, idx), per_seed[2] = {0};
        assert_true(m <= c.cap);
        for (int j = 0; j < m; j++) per_seed[(idx[j] / K) % 2]++;
        sizes_differ |= per_seed[0] != per_seed[1];
        assert_int_equal(per_seed[0] % (R / 2 * K), 0); /* a seed's share: all its draws of R/2 runs */
    }
    assert_true(sizes_differ);
    fl_clusters_free(&c);
}

/* Three methods; the third sits 0.5 above the others' curve. */
static void test_lomo(void **state) {
    (void)state;
    double x[15] = {0, 1, 2, 3, 4, 0.5, 1.5, 2.5, 3.5, 4.5, 0.2, 1.2, 2.2, 3.2, 4.2};
    const double noise[15] = {0.05, -0.03, 0.02, 0.0, -0.04, 0.01, 0.03, -0.02, 0.02, 0.0, -0.01, 0.0, 0.04, -0.03, 0.02};
    double y[15];
    int g[15];
    for (int i = 0; i < 15; i++) {
        g[i] = i / 5;
        y[i] = 0.1 * x[i] * x[i] + 0.2 * x[i] + noise[i] + (g[i] == 2 ? 0.5 : 0);
    }
    /* NumPy: polyfit on the other groups, errors on the held-out one. */
    const double lomo = fl_poly2_r2_lomo(x, y, g, NULL, 15);
    assert_float_equal(lomo, 0.8620812587163333, 1e-9);
    assert_true(lomo < fl_poly2_r2(x, y, 15, NULL)); /* pooled: 0.939 */
    /* On one curve, leaving a method out costs almost nothing. */
    double y0[15];
    for (int i = 0; i < 15; i++) y0[i] = y[i] - (g[i] == 2 ? 0.5 : 0);
    assert_true(fl_poly2_r2_lomo(x, y0, g, NULL, 15) > 0.99);
    /* How far group 2 lies above group 0's curve (NumPy: 0.49597142857). */
    assert_float_equal(fl_curve_gap(x, y, g, 0, 2, NULL, 15), 0.4959714285714284, 1e-9);
    assert_true(fabs(fl_curve_gap(x, y0, g, -1, 2, NULL, 15)) < 0.03);
    int one[15] = {0};
    assert_true(isnan(fl_poly2_r2_lomo(x, y, one, NULL, 15))); /* one method: nothing to leave out */
}

/* Three learning rates, each with its own level of forgetting: the
 * partial R^2 asks what x explains beyond the levels. */
static void test_partial(void **state) {
    (void)state;
    const double x[15] = {0.1, 0.5, 0.9, 1.4, 2.0, 0.2, 0.7, 1.1, 1.9, 2.5, 0.3, 0.8, 1.6, 2.2, 3.0};
    const double y[15] = {0.02, 0.05, 0.11, 0.2, 0.33, 0.3, 0.36, 0.41, 0.55, 0.7, 0.61, 0.62, 0.75, 0.8, 1.05};
    int g[15], idx[30];
    for (int i = 0; i < 15; i++) g[i] = i / 5, idx[i] = idx[i + 15] = i;
    /* NumPy: lstsq with the groups' indicators, with and without x, x^2. */
    assert_float_equal(fl_poly2_r2_partial(x, y, g, NULL, 15), 0.974444173579063, 1e-9);
    assert_float_equal(fl_poly2_r2_partial(x, y, g, idx, 30), 0.974444173579063, 1e-9); /* each point twice */
    /* Forgetting set by the group alone: nothing left to explain. */
    double level[15], noise[15];
    for (int i = 0; i < 15; i++) level[i] = g[i], noise[i] = g[i] + (i % 2 ? 0.01 : -0.01);
    assert_true(isnan(fl_poly2_r2_partial(x, level, g, NULL, 15)));
    /* What is left is noise unrelated to x: little explained. */
    assert_true(fl_poly2_r2_partial(x, noise, g, NULL, 15) < 0.5);
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
    assert_true(fl_fit_exp_identifiable(x, y, N, p, fl_fit_exp(x, y, N, p)));
    /* A straight line: the exponential runs to the edge of its scan, or
     * buys nothing over a line. Too few points: never identifiable. */
    for (int i = 0; i < N; i++) y[i] = 0.9 - 0.5 * x[i] + 0.01 * sin(13.0 * i);
    double rss = fl_fit_exp(x, y, N, p);
    assert_false(fl_fit_exp_identifiable(x, y, N, p, rss));
    for (int i = 0; i < N; i++) y[i] = 0.7 + 0.01 * sin(13.0 * i);
    rss = fl_fit_exp(x, y, N, p);
    assert_false(fl_fit_exp_identifiable(x, y, N, p, rss));
    assert_false(fl_fit_exp_identifiable(x, y, 4, p, 0.0));
}

/* Student's t at 0.975 (R's qt(0.975, df)) and the mean's interval over
 * seeds; NaN where it cannot be had. */
static void test_t_interval(void **state) {
    (void)state;
    const int df[] = {1, 2, 4, 30, 31, 40, 100, 1000};
    const double want[] = {12.7062, 4.302653, 2.776445, 2.042272, 2.039513, 2.021075, 1.983972, 1.962339};
    for (int i = 0; i < 8; i++) assert_true(fabs(fl_t975(df[i]) - want[i]) < 2e-5);
    assert_true(isnan(fl_t975(0)));
    const double x[] = {1, 2, NAN, 3};
    const fl_estimate e = fl_mean_ci(x, 4);
    assert_true(fabs(e.v - 2) < 1e-12 && fabs(e.hi - 2 - 4.302653 / sqrt(3.0)) < 1e-5 && fabs(e.lo + e.hi - 4) < 1e-12);
    const fl_estimate one = fl_mean_ci(x, 1);
    assert_true(one.v == 1 && isnan(one.lo) && isnan(one.hi));
}

TU_MAIN(cmocka_unit_test(test_poly2), cmocka_unit_test(test_t_interval), cmocka_unit_test(test_bootstrap), cmocka_unit_test(test_spearman),
        cmocka_unit_test(test_pareto), cmocka_unit_test(test_fit_exp), cmocka_unit_test(test_frontier_isotonic),
        cmocka_unit_test(test_run_bootstrap), cmocka_unit_test(test_lomo),
        cmocka_unit_test(test_partial))
