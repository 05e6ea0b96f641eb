/* test_circuit_drift.c: the circuit probe of the prior task: grouped by
 * class with counterfactual partners of another class; the base model has
 * drift 1 against itself; a changed model's figures match a direct
 * recomputation from its circuit vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forgetlab/attribution.h"
#include "forgetlab/measure.h"
#include "forgetlab/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_probe(void **state) {
    (void)state;
    enum { N = 60, PER = 3 };
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
    assert_int_equal(fl_circuit_probe_init(&p, &base, &td, PER, 1), 0);
    for (int c = 0; c < 10; c++) assert_int_equal(p.count[c], PER);
    for (int i = 0; i < 10 * PER; i++) {
        assert_int_equal(p.label[i], i / PER); /* grouped by class */
        /* The partner is an image of another class: find it in the data. */
        int found = -1;
        for (int j = 0; j < N && found < 0; j++)
            if (!memcmp(p.xc + (size_t)i * FL_TASK_DIM, td.x + (size_t)j * FL_TASK_DIM, FL_TASK_DIM * sizeof(float)))
                found = j;
        assert_true(found >= 0 && td.label[found] != p.label[i]);
    }
    double cs, drift;
    assert_int_equal(fl_circuit_probe_measure(&p, &base, NULL, &cs, &drift), 0);
    assert_float_equal(drift, 1.0, 1e-12);
    /* A different model: recompute both figures from its vectors. */
    memcpy(m.blob.params, base.blob.params, base.blob.n * sizeof(float));
    for (size_t i = 0; i < m.blob.n; i += 3) m.blob.params[i] += 0.05f * (float)fl_rng_normal(&r);
    float *vec = malloc(10 * (size_t)p.nc * sizeof(float));
    assert_int_equal(fl_circuit_probe_measure(&p, &m, vec, &cs, &drift), 0);
    double rho[100], a[1000], b[1000], sum = 0;
    fl_cs_matrix(vec, 10, p.nc, rho);
    assert_float_equal(cs, fl_cs_mean(rho, 10), 1e-12);
    for (int c = 0; c < 10; c++) {
        for (int j = 0; j < p.nc; j++) {
            a[j] = vec[c * p.nc + j];
            b[j] = p.base_vec[c * p.nc + j];
        }
        sum += fl_spearman(a, b, p.nc);
    }
    assert_float_equal(drift, sum / 10, 1e-12);
    assert_true(drift < 1.0);
    free(vec);
    fl_circuit_probe_free(&p);
    fl_mlp_free(&base);
    fl_mlp_free(&m);
    fl_task_free(&td);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_probe)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
