/* grokforget.c: one fine-tuning run of the grok-forget study
 * (grokforget.h): a copy of the grokked base trained on the new task by
 * one method, measured at every checkpoint.
 *
 * Offline methods (sft1, sft2, oracle) train on targets fixed before the
 * first step; on-policy ones (grpo, grpo-kl, reinforce) sample their
 * answers from the current policy at every step, on the sample stream. */
#include "forgetlab/train/grokforget.h"

#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/train/objectives.h"
#include "forgetlab/train/step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[FL_GF_NMETHODS] = {"sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce"};

const char *fl_gf_method_name(fl_gf_method m) { return NAMES[m]; }

int fl_gf_method_parse(const char *name, fl_gf_method *out) {
    for (int i = 0; i < FL_GF_NMETHODS; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *out = (fl_gf_method)i;
            return 0;
        }
    return fl_error_set("unknown method '%s' (expected sft1, sft2, oracle, grpo, grpo-kl or reinforce)", name);
}

void fl_gf_defaults(fl_gf_config *c) {
    memset(c, 0, sizeof *c);
    c->method = FL_GF_SFT1;
    c->lr = 1e-3, c->epochs = 4, c->batch = 32, c->group_size = 8;
    c->kl_coef = 0.1, c->checkpoint_every = 0.5;
}

/* Everything one run holds between steps. */
typedef struct {
    const fl_gf_config *c;
    const fl_gf_ctx *ctx;
    fl_transformer m;
    fl_tf_acts acts;
    int V, n;                 /* answers; training pairs */
    int *pair;                /* [n] the equation index of each training pair */
    int *y;                   /* [n] sft1 / sft2's target */
    float *q, *logp0;         /* [n, V] oracle's target; the base's log-probabilities */
    int *btok, *by, *actions; /* the batch */
    float *probs, *logp, *dz, *qb, *lq0, *rewards, *adv;
    fl_rng sample;
} gf_run;

static void run_free(gf_run *r) {
    void *bufs[] = {r->pair, r->y, r->q, r->logp0, r->btok, r->by, r->actions, r->probs, r->logp, r->dz, r->qb,
                    r->lq0, r->rewards, r->adv};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    fl_tf_acts_free(&r->acts);
    fl_tf_free(&r->m);
}

/* The copy of the base, the targets and the batch buffers. */
static int run_alloc(gf_run *r, const fl_gf_config *c, const fl_gf_ctx *ctx) {
    const fl_modarith *d = ctx->d;
    const int V = d->p, n = d->n_train, B = c->batch, G = c->group_size;
    memset(r, 0, sizeof *r);
    r->c = c, r->ctx = ctx, r->V = V, r->n = n;
    if (fl_tf_create(&r->m, &ctx->base->cfg) || fl_blob_copy_params(&r->m.blob, &ctx->base->blob) ||
        fl_tf_acts_alloc(&r->acts, &r->m, B))
        return -1;
    const size_t nv = (size_t)n * V, bv = (size_t)B * V;
    r->pair = malloc(sizeof(int) * n), r->y = malloc(sizeof(int) * n);
    r->q = malloc(sizeof(float) * nv), r->logp0 = malloc(sizeof(float) * nv);
    r->btok = malloc(sizeof(int) * B * 4), r->by = malloc(sizeof(int) * B);
    r->actions = malloc(sizeof(int) * B * G), r->rewards = malloc(sizeof(float) * B * G);
    r->adv = malloc(sizeof(float) * B * G);
    r->probs = malloc(sizeof(float) * bv), r->logp = malloc(sizeof(float) * bv), r->dz = malloc(sizeof(float) * bv);
    r->qb = malloc(sizeof(float) * bv), r->lq0 = malloc(sizeof(float) * bv);
    if (!r->pair || !r->y || !r->q || !r->logp0 || !r->btok || !r->by || !r->actions || !r->rewards || !r->adv ||
        !r->probs || !r->logp || !r->dz || !r->qb || !r->lq0)
        return fl_error_set("out of memory");
    float *correct = malloc(sizeof(float) * V), *p0 = malloc(sizeof(float) * V);
    if (!correct || !p0) {
        free(correct), free(p0);
        return fl_error_set("out of memory");
    }
    for (int k = 0; k < n; k++) {
        const int i = d->train[k];
        r->pair[k] = i;
        r->y[k] = c->method == FL_GF_SFT2 ? (d->b[i] - d->a[i] + V) % V : (d->a[i] - d->b[i] + V) % V;
        for (int v = 0; v < V; v++) correct[v] = (float)fl_gf_correct(d->a[i], d->b[i], v, d->p);
        const float *z0 = ctx->z0_new + (size_t)i * V;
        fl_log_softmax_forward(r->logp0 + (size_t)k * V, z0, 1, V);
        fl_softmax_forward(p0, z0, 1, V);
        fl_oracle_target(r->q + (size_t)k * V, p0, correct, 1, V);
    }
    free(correct), free(p0);
    fl_rng_init(&r->sample, c->seed, FL_STREAM_SAMPLE);
    return 0;
}

