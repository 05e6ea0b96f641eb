/* capi.h: the C API of the Python package (python/forgetlab, through
 * ctypes): plain C types, errors as return codes with their message from
 * fl_capi_error. The shared library build/libforgetlab.so exports these
 * functions and nothing else (src/capi/capi.map); the static library and
 * the CLI do not need them. */
#ifndef FORGETLAB_CAPI_H
#define FORGETLAB_CAPI_H

/* The library's version ("0.1.0"). */
const char *fl_capi_version(void);
/* The message of the last error of this thread. */
const char *fl_capi_error(void);
/* The divergences of a fine-tuned model's logits z1 from its base's z0,
 * both [n, V] float32, row-major, every value finite: out[5] = forward KL
 * KL(pi_0 || pi), reverse KL, total variation, L2 and Jensen-Shannon, each
 * averaged over the n rows (divergence.h). 0, or -1 with the error set. */
int fl_capi_divergences(const float *z0, const float *z1, int n, int V, double *out);

#endif
