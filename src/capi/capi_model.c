/* capi_model.c: models for the Python package (capi.h): any checkpoint
 * loaded behind one handle, its logits, its weights by name, and saving it
 * back. The three architectures differ only in their loader, forward pass
 * and saver; a model is otherwise a blob of named views (blob.h). */
#include "capi_int.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"
#include "forgetlab/measure/measure.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

fl_capi_model *fl_capi_load(const char *path) {
    if (!path) return fl_error_set("load: no path"), NULL;
    fl_capi_model *m = calloc(1, sizeof *m);
    if (!m) return fl_error_set("out of memory"), NULL;
    int rc = fl_checkpoint_arch(path, m->arch, sizeof m->arch);
    if (rc == 0 && !strcmp(m->arch, "mlp")) rc = fl_mlp_load(path, &m->mlp, &m->config), m->blob = &m->mlp.blob;
    else if (rc == 0 && !strcmp(m->arch, "transformer")) rc = fl_tf_load(path, &m->tf, &m->config), m->blob = &m->tf.blob;
    else if (rc == 0 && !strcmp(m->arch, "gpt")) rc = fl_gpt_load(path, &m->gpt, &m->config), m->blob = &m->gpt.blob;
    else if (rc == 0) rc = fl_error_set("%s: a model of architecture '%s', which this library cannot run", path, m->arch);
    if (rc) {
        fl_capi_free(m);
        return NULL;
    }
    return m;
}

void fl_capi_free(fl_capi_model *m) {
    if (!m) return;
    if (!strcmp(m->arch, "mlp")) fl_mlp_free(&m->mlp);
    if (!strcmp(m->arch, "transformer")) fl_tf_free(&m->tf);
    if (!strcmp(m->arch, "gpt")) fl_gpt_free(&m->gpt);
    free(m->config);
    free(m);
}

const char *fl_capi_arch(const fl_capi_model *m) { return m->arch; }
const char *fl_capi_config(const fl_capi_model *m) { return m->config ? m->config : "{}"; }

void fl_capi_shape(const fl_capi_model *m, int *shape) {
    if (m->blob == &m->mlp.blob) {
        shape[0] = m->mlp.dims[0], shape[1] = m->mlp.dims[m->mlp.nlayers], shape[2] = 1, shape[3] = 0;
    } else if (m->blob == &m->tf.blob) {
        shape[0] = m->tf.cfg.ctx, shape[1] = m->tf.cfg.n_out, shape[2] = fl_tf_out_positions(&m->tf);
        shape[3] = m->tf.cfg.vocab;
    } else {
        shape[0] = m->gpt.cfg.ctx, shape[1] = m->gpt.cfg.vocab, shape[2] = 0, shape[3] = m->gpt.cfg.vocab;
    }
}

int fl_capi_logits(const fl_capi_model *m, const float *x, int n, float *logits) {
    if (m->blob != &m->mlp.blob) return fl_error_set("logits: a %s takes token ids, not features", m->arch);
    if (n < 1) return fl_error_set("logits: %d examples", n);
    const size_t in = (size_t)m->mlp.dims[0];
    for (size_t i = 0; i < (size_t)n * in; i++)
        if (!isfinite(x[i])) return fl_error_set("logits: input %zu (example %zu) is not finite", i, i / in);
    return fl_mlp_logits(&m->mlp, x, n, logits);
}

static int check_tokens(const int32_t *tok, size_t n, int vocab) {
    for (size_t i = 0; i < n; i++)
        if (tok[i] < 0 || tok[i] >= vocab)
            return fl_error_set("logits: token %zu is %d, outside the vocabulary [0, %d)", i, (int)tok[i], vocab);
    return 0;
}

/* Sequences in chunks of CHUNK, each through the architecture's forward
 * pass into its rows of logits. */
enum { CHUNK = 64 };

static int tf_logits(const fl_transformer *t, const int32_t *tok, int n, float *logits) {
    fl_tf_acts a;
    if (fl_tf_acts_alloc(&a, t, CHUNK)) return -1;
    const size_t per = (size_t)fl_tf_out_positions(t) * t->cfg.n_out;
    for (int i = 0; i < n; i += CHUNK) {
        const int B = n - i < CHUNK ? n - i : CHUNK;
        const float *z = fl_tf_forward(t, &a, (const int *)tok + (size_t)i * t->cfg.ctx, B);
        memcpy(logits + (size_t)i * per, z, sizeof(float) * per * B);
    }
    fl_tf_acts_free(&a);
    return 0;
}

