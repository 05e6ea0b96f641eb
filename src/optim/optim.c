/* optim.c: AdamW and SGD with momentum over a whole fl_blob, learning-rate
 * schedules, and global gradient-norm clipping. */
#include "forgetlab/optim/optim.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <string.h>

void fl_optim_adamw(fl_optim *o, float beta1, float beta2, float eps, float weight_decay) {
    memset(o, 0, sizeof *o);
    o->kind = FL_OPT_ADAMW;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->weight_decay = weight_decay;
}

void fl_optim_sgd(fl_optim *o, float momentum, float weight_decay) {
    memset(o, 0, sizeof *o);
    o->kind = FL_OPT_SGD;
    o->momentum = momentum;
    o->weight_decay = weight_decay;
}

/* The update loops are vectorised but not threaded: an OpenMP team here
 * would spin-wait after the loop while the next step's GEMMs need the cores
 * (OpenBLAS keeps its own pthread pool), which made steps up to 5x slower. */
static void adamw_step(fl_optim *o, fl_blob *b, float lr) {
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    /* Bias corrections in double: 1 - 0.999^t loses digits in float early on. */
    const float c1 = (float)(1.0 - pow(b1, (double)o->t));
    const float c2 = (float)(1.0 - pow(b2, (double)o->t));
    const float decay = 1.0f - lr * o->weight_decay;
    float *p = b->params, *m = b->m, *v = b->v;
    const float *g = b->grads;
    const size_t n = b->n;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        float mhat = m[i] / c1, vhat = v[i] / c2;
        p[i] = p[i] * decay - lr * mhat / (sqrtf(vhat) + eps);
    }
}

static void sgd_step(fl_optim *o, fl_blob *b, float lr) {
    const float mu = o->momentum, wd = o->weight_decay;
    const int first = o->t == 1;
    float *p = b->params, *buf = b->m;
    const float *g = b->grads;
    const size_t n = b->n;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        if (mu != 0.0f) {
            /* As in PyTorch, the momentum buffer starts at the first gradient. */
            buf[i] = first ? gi : mu * buf[i] + gi;
            gi = buf[i];
        }
        p[i] -= lr * gi;
    }
}

void fl_optim_step(fl_optim *o, fl_blob *b, float lr) {
    o->t++;
    if (o->kind == FL_OPT_ADAMW)
        adamw_step(o, b, lr);
    else
        sgd_step(o, b, lr);
}

float fl_schedule_lr(const fl_schedule *s, long step) {
    if (s->kind == FL_SCHED_CONSTANT) return s->lr;
    if (step < s->warmup) return s->lr * (float)(step + 1) / (float)s->warmup;
    long span = s->total - s->warmup;
    double progress = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
    if (progress > 1.0) progress = 1.0;
    return s->min_lr + (s->lr - s->min_lr) * (float)(0.5 * (1.0 + cos(3.14159265358979323846 * progress)));
}

int fl_schedule_parse(const char *name, fl_sched_kind *out) {
    if (strcmp(name, "constant") == 0) *out = FL_SCHED_CONSTANT;
    else if (strcmp(name, "cosine") == 0) *out = FL_SCHED_COSINE;
    else return fl_error_set("unknown schedule '%s' (expected constant or cosine)", name);
    return 0;
}

float fl_clip_grad_norm(fl_blob *b, float max_norm) {
    double ss = 0.0;
    for (size_t i = 0; i < b->n; i++) ss += (double)b->grads[i] * b->grads[i];
    float norm = (float)sqrt(ss);
    if (max_norm > 0.0f && norm > max_norm) {
        float scale = max_norm / (norm + 1e-6f);
        for (size_t i = 0; i < b->n; i++) b->grads[i] *= scale;
    }
    return norm;
}