/* One step's loss on training rows, its gradient accumulated into the
 * blob; *reward: the sampled answers' mean reward (on-policy) or the
 * batch's argmax accuracy. */
static float step_loss(gf_run *r, const int *rows, int B, double *reward) {
    const fl_gf_config *c = r->c;
    const fl_modarith *d = r->ctx->d;
    const int V = r->V, G = c->group_size;
    for (int b = 0; b < B; b++) {
        const int k = rows[b];
        memcpy(r->btok + b * 4, r->ctx->tok_new + (size_t)r->pair[k] * 4, sizeof(int) * 4);
        r->by[b] = r->y[k];
        memcpy(r->qb + (size_t)b * V, r->q + (size_t)k * V, sizeof(float) * V);
        memcpy(r->lq0 + (size_t)b * V, r->logp0 + (size_t)k * V, sizeof(float) * V);
    }
    const float *z = fl_tf_forward(&r->m, &r->acts, r->btok, B);
    fl_softmax_forward(r->probs, z, B, V);
    fl_log_softmax_forward(r->logp, z, B, V);
    memset(r->dz, 0, sizeof(float) * B * V);
    float loss;
    double hits = 0;
    if (c->method == FL_GF_SFT1 || c->method == FL_GF_SFT2) {
        loss = fl_crossentropy_forward(NULL, r->logp, r->by, B, V);
        fl_crossentropy_backward(r->dz, r->probs, r->by, B, V, 1.0f / B);
    } else if (c->method == FL_GF_ORACLE) {
        loss = fl_soft_crossentropy_forward(NULL, r->logp, r->qb, B, V);
        fl_soft_crossentropy_backward(r->dz, r->probs, r->qb, B, V, 1.0f / B);
    } else {
        for (int b = 0; b < B; b++) {
            const int i = r->pair[rows[b]];
            for (int g = 0; g < G; g++) {
                const int a = fl_rng_categorical(&r->sample, r->probs + (size_t)b * V, V);
                r->actions[b * G + g] = a;
                r->rewards[b * G + g] = (float)fl_gf_correct(d->a[i], d->b[i], a, d->p);
                hits += r->rewards[b * G + g];
            }
            if (c->method == FL_GF_REINFORCE) memcpy(r->adv + b * G, r->rewards + b * G, sizeof(float) * G);
            else fl_grpo_advantages(r->adv + b * G, r->rewards + b * G, G, 1e-6f);
        }
        loss = fl_pg_loss(r->dz, r->probs, r->logp, r->actions, r->adv, B, G, V, 1.0f);
        if (c->method == FL_GF_GRPO_KL)
            loss += (float)c->kl_coef * fl_kl_loss(r->dz, r->probs, r->logp, r->lq0, B, V, (float)c->kl_coef);
        *reward = hits / (B * G);
        fl_tf_backward(&r->m, &r->acts, r->dz);
        return loss;
    }
    for (int b = 0; b < B; b++) {
        const float *row = z + (size_t)b * V;
        int best = 0;
        for (int v = 1; v < V; v++) best = row[v] > row[best] ? v : best;
        const int i = r->pair[rows[b]];
        hits += fl_gf_correct(d->a[i], d->b[i], best, d->p);
    }
    *reward = hits / B;
    fl_tf_backward(&r->m, &r->acts, r->dz);
    return loss;
}

static cJSON *measurement_json(const fl_gf_measurement *meas) {
    const char *names[FL_GF_NFIELDS];
    double vals[FL_GF_NFIELDS];
    cJSON *j = cJSON_CreateObject();
    fl_gf_measurement_fields(meas, names, vals);
    for (int i = 0; i < FL_GF_NFIELDS; i++)
        cJSON_AddItemToObject(j, names[i], isfinite(vals[i]) ? cJSON_CreateNumber(vals[i]) : cJSON_CreateNull());
    return j;
}

static cJSON *make_config(const fl_gf_config *c, const fl_gf_ctx *ctx) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "grok-forget finetune");
    cJSON_AddStringToObject(j, "version", FORGETLAB_VERSION);
    cJSON_AddStringToObject(j, "method", fl_gf_method_name(c->method));
    cJSON_AddStringToObject(j, "new_task", "difference: c = a - b or c = b - a (mod p)");
    cJSON_AddStringToObject(j, "old_task", "a + b mod p");
    cJSON_AddNumberToObject(j, "p", ctx->d->p);
    cJSON_AddNumberToObject(j, "train_pairs", ctx->d->n_train);
    cJSON_AddNumberToObject(j, "lr", c->lr);
    cJSON_AddNumberToObject(j, "epochs", c->epochs);
    cJSON_AddNumberToObject(j, "batch", c->batch);
    cJSON_AddNumberToObject(j, "group_size", c->group_size);
    cJSON_AddNumberToObject(j, "kl_coef", c->kl_coef);
    cJSON_AddNumberToObject(j, "checkpoint_every", c->checkpoint_every);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    cJSON_AddNumberToObject(j, "cs_per", ctx->cs_per);
    cJSON_AddStringToObject(j, "optimizer", "adamw betas 0.9/0.999, weight decay 0, constant rate");
    cJSON *streams = cJSON_AddObjectToObject(j, "rng_streams");
    cJSON_AddNumberToObject(streams, "data", FL_STREAM_DATA);
    cJSON_AddNumberToObject(streams, "sample", FL_STREAM_SAMPLE);
    return j;
}

