/* fuzz_json.c: fl_json_read_file, the reader of config.json, summary.json
 * and the other JSON files of a run directory, which a user may edit by
 * hand. */
#include "fuzz_util.h"

#include "forgetlab/store/rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = fz_path("config.json");
    fz_write(path, data, size);
    cJSON *obj = NULL;
    if (fl_json_read_file(path, &obj) == 0) {
        if (!obj) abort();
        cJSON_Delete(obj);
    }
    return 0;
}
