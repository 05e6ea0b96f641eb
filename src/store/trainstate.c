/* trainstate.c: a training run's resumable state to and from a
 * safetensors file (see trainstate.h). Scalars and RNG states travel as
 * metadata strings (exact), arrays as F32 tensors. */
#include "forgetlab/store/trainstate.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/io/safetensors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_META 64

static const char *const SLAB_PREFIX[3] = {"", "adam_m.", "adam_v."};

static float *slab(const fl_blob *b, int part) { return part == 0 ? b->params : part == 1 ? b->m : b->v; }

int fl_trainstate_save(const char *path, const fl_trainstate *s) {
    const fl_blob *b = s->blob;
    const int nv = b->nviews, nt = 3 * nv + s->nints + s->nfloats, nm = 4 + s->nrngs + s->nlongs + s->ndoubles;
    if (nm > MAX_META) return fl_error_set("%s: too many state entries", path);
    fl_st_tensor *ts = calloc((size_t)nt, sizeof *ts);
    char(*names)[FL_NAME_MAX + 8] = calloc((size_t)nt, sizeof *names);
    char(*vals)[96] = calloc(MAX_META, sizeof *vals);
    float **arrays = calloc((size_t)s->nints + 1, sizeof *arrays);
    const char *keys[MAX_META], *values[MAX_META];
    int rc = -1, m = 0;
    if (!ts || !names || !vals || !arrays) {
        fl_error_set("out of memory");
        goto out;
    }
    for (int part = 0; part < 3; part++)
        for (int i = 0; i < nv; i++) {
            const fl_view *v = &b->views[i];
            fl_st_tensor *t = &ts[part * nv + i];
            snprintf(names[part * nv + i], sizeof names[0], "%s%s", SLAB_PREFIX[part], v->name);
            t->name = names[part * nv + i];
            t->ndim = v->ndim;
            for (int k = 0; k < v->ndim; k++) t->shape[k] = v->shape[k];
            t->numel = (int64_t)v->numel;
            t->data = slab(b, part) + v->offset;
        }
    for (int i = 0; i < s->nints; i++) {
        fl_st_tensor *t = &ts[3 * nv + i];
        const int n = s->ints[i].n;
        if (!(arrays[i] = malloc(sizeof(float) * (n ? n : 1)))) {
            fl_error_set("out of memory");
            goto out;
        }
        for (int j = 0; j < n; j++) arrays[i][j] = (float)s->ints[i].data[j];
        snprintf(names[3 * nv + i], sizeof names[0], "int.%s", s->ints[i].name);
        t->name = names[3 * nv + i];
        t->ndim = 1;
        t->shape[0] = n;
        t->numel = n;
        t->data = arrays[i];
    }
    for (int i = 0; i < s->nfloats; i++) {
        fl_st_tensor *t = &ts[3 * nv + s->nints + i];
        snprintf(names[3 * nv + s->nints + i], sizeof names[0], "float.%s", s->floats[i].name);
        t->name = names[3 * nv + s->nints + i];
        t->ndim = 1;
        t->shape[0] = (int64_t)s->floats[i].n;
        t->numel = (int64_t)s->floats[i].n;
        t->data = s->floats[i].data;
    }
    keys[m] = "format", values[m++] = "forgetlab-state";
    keys[m] = "kind", values[m++] = s->kind;
    keys[m] = "config", values[m++] = s->config;
    for (int i = 0; i < s->nrngs; i++, m++) {
        const uint64_t *w = s->rngs[i].rng->s;
        snprintf(vals[m], sizeof vals[0], "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, w[0], w[1],
                 w[2], w[3]);
        keys[m] = s->rngs[i].name, values[m] = vals[m];
    }
    for (int i = 0; i < s->nlongs; i++, m++) {
        snprintf(vals[m], sizeof vals[0], "%ld", *s->longs[i].value);
        keys[m] = s->longs[i].name, values[m] = vals[m];
    }
    for (int i = 0; i < s->ndoubles; i++, m++) {
        snprintf(vals[m], sizeof vals[0], "%.17g", *s->doubles[i].value);
        keys[m] = s->doubles[i].name, values[m] = vals[m];
    }
    /* The optimizer step count is one more counter. */
    char t_text[32];
    snprintf(t_text, sizeof t_text, "%ld", *s->opt_t);
    keys[m] = "adam_t", values[m++] = t_text;
    rc = fl_safetensors_write(path, ts, nt, keys, values, m);
out:
    for (int i = 0; arrays && i < s->nints; i++) free(arrays[i]);
    free(arrays), free(ts), free(names), free(vals);
    return rc;
}