static int gpt_logits(const fl_gpt *g, const int32_t *tok, int n, int T, float *logits) {
    fl_gpt_acts a;
    const int B0 = n < CHUNK ? n : CHUNK;
    if (fl_gpt_acts_alloc(&a, g, B0, T)) return -1;
    const size_t per = (size_t)T * g->cfg.vocab;
    for (int i = 0; i < n; i += B0) {
        const int B = n - i < B0 ? n - i : B0;
        fl_gpt_forward(g, &a, (const int *)tok + (size_t)i * T, NULL, NULL, B, T);
        memcpy(logits + (size_t)i * per, a.logits, sizeof(float) * per * B);
    }
    fl_gpt_acts_free(&a);
    return 0;
}

int fl_capi_logits_tokens(const fl_capi_model *m, const int32_t *tok, int n, int T, float *logits) {
    if (m->blob == &m->mlp.blob) return fl_error_set("logits: an MLP takes features, not token ids");
    if (n < 1) return fl_error_set("logits: %d sequences", n);
    if (m->blob == &m->tf.blob) {
        if (T != m->tf.cfg.ctx) return fl_error_set("logits: sequences of %d tokens; this transformer reads %d", T,
                                                    m->tf.cfg.ctx);
        return check_tokens(tok, (size_t)n * T, m->tf.cfg.vocab) ? -1 : tf_logits(&m->tf, tok, n, logits);
    }
    if (T < 1 || T > m->gpt.cfg.ctx)
        return fl_error_set("logits: sequences of %d tokens; this language model reads 1 to %d", T, m->gpt.cfg.ctx);
    return check_tokens(tok, (size_t)n * T, m->gpt.cfg.vocab) ? -1 : gpt_logits(&m->gpt, tok, n, T, logits);
}

int fl_capi_ntensors(const fl_capi_model *m) { return m->blob->nviews; }

static const fl_view *view(const fl_capi_model *m, int i) {
    if (i < 0 || i >= m->blob->nviews) return fl_error_set("tensor %d: the model has %d", i, m->blob->nviews), NULL;
    return &m->blob->views[i];
}

const char *fl_capi_tensor_name(const fl_capi_model *m, int i) {
    const fl_view *v = view(m, i);
    return v ? v->name : NULL;
}

int fl_capi_tensor_shape(const fl_capi_model *m, int i, int64_t *shape) {
    const fl_view *v = view(m, i);
    if (!v) return -1;
    for (int d = 0; d < v->ndim; d++) shape[d] = v->shape[d];
    return v->ndim;
}

float *fl_capi_tensor_data(fl_capi_model *m, int i) {
    const fl_view *v = view(m, i);
    return v ? m->blob->params + v->offset : NULL;
}

int fl_capi_save(const fl_capi_model *m, const char *path) {
    if (!path) return fl_error_set("save: no path");
    const fl_blob *b = m->blob;
    for (size_t i = 0; i < b->n; i++)
        if (!isfinite(b->params[i])) {
            int k = 0;
            while (k + 1 < b->nviews && b->views[k + 1].offset <= i) k++;
            return fl_error_set("save %s: %s[%zu] is not finite", path, b->views[k].name, i - b->views[k].offset);
        }
    const char *cfg = fl_capi_config(m);
    if (b == &m->mlp.blob) return fl_mlp_save(path, &m->mlp, cfg);
    if (b == &m->tf.blob) return fl_tf_save(path, &m->tf, cfg);
    return fl_gpt_save(path, &m->gpt, cfg);
}

char *fl_capi_measure(const fl_capi_model *base, const fl_capi_model *m, const char *data_dir, int fisher_n,
                      uint64_t seed) {
    if (base->blob != &base->mlp.blob || m->blob != &m->mlp.blob)
        return fl_error_set("measure: two MLPs, not a %s and a %s", base->arch, m->arch), NULL;
    if (fisher_n < 0) return fl_error_set("measure: fisher_n %d, at least 1 (0: the default)", fisher_n), NULL;
    if (fisher_n == 0) fisher_n = FL_MEASURE_FISHER_N;
    fl_measure_ctx ctx = {0};
    fl_measurement r;
    char *text = NULL;
    if (fl_measure_ctx_init(&ctx, &base->mlp, fl_data_dir(data_dir), fisher_n, NULL, seed) == 0 &&
        fl_measure_model(&ctx, &m->mlp, 1, &r) == 0) {
        cJSON *j = fl_measurement_json(&r);
        text = j ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        if (!text) fl_error_set("out of memory");
    }
    fl_measure_ctx_free(&ctx);
    return text;
}

void fl_capi_free_text(char *text) { free(text); }
