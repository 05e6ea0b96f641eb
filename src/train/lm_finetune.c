/* lm_finetune.c: `forgetlab lm-finetune`'s run (lm_finetune.h): its settings, the
 * base (and teacher) loaded and checked, the measurement context built
 * once, and the resumable loop of steps (lm_ft_step.c) with a measured
 * checkpoint every fraction of an epoch, on the training-loop skeleton. */
#include "lmft_int.h"
#include "lm_int.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/train/trainloop.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fl_lmft_defaults(fl_lmft_config *c) {
    memset(c, 0, sizeof *c);
    c->lr = 1e-4, c->schedule = FL_SCHED_CONSTANT, c->warmup_frac = 0.1;
    c->epochs = 1, c->batch = 16, c->group_size = 8, c->temperature = 1.0;
    c->kl_beta = 0.1, c->simpo_beta = 2.0, c->simpo_gamma = 0.5;
    c->pool = 16, c->checkpoint_every = 0.2, c->test_frac = 0.2;
    fl_lm_measure_defaults(&c->measure);
    c->log_every = 10, c->progress = 1;
}

static int parse_method(const char *v, void *field) {
    fl_lmft_config *c = (fl_lmft_config *)((char *)field - offsetof(fl_lmft_config, method));
    c->has_method = 1;
    return fl_lmft_method_parse(v, field);
}
static void format_method(const void *field, char *buf, size_t n) {
    const fl_lmft_config *c = (const fl_lmft_config *)((const char *)field - offsetof(fl_lmft_config, method));
    snprintf(buf, n, "%s", c->has_method ? fl_lmft_method_name(*(const fl_lmft_method *)field) : "none");
}
static int parse_schedule(const char *v, void *field) { return fl_schedule_parse(v, field); }
static void format_schedule(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const fl_sched_kind *)field == FL_SCHED_COSINE ? "cosine" : "constant");
}

