/* checkpoint.c: models to and from safetensors files, with the
 * architecture in __metadata__ so a file describes itself. The MLP and the
 * transformer share the code: a model is a blob of named views plus a spec
 * string its constructor understands. */
#include "forgetlab/store/checkpoint.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/io/safetensors.h"
#include "forgetlab/nn/transformer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A tensor written beside the blob's views as a copy of one of them (the
 * language model's lm_head.weight, tied to its token embedding). */
typedef struct {
    const char *name, *copy_of;
} tied_tensor;

static int save_blob(const char *path, const fl_blob *b, const char *arch, const char *spec,
                     const char *activation, const char *config_json, const tied_tensor *tied) {
    fl_st_tensor ts[FL_MAX_VIEWS + 1];
    int n = b->nviews;
    for (int i = 0; i < b->nviews; i++) {
        const fl_view *v = &b->views[i];
        memset(&ts[i], 0, sizeof ts[i]);
        ts[i].name = (char *)v->name;
        ts[i].ndim = v->ndim;
        for (int d = 0; d < v->ndim; d++) ts[i].shape[d] = v->shape[d];
        ts[i].numel = (int64_t)v->numel;
        ts[i].data = b->params + v->offset;
        if (tied && !strcmp(v->name, tied->copy_of)) {
            ts[n] = ts[i];
            ts[n++].name = (char *)tied->name;
        }
    }
    const char *keys[] = {"format", "arch", "spec", "activation", "version", "config"};
    const char *vals[] = {"forgetlab", arch, spec, activation, FORGETLAB_VERSION, config_json ? config_json : "{}"};
    return fl_safetensors_write(path, ts, n, keys, vals, 6);
}

int fl_mlp_save(const char *path, const fl_mlp *m, const char *config_json) {
    char spec[256];
    fl_mlp_spec_string(m, spec, sizeof spec);
    return save_blob(path, &m->blob, "mlp", spec, "relu", config_json, NULL);
}

int fl_tf_save(const char *path, const fl_transformer *m, const char *config_json) {
    char spec[256];
    fl_tf_spec_string(&m->cfg, spec, sizeof spec);
    return save_blob(path, &m->blob, "transformer", spec, m->cfg.act == FL_TF_GELU ? "gelu" : "relu",
                     config_json, NULL);
}

/* A directory means its model.safetensors. */
static char *resolve_path(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return fl_path_join(path, "model.safetensors");
    return strdup(path);
}

/* How an architecture is rebuilt from its spec: the parameter count the
 * spec implies (-1 with an error if malformed), the model itself, and its
 * blob. */
typedef struct {
    const char *arch;
    int64_t (*count)(const char *spec);
    int (*create)(void *model, const char *spec);
    fl_blob *(*blob_of)(void *model);
    const tied_tensor *tied;   /* a tensor that must equal a view (NULL: none) */
} arch_ops;

/* A file without forgetlab's metadata, written by PyTorch say: an MLP
 * when its tensors are exactly layers.{i}.weight [out, in] and
 * layers.{i}.bias [out] for i = 0 .. L-1, each layer's in the previous
 * one's out (ReLU between them, as forgetlab's MLPs). Its spec into buf, or
 * 0 when the names and shapes do not say. */
static int infer_mlp_spec(const fl_safetensors *st, char *buf, size_t n) {
    const int L = st->ntensors / 2;
    if (st->ntensors < 2 || st->ntensors % 2 || L > FL_MLP_MAX_LAYERS) return 0;
    size_t off = 0;
    int64_t prev_out = -1;
    for (int l = 0; l < L; l++) {
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, "layers.%d.weight", l);
        snprintf(bn, sizeof bn, "layers.%d.bias", l);
        const fl_st_tensor *w = fl_safetensors_get(st, wn), *b = fl_safetensors_get(st, bn);
        if (!w || !b || w->ndim != 2 || b->ndim != 1 || b->shape[0] != w->shape[0]) return 0;
        if (l > 0 && w->shape[1] != prev_out) return 0;
        if (l == 0) off += (size_t)snprintf(buf + off, n - off, "%lld", (long long)w->shape[1]);
        if (off < n) off += (size_t)snprintf(buf + off, n - off, "-%lld", (long long)w->shape[0]);
        prev_out = w->shape[0];
    }
    return off < n;
}

