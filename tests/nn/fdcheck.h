/* fdcheck.h: the finite-difference harness the layer and objective tests
 * share.
 *
 * fd_grad is one central difference of a double-precision reference f;
 * check_grad compares an analytic float gradient with them (eps 1e-6, so
 * the reference gradient is exact to ~1e-9 and the tolerance only has to
 * absorb float rounding in the code under test). Header-only: each test is
 * its own executable. */
#ifndef FORGETLAB_TEST_FDCHECK_H
#define FORGETLAB_TEST_FDCHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forgetlab/core/rng.h"

#include <math.h>
#include <stdlib.h>

#define EPS 1e-6
#define TOL 2e-4

static fl_rng g_rng;

static inline void fill(float *x, int n, float scale) {
    for (int i = 0; i < n; i++) x[i] = scale * (float)fl_rng_normal(&g_rng);
}

static inline void assert_close(double got, double want, double tol, const char *what, int i) {
    double err = fabs(got - want), lim = tol * fmax(1.0, fabs(want));
    if (!(err <= lim)) fail_msg("%s[%d]: got %.9g, want %.9g (|diff| %.3g > %.3g)", what, i, got, want, err, lim);
}

/* ---- a generic FD harness: f maps a double parameter vector to L ---- */
typedef double (*scalar_fn)(const double *theta, void *ctx);

/* dL/dtheta_i by central differences of f at theta; theta[i] is put back. */
static inline double fd_grad(scalar_fn f, void *ctx, double *theta, int i) {
    double keep = theta[i];
    theta[i] = keep + EPS;
    double up = f(theta, ctx);
    theta[i] = keep - EPS;
    double down = f(theta, ctx);
    theta[i] = keep;
    return (up - down) / (2 * EPS);
}

/* Checks grad[i] (float, analytic) against dL/dtheta_i by central
 * differences of f at theta (float values, promoted). */
static inline void check_grad(scalar_fn f, void *ctx, const float *theta_f, int n, const float *grad,
                       const char *what) {
    double *theta = malloc((size_t)n * sizeof(double));
    for (int i = 0; i < n; i++) theta[i] = theta_f[i];
    for (int i = 0; i < n; i++) assert_close(grad[i], fd_grad(f, ctx, theta, i), TOL, what, i);
    free(theta);
}

#endif
