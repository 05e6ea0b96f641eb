/* test_forecast.c: the forgetting forecast (forecast.h) on a case worked
 * by hand (four runs of one checkpoint: the held-out residuals, the
 * scale's isotonic fit, the conformal quantile, an interval and budgets),
 * the monotone fit both ways, and on simulated runs: the held-out coverage
 * close to each level asked, a budget whose bound meets the limit. */
#include "testutil.h"

#include "forgetlab/core/rng.h"
#include "forgetlab/measure/forecast.h"
#include "forgetlab/measure/stats.h"

#include <math.h>
#include <stdlib.h>

static void test_isotonic(void **state) {
    (void)state;
    double x[5] = {0, 1, 2, 3, 3}, y[5] = {1, 3, 2, 4, 6}, fx[5], fy[5];
    /* Rising: x = 3 pooled to 5, then 3 > 2 pooled to 2.5. */
    assert_int_equal(fl_isotonic_sorted(x, y, 5, +1, fx, fy), 4);
    const double want[4] = {1, 2.5, 2.5, 5};
    for (int i = 0; i < 4; i++) assert_float_equal(fy[i], want[i], 1e-12), assert_float_equal(fx[i], i, 0);
    /* Falling: 1 < 2 pooled to 1.5. */
    double yd[3] = {3, 1, 2};
    assert_int_equal(fl_isotonic_sorted(x, yd, 3, -1, fx, fy), 3);
    assert_float_equal(fy[0], 3, 0), assert_float_equal(fy[1], 1.5, 1e-12), assert_float_equal(fy[2], 1.5, 1e-12);
}

static void test_by_hand(void **state) {
    (void)state;
    /* Runs 0..3, one point each on y = x. Held out: run 0 is forecast
     * from (1,1)..(3,3), held at 1 left of them (residual 1); runs 1 and
     * 2 are interpolated exactly (0); run 3 held at 2 (1). The scale is the
     * rising fit of (1, 0, 0, 1): (1/3, 1/3, 1/3, 1); the scores 3, 0, 0,
     * 1. At 80% the quantile is the ceil(0.8 * 5) = 4th smallest, 3; at 90%
     * ceil(0.9 * 5) = 5 exceeds 4 runs: none. */
    double x[4] = {0, 1, 2, 3}, y[4] = {0, 1, 2, 3}, held[4], half[4][FL_FORECAST_NLEVELS];
    int run[4] = {10, 11, 12, 13};
    fl_forecast fc;
    assert_int_equal(fl_forecast_fit(x, y, run, 4, &fc, held, half), 0);
    assert_int_equal(fc.m, 4);
    assert_int_equal(fc.nruns, 4);
    const double held_want[4] = {1, 1, 2, 2}, s_want[4] = {1.0 / 3, 1.0 / 3, 1.0 / 3, 1};
    for (int i = 0; i < 4; i++) {
        assert_float_equal(held[i], held_want[i], 1e-12);
        assert_float_equal(fc.f[i], y[i], 1e-12);
        assert_float_equal(fc.s[i], s_want[i], 1e-12);
    }
    assert_float_equal(fc.q[0], 3, 1e-12);
    assert_true(isinf(fc.q[1]) && isinf(fc.q[2]));
    double lo, hi;
    assert_float_equal(fl_forecast_at(&fc, 1.5, 0, &lo, &hi), 1.5, 1e-12);
    assert_float_equal(lo, 0.5, 1e-12), assert_float_equal(hi, 2.5, 1e-12);
    assert_true(isnan(fl_forecast_at(&fc, 3.5, 0, NULL, NULL))); /* beyond what the study saw */
    assert_true(isnan(fl_forecast_at(&fc, -1, 0, NULL, NULL)));
    /* The 80% bound: 1, 2, 3, 6 at the knots. */
    assert_float_equal(fl_forecast_budget(&fc, 2, 0), 1, 1e-12);
    assert_float_equal(fl_forecast_budget(&fc, 1.5, 0), 0.5, 1e-12);
    assert_float_equal(fl_forecast_budget(&fc, 0.5, 0), -1, 0);
    assert_float_equal(fl_forecast_budget(&fc, 100, 0), 3, 0);  /* never past the KL seen */
    assert_float_equal(fl_forecast_budget(&fc, 100, 1), -1, 0); /* no 90% interval: no promise */
    /* Held out, each run leaves 3: no level has a finite quantile, so no
     * coverage is claimed. */
    fl_forecast_score sc = fl_forecast_score_of(y, held, (const double(*)[FL_FORECAST_NLEVELS])half, NULL, 0, 4);
    assert_int_equal(sc.n, 4);
    assert_float_equal(sc.mae, 0.5, 1e-12);
    assert_true(isnan(sc.coverage[0]));
    assert_int_equal(fl_forecast_level_index(0.9), 1);
    assert_int_equal(fl_forecast_level_index(0.85), -1);
    fl_forecast_free(&fc);
    /* One run is not enough to hold one out. */
    int one[4] = {1, 1, 1, 1};
    assert_int_equal(fl_forecast_fit(x, y, one, 4, &fc, NULL, NULL), -1);
}