/* Every weight finite: a NaN or infinity in a loaded model would poison
 * every number computed from it, far from its cause. */
static int check_finite(const fl_blob *b, const char *path) {
    for (int i = 0; i < b->nviews; i++) {
        const fl_view *v = &b->views[i];
        const float *p = b->params + v->offset;
        for (size_t j = 0; j < v->numel; j++)
            if (!(p[j] - p[j] == 0.0f))
                return fl_error_set("%s: tensor %s holds a non-finite value (%g) at index %zu", path, v->name,
                                    (double)p[j], j);
    }
    return 0;
}

static int load_into(void *model, const fl_safetensors *st, const char *path, const arch_ops *ops) {
    const char *want_arch = ops->arch;
    const char *arch = fl_safetensors_meta(st, "arch");
    const char *spec = fl_safetensors_meta(st, "spec");
    char inferred[256];
    if (!arch && !strcmp(want_arch, "mlp") && infer_mlp_spec(st, inferred, sizeof inferred))
        arch = "mlp", spec = inferred;
    if (!arch || strcmp(arch, want_arch) != 0)
        return fl_error_set(arch ? "%s: not a checkpoint of arch '%s' (its metadata says '%s')"
                                 : "%s: not a checkpoint of arch '%s': no forgetlab metadata, and its tensors are "
                                   "not an MLP's layers.{i}.weight / layers.{i}.bias%s",
                            path, want_arch, arch ? arch : "");
    if (!spec) return fl_error_set("%s: metadata has no model spec", path);
    /* The spec is a few bytes of metadata that could ask for gigabytes; the
     * tensors are backed by the file. Compare sizes before allocating. */
    int64_t want = ops->count(spec), have = 0;
    if (want < 0) return fl_error_wrap("%s", path);
    const fl_st_tensor *tied = ops->tied ? fl_safetensors_get(st, ops->tied->name) : NULL;
    for (int i = 0; i < st->ntensors; i++) have += st->tensors[i].numel;
    if (tied) have -= tied->numel;
    if (want != have)
        return fl_error_set("%s: the tensors hold %lld parameters, spec %s needs %lld", path, (long long)have, spec,
                            (long long)want);
    if (ops->create(model, spec)) return fl_error_wrap("%s", path);
    fl_blob *b = ops->blob_of(model);
    if (st->ntensors - (tied != NULL) != b->nviews)
        return fl_error_set("%s: %d tensors, spec %s needs %d", path, st->ntensors, spec, b->nviews);
    for (int i = 0; i < b->nviews; i++) {
        const fl_view *v = &b->views[i];
        const fl_st_tensor *t = fl_safetensors_get(st, v->name);
        if (!t) return fl_error_set("%s: tensor %s missing", path, v->name);
        int ok = t->ndim == v->ndim;
        for (int d = 0; ok && d < v->ndim; d++) ok = t->shape[d] == v->shape[d];
        if (!ok) return fl_error_set("%s: tensor %s has the wrong shape for spec %s", path, v->name, spec);
        memcpy(b->params + v->offset, t->data, v->numel * sizeof(float));
        /* A tied copy must be the same tensor: weights that were not tied
         * are not this model's. */
        if (tied && !strcmp(v->name, ops->tied->copy_of) &&
            (tied->numel != t->numel || memcmp(tied->data, t->data, sizeof(float) * (size_t)t->numel)))
            return fl_error_set("%s: %s differs from %s, to which this model ties it", path, ops->tied->name, v->name);
    }
    return check_finite(b, path);
}

