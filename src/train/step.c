/* step.c: minibatch order, batch gathering, and the supervised
 * cross-entropy step shared by pretraining and SFT fine-tuning. */
#include "forgetlab/train/step.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fl_batcher_init(fl_batcher *bt, int n, int batch, fl_rng *rng) {
    memset(bt, 0, sizeof *bt);
    if (n < 1 || batch < 1) return fl_error_set("batcher: %d examples, batch %d", n, batch);
    bt->order = fl_malloc((size_t)n * sizeof(int), "batch order");
    if (!bt->order) return -1;
    bt->n = n;
    bt->batch = batch;
    bt->rng = rng;
    bt->pos = n; /* forces a shuffle before the first batch */
    bt->epoch = -1;
    return 0;
}

void fl_batcher_free(fl_batcher *bt) {
    free(bt->order);
    memset(bt, 0, sizeof *bt);
}

int fl_batcher_next(fl_batcher *bt, const int **idx) {
    if (bt->pos >= bt->n) {
        for (int i = 0; i < bt->n; i++) bt->order[i] = i;
        fl_rng_shuffle(bt->rng, bt->order, bt->n);
        bt->pos = 0;
        bt->epoch++;
    }
    int B = bt->n - bt->pos < bt->batch ? bt->n - bt->pos : bt->batch;
    *idx = bt->order + bt->pos;
    bt->pos += B;
    return B;
}

int fl_batcher_steps_per_epoch(const fl_batcher *bt) { return (bt->n + bt->batch - 1) / bt->batch; }

void fl_gather_rows(float *out, const float *x, int dim, const int *idx, int B) {
    for (int i = 0; i < B; i++)
        memcpy(out + (size_t)i * dim, x + (size_t)idx[i] * dim, (size_t)dim * sizeof(float));
}

void fl_gather_ints(int *out, const int *y, const int *idx, int B) {
    for (int i = 0; i < B; i++) out[i] = y[idx[i]];
}

int fl_classifier_step_alloc(fl_classifier_step *s, const fl_mlp *m, int cap_B) {
    memset(s, 0, sizeof *s);
    s->cap_B = cap_B;
    s->V = m->dims[m->nlayers];
    size_t n = (size_t)cap_B * s->V;
    if (fl_mlp_acts_alloc(&s->acts, m, cap_B)) return -1;
    s->probs = fl_calloc(3 * n, sizeof(float), "classifier step");
    if (!s->probs) {
        fl_mlp_acts_free(&s->acts);
        return -1;
    }
    s->logp = s->probs + n;
    s->dlogits = s->probs + 2 * n;
    return 0;
}

void fl_classifier_step_free(fl_classifier_step *s) {
    fl_mlp_acts_free(&s->acts);
    free(s->probs);
    memset(s, 0, sizeof *s);
}

float fl_classifier_ce_step(fl_mlp *m, fl_classifier_step *s, const float *x, const int *y,
                     const float *soft, int B) {
    const int V = s->V;
    const float *logits = fl_mlp_forward(m, &s->acts, x, B);
    fl_softmax_forward(s->probs, logits, B, V);
    fl_log_softmax_forward(s->logp, logits, B, V);
    memset(s->dlogits, 0, (size_t)B * V * sizeof(float));
    float loss;
    if (soft) {
        loss = fl_soft_crossentropy_forward(NULL, s->logp, soft, B, V);
        fl_soft_crossentropy_backward(s->dlogits, s->probs, soft, B, V, 1.0f / (float)B);
    } else {
        loss = fl_crossentropy_forward(NULL, s->logp, y, B, V);
        fl_crossentropy_backward(s->dlogits, s->probs, y, B, V, 1.0f / (float)B);
    }
    fl_mlp_backward(m, &s->acts, s->dlogits, NULL, B);
    return loss;
}

/* The first view of a slab holding a non-finite value, or NULL. */
static const char *nonfinite_view(const fl_blob *b, const float *slab) {
    for (int v = 0; v < b->nviews; v++) {
        const float *p = slab + b->views[v].offset;
        float acc = 0.0f;
        /* inf - inf and NaN propagate into the sum: one pass, no branch. */
        for (size_t i = 0; i < b->views[v].numel; i++) acc += p[i] * 0.0f;
        if (acc != 0.0f) return b->views[v].name;
    }
    return NULL;
}

int fl_check_finite(float loss, const fl_blob *b, long step, int grads_too) {
    if (!isfinite(loss)) return fl_error_set("diverged at step %ld: the loss is %g (try a lower --lr)", step, loss);
    if (!b) return 0;
    const char *bad = nonfinite_view(b, grads_too ? b->grads : b->params);
    if (bad)
        return fl_error_set("diverged at step %ld: the %s of %s is not finite (try a lower --lr)", step,
                            grads_too ? "gradient" : "value", bad);
    return 0;
}