static int meta_long(const fl_safetensors *st, const char *key, const char *path, long *out) {
    const char *s = fl_safetensors_meta(st, key);
    char *end;
    if (!s || (*out = strtol(s, &end, 10), end == s || *end != '\0'))
        return fl_error_set("%s: state entry '%s' missing or malformed", path, key);
    return 0;
}

static int meta_double(const fl_safetensors *st, const char *key, const char *path, double *out) {
    const char *s = fl_safetensors_meta(st, key);
    char *end;
    if (!s || (*out = strtod(s, &end), end == s || *end != '\0'))
        return fl_error_set("%s: state entry '%s' missing or malformed", path, key);
    return 0;
}

/* Tensor name of the state (n values) into data, as it is (F32). */
static int load_floats(const fl_safetensors *st, const char *path, const char *name, float *data, size_t n) {
    const fl_st_tensor *t = fl_safetensors_get(st, name);
    if (!t || t->numel != (int64_t)n) return fl_error_set("%s: tensor %s missing or of the wrong size", path, name);
    memcpy(data, t->data, n * sizeof(float));
    return 0;
}

int fl_trainstate_load(const char *path, const fl_trainstate *s) {
    if (!fl_file_exists(path)) return 0;
    fl_safetensors st;
    if (fl_safetensors_read(path, &st)) return -1;
    int rc = -1;
    const char *kind = fl_safetensors_meta(&st, "kind"), *cfg = fl_safetensors_meta(&st, "config");
    if (!kind || strcmp(kind, s->kind) != 0) {
        fl_error_set("%s: not the state of a %s run", path, s->kind);
        goto out;
    }
    if (!cfg || strcmp(cfg, s->config) != 0) {
        fl_error_set("%s: written by a different configuration; use another --out or remove the directory", path);
        goto out;
    }
    for (int i = 0; i < s->nrngs; i++) {
        const char *v = fl_safetensors_meta(&st, s->rngs[i].name);
        uint64_t w[4];
        if (!v || sscanf(v, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64, &w[0], &w[1], &w[2], &w[3]) != 4) {
            fl_error_set("%s: state entry '%s' missing or malformed", path, s->rngs[i].name);
            goto out;
        }
        memcpy(s->rngs[i].rng->s, w, sizeof w);
    }
    for (int i = 0; i < s->nlongs; i++)
        if (meta_long(&st, s->longs[i].name, path, s->longs[i].value)) goto out;
    for (int i = 0; i < s->ndoubles; i++)
        if (meta_double(&st, s->doubles[i].name, path, s->doubles[i].value)) goto out;
    if (meta_long(&st, "adam_t", path, s->opt_t)) goto out;
    fl_blob *b = s->blob;
    for (int part = 0; part < 3; part++)
        for (int i = 0; i < b->nviews; i++) {
            const fl_view *v = &b->views[i];
            char name[FL_NAME_MAX + 8];
            snprintf(name, sizeof name, "%s%s", SLAB_PREFIX[part], v->name);
            if (load_floats(&st, path, name, slab(b, part) + v->offset, v->numel)) goto out;
        }
    for (int i = 0; i < s->nints; i++) {
        char name[FL_NAME_MAX + 8];
        snprintf(name, sizeof name, "int.%s", s->ints[i].name);
        const fl_st_tensor *t = fl_safetensors_get(&st, name);
        if (!t || t->numel != s->ints[i].n) {
            fl_error_set("%s: array %s missing or of the wrong size", path, name);
            goto out;
        }
        for (int j = 0; j < s->ints[i].n; j++) s->ints[i].data[j] = (int)t->data[j];
    }
    for (int i = 0; i < s->nfloats; i++) {
        char name[FL_NAME_MAX + 8];
        snprintf(name, sizeof name, "float.%s", s->floats[i].name);
        if (load_floats(&st, path, name, s->floats[i].data, s->floats[i].n)) goto out;
    }
    rc = 1;
out:
    fl_safetensors_free(&st);
    return rc;
}