#define F(field) offsetof(fl_lmft_config, field)
const fl_setting FL_LMFT_SETTINGS[] = {
    {"base", FL_SET_STRING, F(base), 0, 0, "DIR", "the pretrained model: an lm-pretrain run or its model file "
     "(required)", "base", NULL, NULL},
    {"method", FL_SET_CUSTOM, F(method), 0, 0, "M",
     LMFT_METHOD_LIST " (required)", "method", parse_method,
     format_method},
    {"teacher", FL_SET_STRING, F(teacher), 0, 0, "DIR", "distill, sft-teacher: the teacher, a language model (a grpo run)",
     "teacher", NULL, NULL},
    {"lr", FL_SET_DOUBLE, F(lr), 1e-12, 10.0, "X", "AdamW learning rate (weight decay 0)", "lr", NULL, NULL},
    {"schedule", FL_SET_CUSTOM, F(schedule), 0, 0, "S", "constant or cosine (linear warm-up, then cosine)",
     "schedule", parse_schedule, format_schedule},
    {"warmup-frac", FL_SET_DOUBLE, F(warmup_frac), 0, 0.9, "X", "cosine: warm-up steps as a fraction of all",
     "warmup_frac", NULL, NULL},
    {"epochs", FL_SET_INT, F(epochs), 1, 10000, "N", "passes over the new task's training prompts", "epochs", NULL,
     NULL},
    {"batch", FL_SET_INT, F(batch), 1, 4096, "N", "training prompts per step", "batch", NULL, NULL},
    {"group-size", FL_SET_INT, F(group_size), 1, 1024, "G", "on-policy: completions sampled per prompt",
     "group_size", NULL, NULL},
    {"temperature", FL_SET_DOUBLE, F(temperature), 0, 100, "T", "on-policy: sampling temperature", "temperature",
     NULL, NULL},
    {"kl-beta", FL_SET_DOUBLE, F(kl_beta), 0, 1e6, "X", "grpo-kl: weight of KL(pi || pi_0) per token", "kl_beta",
     NULL, NULL},
    {"simpo-beta", FL_SET_DOUBLE, F(simpo_beta), 1e-6, 1e6, "X", "SimPO beta", "simpo_beta", NULL, NULL},
    {"simpo-gamma", FL_SET_DOUBLE, F(simpo_gamma), -1e6, 1e6, "X", "SimPO margin gamma", "simpo_gamma", NULL, NULL},
    {"pool", FL_SET_INT, F(pool), 1, 4096, "N", "rft, distill, sft-teacher, simpo: samples drawn once per training prompt",
     "pool", NULL, NULL},
    {"checkpoint-every", FL_SET_DOUBLE, F(checkpoint_every), 1e-3, 1e3, "X", "epochs between measured checkpoints",
     "checkpoint_every", NULL, NULL},
    {"test-frac", FL_SET_DOUBLE, F(test_frac), 0.01, 0.9, "X", "share of the new task's prompts held out",
     "test_frac", NULL, NULL},
    {"new-samples", FL_SET_INT, F(measure.new_samples), 1, 1024, "N",
     "measurement: samples per new-task test prompt (sampled success, KL)", "new_samples", NULL, NULL},
    {"prior-prompts", FL_SET_INT, F(measure.prior_prompts), 1, 100000, "N",
     "measurement: test prompts per prior skill for its accuracy", "prior_prompts", NULL, NULL},
    {"prior-kl-prompts", FL_SET_INT, F(measure.prior_kl_prompts), 1, 100000, "N",
     "measurement: test prompts per prior skill for the outcome-side divergences", "prior_kl_prompts", NULL, NULL},
    {"fisher-n", FL_SET_INT, F(measure.fisher_n), 1, 100000, "N", "measurement: sequences of the base's Fisher",
     "fisher_n", NULL, NULL},
    {"cs-per", FL_SET_INT, F(measure.cs_per), 0, 10000, "N",
     "measurement: prompts per subtask of reverse for circuit stability (0: none)", "cs_per", NULL, NULL},
    {"cs-steps", FL_SET_INT, F(measure.cs_steps), 1, 1000, "M", "measurement: circuit stability's integrated-gradient "
     "steps", "cs_steps", NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "seed of the split, pools, samples and measurements", "seed", NULL,
     NULL},
    {"log-every", FL_SET_INT, F(log_every), 1, 1 << 30, "N", "steps between training lines", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
const int FL_LMFT_NSETTINGS = (int)(sizeof FL_LMFT_SETTINGS / sizeof *FL_LMFT_SETTINGS);

int fl_lmft_check(const fl_lmft_config *c) {
    if (!c->base) return fl_error_set("--base DIR is required");
    if (!c->has_method) return fl_error_set("--method M is required (" LMFT_METHOD_LIST ")");
    const char *m = fl_lmft_method_name(c->method);
    if ((c->method == FL_LMFT_GRPO || c->method == FL_LMFT_GRPO_KL) && c->group_size < 2)
        return fl_error_set("--group-size %d: %s needs at least 2 completions per prompt (a group of one has no "
                            "advantage)", c->group_size, m);
    if (fl_lmft_on_policy(c->method) && !(c->temperature > 0))
        return fl_error_set("--temperature %g: %s samples from the policy, which needs a temperature above 0",
                            c->temperature, m);
    if (fl_lmft_taught(c->method) && !c->teacher) return fl_error_set("--method %s needs --teacher DIR", m);
    if (!fl_lmft_taught(c->method) && c->teacher)
        return fl_error_set("--teacher is for --method distill or sft-teacher, not %s", m);
    return 0;
}

/* A language model from path, or an error naming the flag. */
static int load_lm(const char *path, const char *flag, fl_gpt *m, char **config) {
    char arch[32];
    if (fl_checkpoint_arch(path, arch, sizeof arch)) return -1;
    if (strcmp(arch, "gpt"))
        return fl_error_set("--%s %s: a model of arch '%s', not a language model (lm-pretrain writes one)", flag,
                            path, arch);
    return fl_gpt_load(path, m, config);
}

/* The pretraining seed the base's config records: its skills' split. */
static uint64_t base_split_seed(const char *config) {
    cJSON *j = cJSON_Parse(config);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seed");
    const uint64_t v = cJSON_IsNumber(s) && s->valuedouble >= 0 ? (uint64_t)s->valuedouble : 0;
    cJSON_Delete(j);
    return v;
}

static cJSON *make_config(const fl_lmft_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "lm-finetune");
    cJSON_AddStringToObject(j, "version", FORGETLAB_VERSION);
    fl_settings_to_json(j, FL_LMFT_SETTINGS, FL_LMFT_NSETTINGS, c);
    cJSON_AddStringToObject(j, "task", "word completion: 'word:' + a 2- or 3-letter prefix -> letters + '='");
    cJSON_AddNumberToObject(j, "threads", fl_get_threads());
    fl_budget_config_json(j, &c->budget);
    return j;
}

/* The order of epoch e's training prompts: the (e + 1)-th shuffle of
 * (seed, FL_STREAM_DATA), so a resumed run recomputes it. */
static void epoch_order(int *order, int n, uint64_t seed, long e) {
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_DATA);
    for (int i = 0; i < n; i++) order[i] = i;
    for (long k = 0; k <= e; k++) fl_rng_shuffle(&r, order, n);
}

