/* torchref.h: what the tests against a PyTorch reference share: the
 * fixture file (made by a make_*_fixture.py beside the test, float64 run,
 * float32 stored) read once for the group, its tensors by name, and the
 * element-wise comparison (1e-4 relative, 1e-6 absolute: float32 against a
 * float64 reference). The including test defines FIXTURE. Header-only:
 * each test is its own executable. */
#ifndef FORGETLAB_TEST_TORCHREF_H
#define FORGETLAB_TEST_TORCHREF_H

#include "forgetlab/core/error.h"
#include "forgetlab/io/safetensors.h"

#include <math.h>
#include <stdio.h>

#define RTOL 1e-4
#define ATOL 1e-6

static fl_safetensors g_st;

/* Tensor prefix+name of the fixture, of numel values (-1: any). */
static const float *ref_tensor(const char *prefix, const char *name, int64_t numel) {
    char full[FL_NAME_MAX + 16];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const fl_st_tensor *t = fl_safetensors_get(&g_st, full);
    if (!t) fail_msg("fixture has no tensor '%s'", full);
    if (numel >= 0 && t->numel != numel) fail_msg("fixture tensor '%s' has %lld values", full, (long long)t->numel);
    return t->data;
}

static void assert_all_close(const float *got, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]), lim = fmax(RTOL * fabs((double)want[i]), ATOL);
        if (!(err <= lim))
            fail_msg("%s[%zu]: got %.9g, want %.9g (|diff| %.3g > %.3g)", what, i, (double)got[i], (double)want[i],
                     err, lim);
    }
}

static int ref_setup(void **state) {
    (void)state;
    if (fl_safetensors_read(FIXTURE, &g_st)) {
        fprintf(stderr, "%s\n", fl_error_msg());
        return -1;
    }
    return 0;
}

static int ref_teardown(void **state) {
    (void)state;
    fl_safetensors_free(&g_st);
    return 0;
}

#endif
