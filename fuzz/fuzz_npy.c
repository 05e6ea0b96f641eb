/* fuzz_npy.c: .npy arrays are read back from NumPy or from earlier runs;
 * the header is a Python dict literal parsed by hand, exactly the kind of
 * code that over-reads on a cut or odd header. */
#include "fuzz_util.h"

#include "forgetlab/io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = fz_path("array.npy");
    fz_write(path, data, size);
    float *x = NULL;
    int ndim = -1;
    int64_t shape[FL_NPY_MAX_DIMS];
    if (fl_npy_read(path, &x, &ndim, shape) != 0) {
        if (x) abort(); /* a refusal hands nothing back */
        return 0;
    }
    if (ndim < 0 || ndim > FL_NPY_MAX_DIMS) abort();
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    /* The data the shape promises is really there. */
    if (n > 0) {
        volatile float last = x[n - 1];
        (void)last;
    }
    free(x);
    return 0;
}