static cJSON *measurement_json(const fl_lm_measurement *r) {
    cJSON *j = cJSON_CreateObject();
    const char *names[FL_LM_NFIELDS];
    double vals[FL_LM_NFIELDS];
    fl_lm_measurement_fields(r, names, vals);
    for (int i = 0; i < FL_LM_NFIELDS; i++) cJSON_AddNumberToObject(j, names[i], vals[i]);
    return j;
}

typedef struct {
    fl_optim opt;
    fl_rng rng;      /* FL_STREAM_SAMPLE: on-policy draws and pool picks */
    long step, train_ms, measure_ms;
} lmft_state;

/* Everything one run holds: the models, data and task, the measurement
 * context, the step's buffers and the loop's state. */
typedef struct {
    const fl_lmft_config *c;
    fl_gpt m, base, teacher;
    fl_lm_data d;
    int have_data;
    fl_newtask task;
    fl_lm_measure_ctx mc;
    lmft_step st;
    fl_rundir rd;
    fl_loop L;
    lmft_state ls;
    cJSON *cfg;
    char *cfg_text, *replaced;
    int spe;                    /* steps per epoch */
    fl_lm_measurement meas;     /* the last checkpoint's */
    int have_meas;
    fl_budget_state kept;       /* a budgeted run's last checkpoint within it */
    double last_kl;             /* the last checkpoint's forward KL (budgeted runs) */
    long every;                 /* steps between checkpoints (the last one at the end) */
} lmft_run;

/* The models, data and task, the claimed run directory, the measurement
 * context and the step's buffers. */
static int run_open(lmft_run *r, const char *out_dir) {
    const fl_lmft_config *c = r->c;
    char *base_cfg = NULL;
    int rc = -1;
    if (load_lm(c->base, "base", &r->base, &base_cfg) || load_lm(c->base, "base", &r->m, NULL)) goto out;
    if (c->teacher && load_lm(c->teacher, "teacher", &r->teacher, NULL)) goto out;
    if (c->teacher && memcmp(&r->teacher.cfg, &r->base.cfg, sizeof r->base.cfg)) {
        fl_error_set("--teacher %s: another architecture than the base's", c->teacher);
        goto out;
    }
    if (fl_lm_data_load(&r->d, c->data_dir, base_split_seed(base_cfg))) goto out;
    r->have_data = 1;
    if (fl_newtask_build(&r->task, &r->d.words, c->test_frac, c->seed)) goto out;
    r->cfg = make_config(c);
    if (!(r->cfg_text = fl_lm_claim_run(r->cfg, out_dir, "lm-finetune", c->overwrite, &r->replaced))) goto out;
    if (fl_lm_measure_init(&r->mc, &r->base, &r->d, &r->task, &c->measure, c->seed)) goto out;
    if (lmft_step_init(&r->st, c, &r->m, &r->base, c->teacher ? &r->teacher : &r->base, &r->task)) goto out;
    if (c->budget.kl_budget > 0 && fl_budget_init(&r->kept, r->base.blob.params, r->base.blob.n)) goto out;
    r->spe = (r->task.n_train + c->batch - 1) / c->batch;
    rc = 0;
out:
    free(base_cfg);
    return rc;
}

static void run_close(lmft_run *r, int ok) {
    fl_loop_free(&r->L);
    fl_rundir_release(r->replaced, ok);
    fl_rundir_close(&r->rd);
    cJSON_Delete(r->cfg);
    free(r->cfg_text);
    lmft_step_free(&r->st);
    fl_budget_free(&r->kept);
    fl_lm_measure_free(&r->mc);
    fl_newtask_free(&r->task);
    if (r->have_data) fl_lm_data_free(&r->d);
    fl_gpt_free(&r->m), fl_gpt_free(&r->base), fl_gpt_free(&r->teacher);
}

