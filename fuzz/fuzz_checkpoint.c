/* fuzz_checkpoint.c: fl_mlp_load, the step after the safetensors reader
 * that every command taking --model or --base runs: it trusts the file's
 * "spec" metadata to build the network, then matches the tensors to it. A
 * hostile spec or tensor table must cost an error, not memory. */
#include "fuzz_util.h"

#include "forgetlab/store/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = fz_path("model.safetensors");
    fz_write(path, data, size);
    fl_mlp m;
    char *config = NULL;
    if (fl_mlp_load(path, &m, &config) != 0) return 0;
    if (!config || m.nlayers < 1) abort();
    free(config);
    fl_mlp_free(&m);
    return 0;
}
