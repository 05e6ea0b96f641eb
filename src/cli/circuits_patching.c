/* circuits_patching.c: `circuits --check-patching N`: how well attribution
 * patching ranks what real activation patching measures on this model.
 * The scores are first-order estimates of the patched loss changes; on a
 * trained model the two can part where the loss is far from linear in a
 * component, and this check says by how much, on N examples. */
#include "circuits.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/rundir.h"
#include "forgetlab/stats.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

int fl_circuits_write_patching(const circuits_args *a, int n, int nc, const float *score, const float *change) {
    const size_t np = (size_t)n * nc;
    double *s = malloc(sizeof(double) * np), *c = malloc(sizeof(double) * np);
    double *ms = calloc((size_t)nc, sizeof(double)), *mc = calloc((size_t)nc, sizeof(double));
    cJSON *out = cJSON_CreateObject();
    char *path = fl_path_join(a->out, "patching.json");
    int rc = -1;
    if (!s || !c || !ms || !mc || !out || !path) {
        fl_error_set("--check-patching: out of memory");
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        s[i] = score[i], c[i] = change[i];
        ms[i % nc] += score[i] / n, mc[i % nc] += change[i] / n;
    }
    /* Over every (example, component) pair, and over the components of the
     * means, which is what a circuit vector holds. */
    const double pairs = fl_spearman(s, c, (int)np), means = fl_spearman(ms, mc, nc);
    cJSON_AddNumberToObject(out, "examples", n);
    cJSON_AddNumberToObject(out, "components", nc);
    cJSON_AddItemToObject(out, "spearman_pairs", pairs == pairs ? cJSON_CreateNumber(pairs) : cJSON_CreateNull());
    cJSON_AddItemToObject(out, "spearman_means", means == means ? cJSON_CreateNumber(means) : cJSON_CreateNull());
    if (fl_json_write_file(path, out)) goto done;
    printf("circuits: attribution against real patching on %d examples x %d components: Spearman %.4f over pairs, "
           "%.4f over the components' means -> %s\n", n, nc, pairs, means, path);
    rc = 0;
done:
    free(s), free(c), free(ms), free(mc), free(path);
    cJSON_Delete(out);
    return rc;
}