/* A training line of metrics.jsonl (the mean loss and reward since the
 * last one), with the model's measurement when it is a checkpoint. */
static int log_line(lmft_run *r, long step, double loss, double reward, int n, float lr, int ckpt) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", (double)step);
    cJSON_AddNumberToObject(j, "epoch", (double)step / r->spe);
    cJSON_AddNumberToObject(j, "loss", n ? loss / n : NAN);
    cJSON_AddNumberToObject(j, "reward", n ? reward / n : NAN);
    cJSON_AddNumberToObject(j, "lr", lr);
    if (ckpt && r->c->budget.kl_budget > 0) {
        /* The decision's measure alone: the kept checkpoint is measured in
         * full at the end. */
        const double tm = fl_now();
        if (fl_lm_forward_kl_new(&r->mc, &r->m, &r->last_kl)) {
            cJSON_Delete(j);
            return -1;
        }
        r->ls.measure_ms += lround(1000.0 * (fl_now() - tm));
        cJSON_AddNumberToObject(j, "forward_kl_new", r->last_kl);
        cJSON_AddNumberToObject(j, "kl_budget", r->c->budget.kl_budget);
        /* Checkpoint k falls on step (k + 1) * every, the last at the end. */
        const long k = (step + r->every - 1) / r->every - 1;
        fl_budget_check(&r->kept, &r->c->budget, r->m.blob.params, r->last_kl, k, step,
                        (double)step / r->spe);
        cJSON_AddBoolToObject(j, "within_budget", !r->kept.stopped);
    } else if (ckpt) {
        const double tm = fl_now();
        if (fl_lm_measure(&r->mc, &r->m, &r->meas)) {
            cJSON_Delete(j);
            return -1;
        }
        r->have_meas = 1;
        r->ls.measure_ms += lround(1000.0 * (fl_now() - tm));
        cJSON *mj = measurement_json(&r->meas);
        for (cJSON *it = mj->child; it; it = it->next) cJSON_AddNumberToObject(j, it->string, it->valuedouble);
        cJSON_Delete(mj);
    }
    const int bad = fl_rundir_log(&r->rd, j);
    cJSON_Delete(j);
    return bad ? -1 : 0;
}

/* The steps from the saved position to the end: one batch of an epoch's
 * shuffled order a step, a training line every log_every steps and a
 * measured, saved checkpoint every checkpoint_every epoch. */
static int train(lmft_run *r, long total) {
    const long every = r->every;
    const fl_lmft_config *c = r->c;
    const fl_schedule sched = {c->schedule, (float)c->lr, (long)(c->warmup_frac * (double)total), total,
                               c->schedule == FL_SCHED_COSINE ? 0.0f : (float)c->lr};
    int *order = malloc(sizeof(int) * (size_t)r->task.n_train);
    if (!order) return fl_error_set("out of memory");
    double run_loss = 0, run_reward = 0, t_step = fl_now();
    int nrun = 0, rc = 0;
    long order_epoch = -1;
    for (long step = r->ls.step; step < total && rc == 0; step++) {
        const long e = step / r->spe, k = step % r->spe;
        if (e != order_epoch) epoch_order(order, r->task.n_train, c->seed, e), order_epoch = e;
        const int B = (int)(k + 1 < r->spe ? c->batch : r->task.n_train - k * c->batch);
        double loss, reward;
        const int g = lmft_step_grad(&r->st, order + k * c->batch, B, &r->ls.rng, &loss, &reward);
        if (g < 0) {
            rc = -1;
            break;
        }
        if (g == 0 && fl_check_finite((float)loss, &r->m.blob, step + 1, 1)) {
            rc = FL_DIVERGED;
            break;
        }
        const float lr = fl_schedule_lr(&sched, step);
        if (g == 0) fl_optim_step(&r->ls.opt, &r->m.blob, lr), run_loss += loss, run_reward += reward, nrun++;
        const int ckpt = (step + 1) % every == 0 || step + 1 == total;
        if ((step + 1) % c->log_every == 0 || ckpt) {
            r->ls.train_ms += lround(1000.0 * (fl_now() - t_step));
            rc = log_line(r, step + 1, run_loss, run_reward, nrun, lr, ckpt);
            run_loss = run_reward = 0, nrun = 0, t_step = fl_now();
        }
        if (rc == 0 && ckpt && step + 1 < total && !r->kept.stopped) {
            r->ls.step = step + 1;
            rc = fl_loop_save(&r->L);
        }
        if (r->kept.stopped) break; /* past the budget: the kept checkpoint is the model */
        char extra[128], kl[48];
        fl_budget_progress(&c->budget, r->last_kl, kl, sizeof kl);
        if (isnan(reward)) snprintf(extra, sizeof extra, "loss %.4f%s", loss, kl);
        else snprintf(extra, sizeof extra, "loss %.4f reward %.3f%s", loss, reward, kl);
        if (rc == 0) fl_loop_update(&r->L, step + 1, extra);
    }
    free(order);
    return rc;
}

