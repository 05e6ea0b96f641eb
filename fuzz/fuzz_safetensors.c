/* fuzz_safetensors.c: model files come from elsewhere (a shared run
 * directory, a download, another tool), so fl_safetensors_read must turn any
 * bytes into either a checked tensor table or one error, never a crash, an
 * over-read or a huge allocation. On success the table is used the way
 * callers use it, and its invariants are checked. */
#include "fuzz_util.h"

#include "forgetlab/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = fz_path("model.safetensors");
    fz_write(path, data, size);
    fl_safetensors st;
    if (fl_safetensors_read(path, &st) != 0) return 0;
    for (int i = 0; i < st.ntensors; i++) {
        const fl_st_tensor *t = &st.tensors[i];
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
        /* Names are unique and each tensor holds exactly its shape. */
        if (fl_safetensors_get(&st, t->name) != t || n != t->numel || t->ndim > FL_ST_MAX_DIMS)
            abort();
        if (n > 0) {
            volatile float last = t->data[n - 1];
            (void)last;
        }
    }
    for (int i = 0; i < st.nmeta; i++)
        if (!fl_safetensors_meta(&st, st.meta_keys[i])) abort();
    fl_safetensors_free(&st);
    return 0;
}
