/* capi.c: the C API the Python package calls (capi.h), over the library's
 * own functions: inputs checked, errors kept for fl_capi_error. This file:
 * the version, errors, the log's sink, threads, the environment and
 * divergences; models in capi_model.c,
 * circuits in capi_circuits.c. */
#include "forgetlab/capi/capi.h"

#include "forgetlab/core/blas.h"
#include "forgetlab/measure/divergence.h"
#include "forgetlab/core/error.h"
#include "forgetlab/core/log.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

const char *fl_capi_version(void) { return FORGETLAB_VERSION; }

const char *fl_capi_error(void) { return fl_error_msg(); }

int fl_capi_set_threads(int n) {
    if (n < 0) return fl_error_set("threads %d: at least 0 (0: every core)", n);
    return fl_set_threads(n);
}

void fl_capi_set_log(void (*fn)(int level, const char *line, void *ctx), void *ctx) { fl_log_set_sink(fn, ctx); }

char *fl_capi_environment(void) {
    fl_cpu_features f;
    fl_cpu_features_detect(&f);
    const char *to = fl_blas_core_choose(fl_blas_core(), &f, fl_blas_user_core(), getenv("FORGETLAB_BLAS_CORE"));
    cJSON *e = fl_environment_json();
    char *text = NULL;
    if (e && cJSON_AddStringToObject(e, "blas_core_suggested", to ? to : "")) text = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    if (!text) fl_error_set("environment: out of memory");
    return text;
}

int fl_capi_divergences(const float *z0, const float *z1, int n, int V, double *out) {
    if (!z0 || !z1 || !out) return fl_error_set("divergences: a NULL array");
    if (n < 1 || V < 2) return fl_error_set("divergences: %d rows of %d classes (at least 1 and 2)", n, V);
    for (size_t i = 0; i < (size_t)n * V; i++)
        if (!isfinite(z0[i]) || !isfinite(z1[i]))
            return fl_error_set("divergences: element %zu of the %s logits is not finite", i,
                                isfinite(z0[i]) ? "model's" : "base's");
    fl_divergences d;
    if (fl_divergences_logits(&d, z0, z1, n, V)) return -1;
    out[0] = d.forward_kl, out[1] = d.reverse_kl, out[2] = d.tv, out[3] = d.l2, out[4] = d.js;
    return 0;
}