/* summary.json (the last checkpoint's measurement, the run's counts and
 * times) and model.safetensors. */
static int write_summary(lmft_run *r, long total, double t0) {
    const int budgeted = r->c->budget.kl_budget > 0;
    /* A budgeted run's model is its kept checkpoint, measured in full now
     * (evaluation, after the decision). */
    if (budgeted) memcpy(r->m.blob.params, r->kept.params, r->kept.n * sizeof(float));
    if ((budgeted || !r->have_meas) && fl_lm_measure(&r->mc, &r->m, &r->meas)) return -1;
    cJSON *sum = measurement_json(&r->meas);
    fl_budget_summary_json(sum, &r->c->budget, &r->kept);
    cJSON_AddNumberToObject(sum, "steps", (double)total);
    cJSON_AddNumberToObject(sum, "train_prompts", r->task.n_train);
    cJSON_AddNumberToObject(sum, "test_prompts", r->task.n_test);
    cJSON_AddNumberToObject(sum, "pool_unusable", lmft_pool_unusable(&r->st));
    cJSON_AddNumberToObject(sum, "train_s", r->ls.train_ms / 1000.0);
    cJSON_AddNumberToObject(sum, "measure_s", r->ls.measure_ms / 1000.0);
    cJSON_AddNumberToObject(sum, "wall_time_s", fl_now() - t0);
    char *model = NULL;
    const int rc = fl_lm_write_run(&r->rd, &r->m, r->cfg_text, sum, &model);
    cJSON_Delete(sum);
    free(model);
    return rc;
}

int fl_lmft_run(const fl_lmft_config *c, const char *out_dir) {
    const double t0 = fl_now();
    if (fl_lmft_check(c)) return FL_BAD_REQUEST;
    fl_set_threads(c->threads);
    lmft_run r = {.c = c};
    int rc = run_open(&r, out_dir);
    const long total = (long)r.spe * c->epochs;
    r.every = lround(c->checkpoint_every * r.spe) > 0 ? lround(c->checkpoint_every * r.spe) : 1;
    lmft_state *ls = &r.ls;
    fl_rng_init(&ls->rng, c->seed, FL_STREAM_SAMPLE);
    fl_optim_adamw(&ls->opt, 0.9f, 0.999f, 1e-8f, 0.0f);
    const fl_trainstate_rng rngs[] = {{"rng", &ls->rng}};
    fl_trainstate_long longs[3 + FL_BUDGET_NLONGS] = {
        {"step", &ls->step}, {"train_ms", &ls->train_ms}, {"measure_ms", &ls->measure_ms}};
    fl_loop_spec spec = {.dir = out_dir, .config = r.cfg, .position = &ls->step, .resume_key = "step",
                               .resumable = 1, .label = fl_lmft_method_name(c->method), .total = total,
                               .progress = c->progress,
                               .state = {.kind = "lm-finetune", .config = r.cfg_text, .blob = &r.m.blob,
                                         .opt_t = &ls->opt.t, .rngs = rngs, .nrngs = 1, .longs = longs,
                                         .nlongs = 3}};
    /* A budgeted run's kept checkpoint travels with the state. */
    fl_budget_entries be;
    if (c->budget.kl_budget > 0) fl_budget_attach(&be, &r.kept, &spec.state, longs);
    if (rc == 0 && fl_loop_begin(&r.L, &spec, &r.rd) < 0) rc = -1;
    if (rc == 0) rc = train(&r, total);
    if (rc == 0) {
        fl_loop_end(&r.L);
        ls->step = total;
        rc = fl_loop_save(&r.L);
    }
    if (rc == 0) rc = write_summary(&r, total, t0);
    run_close(&r, rc == 0);
    return rc;
}