static int load_model(const char *path, void *model, char **config_json, const arch_ops *ops) {
    char *file = resolve_path(path);
    if (!file) return fl_error_set("out of memory");
    fl_safetensors st;
    if (fl_safetensors_read(file, &st)) {
        free(file);
        return -1;
    }
    int rc = load_into(model, &st, file, ops);
    if (rc == 0 && config_json) {
        const char *cfg = fl_safetensors_meta(&st, "config");
        *config_json = strdup(cfg ? cfg : "{}");
    }
    if (rc) fl_blob_free(ops->blob_of(model));
    fl_safetensors_free(&st);
    free(file);
    return rc;
}

static int64_t mlp_count(const char *spec) {
    int nlayers, dims[FL_MLP_MAX_LAYERS + 1];
    if (fl_mlp_parse_spec(spec, &nlayers, dims)) return -1;
    int64_t n = 0;
    for (int l = 0; l < nlayers; l++) n += (int64_t)dims[l + 1] * (dims[l] + 1);
    return n;
}
static int mlp_create(void *m, const char *spec) { return fl_mlp_create_from_spec(m, spec); }
static fl_blob *mlp_blob(void *m) { return &((fl_mlp *)m)->blob; }

static int64_t tf_count(const char *spec) {
    fl_tf_config c;
    return fl_tf_parse_spec(spec, &c) ? -1 : fl_tf_param_count(&c);
}
static int tf_create(void *m, const char *spec) {
    fl_tf_config c;
    return fl_tf_parse_spec(spec, &c) ? -1 : fl_tf_create(m, &c);
}
static fl_blob *tf_blob(void *m) { return &((fl_transformer *)m)->blob; }

static int64_t gpt_count(const char *spec) {
    fl_gpt_config c;
    return fl_gpt_parse_spec(spec, &c) ? -1 : fl_gpt_param_count(&c);
}
static int gpt_create(void *m, const char *spec) {
    fl_gpt_config c;
    return fl_gpt_parse_spec(spec, &c) ? -1 : fl_gpt_create(m, &c);
}
static fl_blob *gpt_blob(void *m) { return &((fl_gpt *)m)->blob; }
/* nanoGPT's state dict holds lm_head.weight, tied to the token embedding. */
static const tied_tensor GPT_HEAD = {"lm_head.weight", "transformer.wte.weight"};

static const arch_ops MLP_OPS = {"mlp", mlp_count, mlp_create, mlp_blob, NULL};
static const arch_ops TF_OPS = {"transformer", tf_count, tf_create, tf_blob, NULL};
static const arch_ops GPT_OPS = {"gpt", gpt_count, gpt_create, gpt_blob, &GPT_HEAD};

int fl_gpt_save(const char *path, const fl_gpt *m, const char *config_json) {
    char spec[256];
    fl_gpt_spec_string(&m->cfg, spec, sizeof spec);
    return save_blob(path, &m->blob, "gpt", spec, "gelu", config_json, &GPT_HEAD);
}

int fl_gpt_load(const char *path, fl_gpt *m, char **config_json) {
    memset(m, 0, sizeof *m);
    return load_model(path, m, config_json, &GPT_OPS);
}

int fl_mlp_load(const char *path, fl_mlp *m, char **config_json) {
    memset(m, 0, sizeof *m);
    return load_model(path, m, config_json, &MLP_OPS);
}

int fl_tf_load(const char *path, fl_transformer *m, char **config_json) {
    memset(m, 0, sizeof *m);
    return load_model(path, m, config_json, &TF_OPS);
}

int fl_checkpoint_arch(const char *path, char *arch, size_t n) {
    char *file = resolve_path(path), inferred[256];
    fl_safetensors st;
    if (!file) return fl_error_set("out of memory");
    int rc = fl_safetensors_read(file, &st);
    if (rc == 0) {
        const char *a = fl_safetensors_meta(&st, "arch");
        if (!a && infer_mlp_spec(&st, inferred, sizeof inferred)) a = "mlp";
        if (a) snprintf(arch, n, "%s", a);
        else rc = fl_error_set("%s: not a forgetlab model: no metadata, and its tensors are not an MLP's", file);
        fl_safetensors_free(&st);
    }
    free(file);
    return rc;
}
