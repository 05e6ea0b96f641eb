/* lm_pretrain.c: pretraining the byte-level language model (lm_pretrain.h): its
 * settings and presets, the mixture of text windows and skill examples
 * each step draws, and the resumable loop on the training-loop skeleton,
 * evaluated by the skills' scores (lm_measure.h). */
#include "lm_int.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/clock.h"
#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/train/trainloop.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fl_lm_defaults(fl_lm_config *c) {
    memset(c, 0, sizeof *c);
    c->preset = "default";
    c->n_layer = 6, c->n_embd = 128, c->n_head = 4, c->ctx = 128; /* 1.23 M parameters */
    c->batch = 16, c->steps = 8000;
    c->lr = 2e-3, c->wd = 0.1, c->warmup_frac = 0.05, c->text_frac = 0.3;
    c->log_every = 10, c->eval_every = 1000, c->eval_prompts = 500, c->checkpoint_every = 500;
    c->progress = 1;
}

int fl_lm_preset(fl_lm_config *c, const char *name) {
    const uint64_t seed = c->seed;
    const int threads = c->threads, progress = c->progress, overwrite = c->overwrite;
    const char *data_dir = c->data_dir;
    fl_lm_defaults(c);
    if (strcmp(name, "quick") == 0) {
        /* Tuned in docs/lm.md: most of the mixture on the skills, a higher
         * rate, enough steps for addition (the last skill learnt) to pass
         * 0.9 on three seeds; about 4 minutes on 2 cores. */
        c->preset = "quick";
        c->n_layer = 2, c->n_embd = 64, c->n_head = 4, c->ctx = 64;
        c->steps = 15000, c->lr = 3e-3, c->text_frac = 0.2;
        c->eval_every = 2000, c->checkpoint_every = 1000;
    } else if (strcmp(name, "default") != 0) {
        return fl_error_set("unknown preset '%s' (expected quick or default)", name);
    }
    c->seed = seed, c->threads = threads, c->progress = progress, c->overwrite = overwrite, c->data_dir = data_dir;
    return 0;
}

double fl_lm_final_lr(const fl_lm_config *c) { return 0.1 * c->lr; }

