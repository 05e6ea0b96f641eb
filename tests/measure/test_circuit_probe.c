/* test_circuit_probe.c: the study's circuit probe of the prior task: the
 * images grouped by class, within-class and other-class partners drawn for
 * the same images, drift 1 for the base model against itself, and a changed
 * model's CS and drift against an independent Spearman computed here from
 * its circuit vectors (plain O(n^2) ranks, not the library's). */
#include "testutil.h"

#include "forgetlab/measure/measure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Average rank of x[i] among x[0..n): 1 + (number below) + (ties - 1) / 2. */
static double naive_rank(const double *x, int n, int i) {
    int below = 0, ties = 0;
    for (int j = 0; j < n; j++) below += x[j] < x[i], ties += x[j] == x[i];
    return 1 + below + (ties - 1) / 2.0;
}

static double naive_spearman(const float *a, const float *b, int n) {
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n), *rx = malloc(sizeof(double) * n),
           *ry = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) x[i] = a[i], y[i] = b[i];
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) rx[i] = naive_rank(x, n, i), ry[i] = naive_rank(y, n, i), mx += rx[i], my += ry[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++)
        sxy += (rx[i] - mx) * (ry[i] - my), sxx += (rx[i] - mx) * (rx[i] - mx), syy += (ry[i] - my) * (ry[i] - my);
    free(x), free(y), free(rx), free(ry);
    return sxy / sqrt(sxx * syy);
}

static int row_of(const fl_task_data *td, const float *img) {
    for (int j = 0; j < td->n; j++)
        if (!memcmp(img, td->x + (size_t)j * FL_TASK_DIM, FL_TASK_DIM * sizeof(float))) return j;
    return -1;
}

static void test_probe(void **state) {
    (void)state;
    enum { N = 60, PER = 3, K = 10 };
    fl_rng r;
    fl_rng_init(&r, 5, 0);
    fl_task_data td = {FL_TASK_FASHION, N, malloc(N * FL_TASK_DIM * sizeof(float)), malloc(N * sizeof(int))};
    for (int i = 0; i < N; i++) {
        td.label[i] = i % 10;
        for (int j = 0; j < FL_TASK_DIM; j++) td.x[i * FL_TASK_DIM + j] = fl_rng_float(&r);
    }
    fl_mlp base, m;
    assert_int_equal(fl_mlp_create_from_spec(&base, "785-16-12-10"), 0);
    assert_int_equal(fl_mlp_create_from_spec(&m, "785-16-12-10"), 0);
    fl_mlp_init(&base, &r);
    fl_circuit_probe p;
    assert_int_equal(fl_circuit_probe_init(&p, &base, &td, PER, NULL, 1), 0);
    assert_int_equal(p.opts.loss, FL_AP_LOSS_KL);
    assert_int_equal(p.opts.corrupt, FL_AP_CORRUPT_WITHIN);
    assert_int_equal(p.opts.ig_steps, 5);
    assert_int_equal(p.ex.n, K * PER);
    for (int c = 0; c < K; c++) assert_int_equal(p.ex.count[c], PER);
    for (int i = 0; i < K * PER; i++) {
        assert_int_equal(p.ex.label[i], i / PER); /* grouped by class */
        const int self = row_of(&td, p.ex.x + (size_t)i * FL_TASK_DIM);
        const int within = row_of(&td, p.ex.xc + (size_t)i * FL_TASK_DIM);
        assert_true(self >= 0 && within >= 0);
        assert_true(within != self && td.label[within] == td.label[self]);
        assert_int_equal(p.ex.partner[i] / PER, i / PER); /* a partner of the same class */
        assert_int_equal(row_of(&td, p.ex.x + (size_t)p.ex.partner[i] * FL_TASK_DIM), within);
        /* The first probe: the same images (PER <= 20 of each class), partners of another class. */
        const int other = row_of(&td, p.ex_cf.xc + (size_t)i * FL_TASK_DIM);
        assert_int_equal(row_of(&td, p.ex_cf.x + (size_t)i * FL_TASK_DIM), self);
        assert_true(other >= 0 && td.label[other] != td.label[self]);
    }
    fl_circuit_probe_result res;
    assert_int_equal(fl_circuit_probe_measure(&p, &base, NULL, &res), 0);
    assert_float_equal(res.drift, 1.0, 1e-12);
    assert_true(res.cs_random_lo <= res.cs_random && res.cs_random <= res.cs_random_hi);
    /* A different model: both figures from its vectors, independently. */
    memcpy(m.blob.params, base.blob.params, base.blob.n * sizeof(float));
    for (size_t i = 0; i < m.blob.n; i += 3) m.blob.params[i] += 0.05f * (float)fl_rng_normal(&r);
    float *vec = malloc(K * (size_t)p.nc * sizeof(float));
    assert_int_equal(fl_circuit_probe_measure(&p, &m, vec, &res), 0);
    double cs = 0, drift = 0;
    for (int a = 0; a < K; a++) {
        drift += naive_spearman(vec + (size_t)a * p.nc, p.base_vec + (size_t)a * p.nc, p.nc) / K;
        for (int b = 0; b < K; b++)
            if (a != b) cs += naive_spearman(vec + (size_t)a * p.nc, vec + (size_t)b * p.nc, p.nc) / (K * (K - 1));
    }
    assert_float_equal(res.cs, cs, 1e-9);
    assert_float_equal(res.drift, drift, 1e-9);
    assert_true(res.drift < 1.0);
    assert_true(isfinite(res.cs_ce_ap) && res.cs_ce_ap != res.cs);
    free(vec);
    fl_circuit_probe_free(&p);
    fl_mlp_free(&base);
    fl_mlp_free(&m);
    fl_task_free(&td);
}

TU_MAIN(cmocka_unit_test(test_probe))
