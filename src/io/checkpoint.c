/* checkpoint.c: an MLP to and from a safetensors file, with the
 * architecture in __metadata__ so a file describes itself. */
#include "forgetlab/checkpoint.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fl_mlp_save(const char *path, const fl_mlp *m, const char *config_json) {
    const fl_blob *b = &m->blob;
    fl_st_tensor ts[FL_MAX_VIEWS];
    for (int i = 0; i < b->nviews; i++) {
        const fl_view *v = &b->views[i];
        memset(&ts[i], 0, sizeof ts[i]);
        ts[i].name = (char *)v->name;
        ts[i].ndim = v->ndim;
        for (int d = 0; d < v->ndim; d++) ts[i].shape[d] = v->shape[d];
        ts[i].numel = (int64_t)v->numel;
        ts[i].data = b->params + v->offset;
    }
    char spec[256];
    fl_mlp_spec_string(m, spec, sizeof spec);
    const char *keys[] = {"format", "arch", "spec", "activation", "version", "config"};
    const char *vals[] = {"forgetlab", "mlp", spec, "relu", FORGETLAB_VERSION,
                          config_json ? config_json : "{}"};
    return fl_safetensors_write(path, ts, b->nviews, keys, vals, 6);
}

/* A directory means its model.safetensors. */
static char *resolve_path(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return fl_path_join(path, "model.safetensors");
    return strdup(path);
}

static int load_into(fl_mlp *m, const fl_safetensors *st, const char *path) {
    const char *arch = fl_safetensors_meta(st, "arch");
    const char *spec = fl_safetensors_meta(st, "spec");
    if (!arch || strcmp(arch, "mlp") != 0)
        return fl_error_set("%s: not an MLP checkpoint (metadata arch = %s)", path, arch ? arch : "missing");
    if (!spec) return fl_error_set("%s: metadata has no model spec", path);
    int nlayers, dims[FL_MLP_MAX_LAYERS + 1];
    if (fl_mlp_parse_spec(spec, &nlayers, dims)) return fl_error_wrap("%s", path);
    /* The spec is a few bytes of metadata that could ask for gigabytes; the
     * tensors are backed by the file. Compare sizes before allocating. */
    int64_t want = 0, have = 0;
    for (int l = 0; l < nlayers; l++) want += (int64_t)dims[l + 1] * (dims[l] + 1);
    for (int i = 0; i < st->ntensors; i++) have += st->tensors[i].numel;
    if (want != have)
        return fl_error_set("%s: the tensors hold %lld parameters, spec %s needs %lld", path,
                            (long long)have, spec, (long long)want);
    if (fl_mlp_create(m, nlayers, dims)) return fl_error_wrap("%s", path);
    if (st->ntensors != m->blob.nviews)
        return fl_error_set("%s: %d tensors, spec %s needs %d", path, st->ntensors, spec, m->blob.nviews);
    for (int i = 0; i < m->blob.nviews; i++) {
        const fl_view *v = &m->blob.views[i];
        const fl_st_tensor *t = fl_safetensors_get(st, v->name);
        if (!t) return fl_error_set("%s: tensor %s missing", path, v->name);
        int ok = t->ndim == v->ndim;
        for (int d = 0; ok && d < v->ndim; d++) ok = t->shape[d] == v->shape[d];
        if (!ok) return fl_error_set("%s: tensor %s has the wrong shape for spec %s", path, v->name, spec);
        memcpy(m->blob.params + v->offset, t->data, v->numel * sizeof(float));
    }
    return 0;
}

int fl_mlp_load(const char *path, fl_mlp *m, char **config_json) {
    memset(m, 0, sizeof *m);
    char *file = resolve_path(path);
    if (!file) return fl_error_set("out of memory");
    fl_safetensors st;
    if (fl_safetensors_read(file, &st)) {
        free(file);
        return -1;
    }
    int rc = load_into(m, &st, file);
    if (rc == 0 && config_json) {
        const char *cfg = fl_safetensors_meta(&st, "config");
        *config_json = strdup(cfg ? cfg : "{}");
    }
    if (rc) fl_mlp_free(m);
    fl_safetensors_free(&st);
    free(file);
    return rc;
}