#define F(field) offsetof(fl_lm_config, field)
const fl_setting FL_LM_SETTINGS[] = {
    {"layers", FL_SET_INT, F(n_layer), 1, FL_GPT_MAX_LAYERS, "N", "transformer blocks", "n_layer", NULL, NULL},
    {"embd", FL_SET_INT, F(n_embd), 8, 4096, "N", "width of the residual stream", "n_embd", NULL, NULL},
    {"heads", FL_SET_INT, F(n_head), 1, 64, "N", "attention heads (embd must divide by it)", "n_head", NULL, NULL},
    {"ctx", FL_SET_INT, F(ctx), 16, 4096, "N", "context in bytes", "ctx", NULL, NULL},
    {"batch", FL_SET_INT, F(batch), 1, 4096, "N", "sequences per step", "batch", NULL, NULL},
    {"steps", FL_SET_LONG, F(steps), 1, 1e9, "N", "optimisation steps", "steps", NULL, NULL},
    {"lr", FL_SET_DOUBLE, F(lr), 1e-9, 1, "X", "AdamW peak learning rate (cosine after a linear warm-up)", "lr", NULL,
     NULL},
    {"wd", FL_SET_DOUBLE, F(wd), 0, 10, "X", "AdamW decoupled weight decay", "wd", NULL, NULL},
    {"warmup-frac", FL_SET_DOUBLE, F(warmup_frac), 0, 0.9, "X", "warm-up steps as a fraction of all", "warmup_frac",
     NULL, NULL},
    {"text-frac", FL_SET_DOUBLE, F(text_frac), 0, 1, "X", "share of sequences from the text (the rest: skills)",
     "text_frac", NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "seed of the initialisation, split and batches", "seed", NULL, NULL},
    {"log-every", FL_SET_INT, F(log_every), 1, 1 << 30, "N", "steps between loss lines", NULL, NULL, NULL},
    {"eval-every", FL_SET_INT, F(eval_every), 1, 1 << 30, "N", "steps between evaluations", NULL, NULL, NULL},
    {"eval-prompts", FL_SET_INT, F(eval_prompts), 1, 100000, "N", "test prompts per skill in each evaluation",
     "eval_prompts", NULL, NULL},
    {"checkpoint-every", FL_SET_INT, F(checkpoint_every), 1, 1 << 30, "N", "steps between resumable states", NULL,
     NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
const int FL_LM_NSETTINGS = (int)(sizeof FL_LM_SETTINGS / sizeof *FL_LM_SETTINGS);

/* One training sequence of T + 1 bytes into seq: a text window, or skill
 * examples ("prompt" "answer") back to back, cut at T + 1. */
static void draw_sequence(const fl_lm_data *d, double text_frac, int T, fl_rng *rng, int *seq) {
    if (fl_rng_double(rng) < text_frac) {
        const size_t at = (size_t)(fl_rng_double(rng) * (double)(d->text.n_train - (size_t)T - 1));
        for (int i = 0; i <= T; i++) seq[i] = d->text.train[at + (size_t)i];
        return;
    }
    for (int n = 0; n <= T;) {
        const fl_skill_set *s = &d->skill[fl_rng_below(rng, FL_NSKILLS)];
        const fl_skill_example *e = &s->ex[s->train[fl_rng_below(rng, (uint32_t)s->n_train)]];
        for (const char *p = e->prompt; *p && n <= T; p++) seq[n++] = (unsigned char)*p;
        for (const char *p = e->answer; *p && n <= T; p++) seq[n++] = (unsigned char)*p;
    }
}

static cJSON *make_config(const fl_lm_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "lm-pretrain");
    cJSON_AddStringToObject(j, "version", FORGETLAB_VERSION);
    cJSON_AddStringToObject(j, "preset", c->preset ? c->preset : "");
    fl_settings_to_json(j, FL_LM_SETTINGS, FL_LM_NSETTINGS, c);
    cJSON_AddNumberToObject(j, "vocab", 256);
    cJSON_AddStringToObject(j, "text", "King James Bible (bible-kjv-text), every 20th verse held out");
    cJSON_AddStringToObject(j, "skills", "add reverse sort count (wamerican words of 3-6 letters), 10% test");
    cJSON_AddNumberToObject(j, "threads", fl_get_threads());
    return j;
}

typedef struct {
    fl_optim opt;
    fl_rng data_rng;
    long step, train_ms;
} lm_state;

/* One batch of sequences: inputs tok and next-byte targets tgt [batch, ctx]
 * (seq: room for ctx + 1). */
static void draw_batch(const fl_lm_config *c, const fl_lm_data *d, fl_rng *rng, int *seq, int *tok, int *tgt) {
    for (int b = 0; b < c->batch; b++) {
        draw_sequence(d, c->text_frac, c->ctx, rng, seq);
        memcpy(tok + (size_t)b * c->ctx, seq, sizeof(int) * (size_t)c->ctx);
        memcpy(tgt + (size_t)b * c->ctx, seq + 1, sizeof(int) * (size_t)c->ctx);
    }
}

/* A training line of metrics.jsonl, with the skills' scores into *ev when
 * the step is an evaluation's. */
static int log_step(fl_rundir *rd, const fl_lm_config *c, const fl_gpt *m, const fl_lm_data *d, long step, float loss,
                    float lr, int eval, fl_lm_eval *ev) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", (double)step);
    cJSON_AddNumberToObject(j, "loss", loss);
    cJSON_AddNumberToObject(j, "lr", lr);
    if (eval && fl_lm_evaluate(m, d, c->eval_prompts, ev) == 0) fl_lm_eval_add_json(j, ev);
    const int bad = fl_rundir_log(rd, j);
    cJSON_Delete(j);
    return bad;
}

/* summary.json (the last evaluation, the run's size and times) and the model. */
static int write_summary(fl_rundir *rd, const fl_lm_config *c, const fl_gpt *m, const fl_lm_eval *ev,
                         const char *cfg_text, long train_ms, double t0) {
    cJSON *sum = cJSON_CreateObject();
    fl_lm_eval_add_json(sum, ev);
    cJSON_AddNumberToObject(sum, "steps", (double)c->steps);
    cJSON_AddNumberToObject(sum, "params", (double)m->blob.n);
    cJSON_AddNumberToObject(sum, "train_s", train_ms / 1000.0);
    cJSON_AddNumberToObject(sum, "wall_time_s", fl_now() - t0);
    char *model = NULL;
    const int rc = fl_lm_write_run(rd, m, cfg_text, sum, &model);
    cJSON_Delete(sum);
    free(model);
    return rc;
}