/* Measures the model, and logs the checkpoint's line. */
static int checkpoint(gf_run *r, const fl_rundir *rd, long step, double epoch, float loss, double reward,
                      fl_gf_measurement *meas, double *measure_s) {
    const double t = fl_now();
    if (fl_gf_measure(r->ctx, &r->m, meas)) return -1;
    *measure_s += fl_now() - t;
    cJSON *j = measurement_json(meas);
    cJSON_AddNumberToObject(j, "step", (double)step);
    cJSON_AddNumberToObject(j, "epoch", epoch);
    cJSON_AddNumberToObject(j, "life_epoch", r->c->life_offset + epoch);
    cJSON_AddNumberToObject(j, "loss", loss);
    cJSON_AddNumberToObject(j, "reward", reward);
    cJSON_AddBoolToObject(j, "checkpoint", 1);
    const int rc = fl_rundir_log(rd, j);
    cJSON_Delete(j);
    return rc;
}

static int train(gf_run *r, const fl_rundir *rd, double *train_s, double *measure_s, fl_gf_measurement *meas) {
    const fl_gf_config *c = r->c;
    fl_rng data;
    fl_batcher bt;
    fl_optim opt;
    fl_rng_init(&data, c->seed, FL_STREAM_DATA);
    if (fl_batcher_init(&bt, r->n, c->batch, &data)) return -1;
    fl_optim_adamw(&opt, 0.9f, 0.999f, 1e-8f, 0.0f);
    const long spe = fl_batcher_steps_per_epoch(&bt), total = spe * c->epochs;
    const double t0 = fl_now();
    int ckpt = 0, rc = 0;
    for (long step = 0; step < total && rc == 0; step++) {
        const int *rows;
        const int B = fl_batcher_next(&bt, &rows);
        double reward = 0;
        fl_blob_zero_grads(&r->m.blob);
        const float loss = step_loss(r, rows, B, &reward);
        if (fl_check_finite(loss, &r->m.blob, step + 1, 1)) rc = FL_DIVERGED;
        if (rc == 0) fl_optim_step(&opt, &r->m.blob, (float)c->lr);
        if (rc == 0 && fl_check_finite(0.0f, &r->m.blob, step + 1, 0)) rc = FL_DIVERGED;
        const long next = lround((ckpt + 1) * c->checkpoint_every * (double)spe);
        if (rc == 0 && (step + 1 >= next || step + 1 == total)) {
            rc = checkpoint(r, rd, step + 1, (double)(step + 1) / spe, loss, reward, meas, measure_s);
            ckpt++;
        }
    }
    *train_s = fl_now() - t0 - *measure_s;
    fl_batcher_free(&bt);
    return rc;
}

int fl_gf_finetune(const fl_gf_config *c, const fl_gf_ctx *ctx, const char *out_dir) {
    if (c->epochs < 1 || c->batch < 1 || c->group_size < 1 || !(c->lr > 0) || !(c->checkpoint_every > 0))
        return fl_error_set("grok-forget fine-tuning needs positive epochs, batch, group size, rate and checkpoints");
    const double t0 = fl_now();
    fl_set_threads(c->threads);
    gf_run r;
    fl_rundir rd = {0};
    fl_gf_measurement meas;
    double train_s = 0, measure_s = 0;
    cJSON *cfg = make_config(c, ctx), *sum = NULL;
    char *cfg_path = NULL;
    int rc = run_alloc(&r, c, ctx);
    if (rc == 0) rc = fl_rundir_open(&rd, out_dir);
    if (rc == 0) rc = (cfg_path = fl_rundir_path(&rd, "config.json")) ? 0 : fl_error_set("out of memory");
    if (rc == 0) rc = fl_config_write_file(cfg_path, cfg);
    if (rc == 0) rc = train(&r, &rd, &train_s, &measure_s, &meas);
    if (rc == 0) {
        sum = measurement_json(&meas);
        cJSON_AddNumberToObject(sum, "life_epoch", c->life_offset + c->epochs);
        cJSON_AddNumberToObject(sum, "wall_time_s", fl_now() - t0);
        cJSON_AddNumberToObject(sum, "train_s", train_s);
        cJSON_AddNumberToObject(sum, "measure_s", measure_s);
        rc = fl_rundir_write_json(&rd, "summary.json", sum);
    }
    cJSON_Delete(cfg), cJSON_Delete(sum);
    free(cfg_path);
    fl_rundir_close(&rd);
    run_free(&r);
    return rc;
}