static void test_simulated(void **state) {
    (void)state;
    enum { R = 60, C = 8, N = R * C };
    double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double)), *held = malloc(N * sizeof(double));
    double (*half)[FL_FORECAST_NLEVELS] = malloc(N * sizeof *half);
    int *run = malloc(N * sizeof(int));
    fl_rng rng;
    fl_rng_init(&rng, 7, FL_STREAM_EVAL);
    /* Each run climbs its own curve: forgetting 0.2 KL plus a run offset
     * that grows with KL, plus a little noise per checkpoint. */
    for (int r = 0; r < R; r++) {
        const double u = fl_rng_normal(&rng), rate = 0.5 + 2 * fl_rng_double(&rng);
        for (int c = 0; c < C; c++) {
            const int i = r * C + c;
            x[i] = rate * (c + 1) / C, run[i] = r;
            y[i] = 0.2 * x[i] + 0.03 * x[i] * u + 0.005 * fl_rng_normal(&rng);
        }
    }
    y[5] = NAN; /* a checkpoint without a figure is left out */
    fl_forecast fc;
    assert_int_equal(fl_forecast_fit(x, y, run, N, &fc, held, half), 0);
    assert_int_equal(fc.n, N - 1);
    for (int i = 1; i < fc.m; i++) assert_true(fc.x[i] > fc.x[i - 1] && fc.f[i] >= fc.f[i - 1] && fc.s[i] >= fc.s[i - 1]);
    assert_true(fc.q[0] < fc.q[1] && fc.q[1] < fc.q[2] && isfinite(fc.q[2]));
    fl_forecast_score sc = fl_forecast_score_of(y, held, (const double(*)[FL_FORECAST_NLEVELS])half, NULL, 0, N);
    for (int l = 0; l < FL_FORECAST_NLEVELS; l++) {
        print_message("# level %.2f: held-out coverage %.3f\n", FL_FORECAST_LEVELS[l], sc.coverage[l]);
        assert_true(sc.coverage[l] > FL_FORECAST_LEVELS[l] - 0.08 && sc.coverage[l] < FL_FORECAST_LEVELS[l] + 0.06);
    }
    assert_true(sc.mae > 0 && sc.mae < 0.05);
    /* A budget's upper bound meets the limit, and a larger limit a larger budget. */
    double prev = -1;
    for (double F = 0.02; F <= 0.2; F += 0.03) {
        const double b = fl_forecast_budget(&fc, F, 1);
        double hi;
        assert_true(b > prev);
        fl_forecast_at(&fc, b, 1, NULL, &hi);
        assert_true(hi <= F + 1e-9);
        if (b < fc.x_max) assert_float_equal(hi, F, 1e-9);
        prev = b;
    }
    fl_forecast_free(&fc);
    free(x), free(y), free(held), free(half), free(run);
}

TU_MAIN(cmocka_unit_test(test_isotonic), cmocka_unit_test(test_by_hand), cmocka_unit_test(test_simulated))