int fl_lm_pretrain_run(const fl_lm_config *c, const char *out_dir) {
    const double t0 = fl_now();
    fl_set_threads(c->threads);
    const fl_gpt_config gc = {256, c->ctx, c->n_layer, c->n_embd, c->n_head};
    fl_lm_data d;
    fl_gpt m = {0};
    fl_gpt_acts a = {0};
    fl_rundir rd = {0};
    fl_loop L = {0};
    lm_state ls = {0};
    cJSON *cfg = NULL;
    char *cfg_text = NULL, *replaced = NULL;
    int *seq = NULL, *tok = NULL, *tgt = NULL, rc = -1;
    if (fl_lm_data_load(&d, c->data_dir, c->seed)) return -1;
    if (fl_gpt_create(&m, &gc) || fl_gpt_acts_alloc(&a, &m, c->batch, c->ctx)) goto out;
    fl_rng init;
    fl_rng_init(&init, c->seed, FL_STREAM_INIT);
    fl_gpt_init(&m, &init);
    fl_rng_init(&ls.data_rng, c->seed, FL_STREAM_DATA);
    fl_optim_adamw(&ls.opt, 0.9f, 0.95f, 1e-8f, (float)c->wd);
    seq = malloc(sizeof(int) * (size_t)(c->ctx + 1));
    tok = malloc(sizeof(int) * (size_t)c->batch * c->ctx), tgt = malloc(sizeof(int) * (size_t)c->batch * c->ctx);
    if (!seq || !tok || !tgt) {
        fl_error_set("out of memory");
        goto out;
    }
    cfg = make_config(c);
    if (!(cfg_text = fl_lm_claim_run(cfg, out_dir, "lm-pretrain", c->overwrite, &replaced))) goto out;
    const fl_trainstate_rng rngs[] = {{"data_rng", &ls.data_rng}};
    const fl_trainstate_long longs[] = {{"step", &ls.step}, {"train_ms", &ls.train_ms}};
    const fl_loop_spec spec = {.dir = out_dir, .config = cfg, .position = &ls.step, .resume_key = "step",
                               .resumable = 1, .label = "lm-pretrain", .total = c->steps, .progress = c->progress,
                               .state = {.kind = "lm-pretrain", .config = cfg_text, .blob = &m.blob,
                                         .opt_t = &ls.opt.t, .rngs = rngs, .nrngs = 1, .longs = longs, .nlongs = 2}};
    if (fl_loop_begin(&L, &spec, &rd) < 0) goto out;
    const fl_schedule sched = {FL_SCHED_COSINE, (float)c->lr, (long)(c->warmup_frac * (double)c->steps), c->steps,
                               (float)fl_lm_final_lr(c)};
    const double t_start = fl_now() - ls.train_ms / 1000.0;
    fl_lm_eval ev = {{0}, NAN};
    for (long step = ls.step; step < c->steps; step++) {
        draw_batch(c, &d, &ls.data_rng, seq, tok, tgt);
        fl_blob_zero_grads(&m.blob);
        const float loss = fl_gpt_forward(&m, &a, tok, tgt, NULL, c->batch, c->ctx);
        fl_gpt_backward(&m, &a);
        if (fl_check_finite(loss, (step + 1) % c->log_every ? NULL : &m.blob, step + 1, 1)) {
            rc = FL_DIVERGED;
            goto out;
        }
        const float lr = fl_schedule_lr(&sched, step);
        fl_optim_step(&ls.opt, &m.blob, lr);
        const int eval = (step + 1) % c->eval_every == 0 || step + 1 == c->steps;
        if (((step + 1) % c->log_every == 0 || eval) && log_step(&rd, c, &m, &d, step + 1, loss, lr, eval, &ev))
            goto out;
        if ((step + 1) % c->checkpoint_every == 0 && step + 1 < c->steps) {
            ls.step = step + 1, ls.train_ms = lround(1000.0 * (fl_now() - t_start));
            if (fl_loop_save(&L)) goto out;
        }
        char extra[64];
        snprintf(extra, sizeof extra, "loss %.4f", loss);
        fl_loop_update(&L, step + 1, extra);
    }
    fl_loop_end(&L);
    ls.step = c->steps, ls.train_ms = lround(1000.0 * (fl_now() - t_start));
    if (fl_loop_save(&L)) goto out;
    if (isnan(ev.bpb) && fl_lm_evaluate(&m, &d, c->eval_prompts, &ev)) goto out;
    rc = write_summary(&rd, c, &m, &ev, cfg_text, ls.train_ms, t0);
out:
    fl_loop_free(&L);
    fl_rundir_release(replaced, rc == 0);
    fl_rundir_close(&rd);
    cJSON_Delete(cfg);
    free(cfg_text), free(seq), free(tok), free(tgt);
    fl_gpt_acts_free(&a);
    fl_gpt_free(&m);
    fl_lm_data_free(&d);
    return rc;
}
