/* finetune.c: fine-tuning on the new task by the methods of finetune.h,
 * with a measured checkpoint every checkpoint_every epoch.
 *
 * Offline methods (sft1, sft2, oracle, simpo, distill) train on targets fixed
 * before the first step, drawn from the labels stream; on-policy methods
 * (grpo, grpo-kl, reinforce) draw their actions from the current policy at
 * every step, on the sample stream. */
#include "forgetlab/core/clock.h"
#include "forgetlab/train/finetune.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/trainstate.h"
#include "forgetlab/core/error.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/train/objectives.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/train/trainloop.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

enum { V = FL_TASK_CLASSES };

static const char *const METHOD_NAMES[FL_FT_NMETHODS] = {
    "sft1", "sft2", "oracle", "grpo", "grpo-kl", "reinforce", "simpo", "distill"};

const char *fl_ft_method_name(fl_ft_method m) { return METHOD_NAMES[m]; }

int fl_ft_method_parse(const char *name, fl_ft_method *out) {
    for (int i = 0; i < FL_FT_NMETHODS; i++)
        if (strcmp(name, METHOD_NAMES[i]) == 0) {
            *out = (fl_ft_method)i;
            return 0;
        }
    return fl_error_set("unknown method '%s' (expected sft1, sft2, oracle, grpo, grpo-kl, "
                        "reinforce, simpo or distill)", name);
}

int fl_sft2_labels_parse(const char *s, int labels[2][2]) {
    int v[4], used = 0;
    if (sscanf(s, "%d,%d/%d,%d%n", &v[0], &v[1], &v[2], &v[3], &used) != 4 || s[used] != '\0')
        return fl_error_set("sft2 labels '%s': expected A,B/C,D (e.g. 6,8/7,9)", s);
    for (int k = 0; k < 4; k++)
        if (v[k] < 0 || v[k] > 9 || v[k] % 2 != k / 2)
            return fl_error_set("sft2 labels '%s': the first pair must be even labels and the second odd, in 0..9 "
                                "(an answer is correct when its parity is the digit's)", s);
    if (v[0] == v[1] || v[2] == v[3]) return fl_error_set("sft2 labels '%s': each pair needs two different labels", s);
    labels[0][0] = v[0], labels[0][1] = v[1], labels[1][0] = v[2], labels[1][1] = v[3];
    return 0;
}

int fl_sft2_labels_default(const int labels[2][2]) {
    return labels[0][0] == 0 && labels[0][1] == 4 && labels[1][0] == 1 && labels[1][1] == 5;
}

static int parse_method(const char *v, void *field) { return fl_ft_method_parse(v, field); }
static void format_method(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", fl_ft_method_name(*(const fl_ft_method *)field));
}
static int parse_schedule(const char *v, void *field) { return fl_schedule_parse(v, field); }
static void format_schedule(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const fl_sched_kind *)field == FL_SCHED_COSINE ? "cosine" : "constant");
}
static int parse_sft2(const char *v, void *field) { return fl_sft2_labels_parse(v, field); }
static void format_sft2(const void *field, char *buf, size_t n) {
    const int(*l)[2] = field;
    snprintf(buf, n, "%d,%d/%d,%d", l[0][0], l[0][1], l[1][0], l[1][1]);
}

#define F(field) offsetof(fl_finetune_config, field)
const fl_setting FL_FINETUNE_SETTINGS[] = {
    {"method", FL_SET_CUSTOM, F(method), 0, 0, "M",
     "sft1, sft2, oracle, grpo, grpo-kl, reinforce, simpo or distill (default: none, required)", "method", parse_method,
     format_method},
    {"lr", FL_SET_DOUBLE, F(lr), 1e-12, 10.0, "X", "AdamW learning rate", "lr", NULL, NULL},
    {"schedule", FL_SET_CUSTOM, F(schedule), 0, 0, "S",
     "constant or cosine (linear warm-up over 10%, then cosine)", "schedule", parse_schedule, format_schedule},
    {"epochs", FL_SET_INT, F(epochs), 1, 10000, "N", "passes over the 8,000 ParityMNIST training images", "epochs",
     NULL, NULL},
    {"batch", FL_SET_INT, F(batch), 1, 8000, "N", "inputs per step", "batch", NULL, NULL},
    {"group-size", FL_SET_INT, F(group_size), 1, 1024, "G", "actions sampled per input, on-policy methods",
     "group_size", NULL, NULL},
    {"kl-coef", FL_SET_DOUBLE, F(kl_coef), 0.0, 1e6, "X", "weight of KL(pi || pi_0) in grpo-kl", "kl_coef", NULL,
     NULL},
    {"simpo-beta", FL_SET_DOUBLE, F(simpo_beta), 1e-6, 1e6, "X", "SimPO beta", "simpo_beta", NULL, NULL},
    {"simpo-gamma", FL_SET_DOUBLE, F(simpo_gamma), -1e6, 1e6, "X", "SimPO margin gamma", "simpo_gamma", NULL, NULL},
    {"oracle-sample", FL_SET_FLAG, F(oracle_sample), 0, 0, NULL,
     "oracle: train on labels sampled from q* instead of q* itself", "oracle_sample", NULL, NULL},
    {"correct-only", FL_SET_FLAG, F(correct_only), 0, 0, NULL, "distill: keep only the teacher's correct answers",
     "correct_only", NULL, NULL},
    /* Recorded only when they differ from the default (make_config), so
     * runs made before they existed keep their identity. */
    {"sft2-labels", FL_SET_CUSTOM, F(sft2_labels), 0, 0, "A,B/C,D",
     "sft2: labels of even digits (A or B) and odd ones (C or D)", NULL, parse_sft2, format_sft2},
    {"sft2-soft", FL_SET_FLAG, F(sft2_soft), 0, 0, NULL, "sft2: train on the 50/50 target over the pair", NULL,
     NULL, NULL},
    {"checkpoint-every", FL_SET_DOUBLE, F(checkpoint_every), 1e-3, 1e3, "X", "epochs between measured checkpoints",
     "checkpoint_every", NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "random seed", "seed", NULL, NULL},
};
#undef F
const int FL_FINETUNE_NSETTINGS = (int)(sizeof FL_FINETUNE_SETTINGS / sizeof *FL_FINETUNE_SETTINGS);

int fl_ft_method_on_policy(fl_ft_method m) {
    return m == FL_FT_GRPO || m == FL_FT_GRPO_KL || m == FL_FT_REINFORCE;
}

void fl_finetune_defaults(fl_finetune_config *c) {
    memset(c, 0, sizeof *c);
    c->method = FL_FT_SFT1;
    c->lr = 1e-4, c->schedule = FL_SCHED_CONSTANT, c->warmup_frac = 0.1;
    c->epochs = 1, c->batch = 32;
    c->group_size = 8, c->kl_coef = 0.1;
    c->simpo_beta = 2.0, c->simpo_gamma = 0.5;
    c->checkpoint_every = 0.2;
    c->sft2_labels[0][0] = 0, c->sft2_labels[0][1] = 4, c->sft2_labels[1][0] = 1, c->sft2_labels[1][1] = 5;
    c->log_every = 10;
    c->progress = 1;
    c->save_model = 1;
}

/* The fixed training targets of the offline methods, and the base model's
 * log-probabilities on the training inputs (grpo-kl's reference). */
typedef struct {
    int n;          /* examples trained on */
    int *idx;       /* [n] rows of the training set */
    int *y;         /* [n] hard label (y_w for simpo) */
    int *y_l;       /* [n] simpo's rejected label */
    float *q;       /* [n, V] oracle soft targets */
    float *logp0;   /* [train n, V] base log-probabilities */
} targets;

static void targets_free(targets *t) {
    free(t->idx);
    free(t->y);
    free(t->y_l);
    free(t->q);
    free(t->logp0);
    memset(t, 0, sizeof *t);
}

static int probs_of(const fl_mlp *m, const fl_task_data *td, float *probs) {
    if (fl_mlp_logits(m, td->x, td->n, probs)) return -1;
    fl_softmax_forward(probs, probs, td->n, V);
    return 0;
}

float *fl_model_probs(const fl_mlp *m, const fl_task_data *td) {
    float *p = fl_malloc((size_t)td->n * V * sizeof(float), "probabilities");
    if (p && probs_of(m, td, p)) {
        free(p);
        return NULL;
    }
    return p;
}

static int build_targets(targets *t, const fl_finetune_config *c, const fl_mlp *base,
                         const fl_task_data *td) {
    const int n = td->n;
    fl_rng rng;
    fl_rng_init(&rng, c->seed, FL_STREAM_LABELS);
    memset(t, 0, sizeof *t);
    t->idx = fl_malloc((size_t)n * sizeof(int), "targets");
    t->y = fl_malloc((size_t)n * sizeof(int), "targets");
    t->y_l = fl_malloc((size_t)n * sizeof(int), "targets");
    t->q = fl_malloc((size_t)n * V * sizeof(float), "targets");
    t->logp0 = fl_malloc((size_t)n * V * sizeof(float), "targets");
    float *p = fl_malloc((size_t)n * V * sizeof(float), "targets"), correct[V];
    if (!t->idx || !t->y || !t->y_l || !t->q || !t->logp0 || !p) goto fail;
    if (c->base_probs)
        memcpy(p, c->base_probs, (size_t)n * V * sizeof(float));
    else if (probs_of(base, td, p))
        goto fail;
    for (int i = 0; i < n * V; i++) t->logp0[i] = logf(p[i]);
    if (c->method == FL_FT_DISTILL && probs_of(c->teacher, td, p)) goto fail;
    for (int i = 0; i < n; i++) {
        int parity = td->label[i] % 2, y = parity;
        float *qi = t->q + (size_t)i * V;
        for (int v = 0; v < V; v++) correct[v] = (float)fl_task_correct(FL_TASK_PARITY, td->label[i], v);
        fl_oracle_target(qi, p + (size_t)i * V, correct, 1, V);
        switch (c->method) {
        case FL_FT_SFT2:
            y = c->sft2_labels[parity][fl_rng_below(&rng, 2)];
            if (c->sft2_soft) { /* the pair's 50/50 target replaces q* */
                for (int v = 0; v < V; v++) qi[v] = 0;
                qi[c->sft2_labels[parity][0]] = qi[c->sft2_labels[parity][1]] = 0.5f;
            }
            break;
        case FL_FT_ORACLE: if (c->oracle_sample) y = fl_rng_categorical(&rng, qi, V); break;
        case FL_FT_DISTILL: y = fl_rng_categorical(&rng, p + (size_t)i * V, V); break;
        default: break;
        }
        if (c->method == FL_FT_DISTILL && c->correct_only && !correct[y]) continue;
        t->idx[t->n] = i;
        t->y[t->n] = y;
        t->y_l[t->n] = (1 - parity) + 2 * (int)fl_rng_below(&rng, 5);
        if (t->n != i) memcpy(t->q + (size_t)t->n * V, qi, V * sizeof(float));
        t->n++;
    }
    free(p);
    if (t->n == 0) return fl_error_set("distill --correct-only: the teacher answers no training image correctly");
    return 0;
fail:
    free(p);
    targets_free(t);
    return -1;
}

/* Everything one run needs between steps. */
typedef struct {
    const fl_finetune_config *c;
    const fl_task_data *td;
    const targets *t;
    fl_mlp *m;
    fl_classifier_step st;
    fl_rng sample_rng;
    float *xb, *qb, *logp0b, *adv, *rewards;
    int *yb, *ylb, *actions, *labels;
    double train_s, eval_s, predictors_s, circuit_s; /* time spent in each (circuit_s within predictors_s) */
    fl_measurement final;                 /* the last checkpoint's */
    fl_budget_state kept;                 /* a budgeted run's last checkpoint within it */
    double last_kl;                       /* the last checkpoint's forward KL, for the progress line */
} run_state;

/* One optimisation step's loss and logit gradient on batch rows (indices
 * into the targets). Returns the loss; *reward gets the mean reward of the
 * sampled actions (on-policy) or the batch accuracy of the argmax. */
static float method_loss(run_state *s, const int *rows, int B, double *reward) {
    const fl_finetune_config *c = s->c;
    const targets *t = s->t;
    const int G = c->group_size;
    for (int b = 0; b < B; b++) {
        int i = t->idx[rows[b]];
        memcpy(s->xb + (size_t)b * FL_TASK_DIM, s->td->x + (size_t)i * FL_TASK_DIM, FL_TASK_DIM * sizeof(float));
        memcpy(s->qb + (size_t)b * V, t->q + (size_t)rows[b] * V, V * sizeof(float));
        memcpy(s->logp0b + (size_t)b * V, t->logp0 + (size_t)i * V, V * sizeof(float));
        s->yb[b] = t->y[rows[b]];
        s->ylb[b] = t->y_l[rows[b]];
        s->labels[b] = s->td->label[i];
    }
    const float *logits = fl_mlp_forward(s->m, &s->st.acts, s->xb, B);
    float *probs = s->st.probs, *logp = s->st.logp, *dz = s->st.dlogits;
    fl_softmax_forward(probs, logits, B, V);
    fl_log_softmax_forward(logp, logits, B, V);
    memset(dz, 0, (size_t)B * V * sizeof(float));
    float loss;
    double hits = 0;
    switch (c->method) {
    case FL_FT_ORACLE:
    case FL_FT_SFT1:
    case FL_FT_SFT2:
    case FL_FT_DISTILL:
        if ((c->method == FL_FT_ORACLE && !c->oracle_sample) || (c->method == FL_FT_SFT2 && c->sft2_soft)) {
            loss = fl_soft_crossentropy_forward(NULL, logp, s->qb, B, V);
            fl_soft_crossentropy_backward(dz, probs, s->qb, B, V, 1.0f / (float)B);
        } else { /* hard labels; sampled oracle labels are plain SFT too */
            loss = fl_crossentropy_forward(NULL, logp, s->yb, B, V);
            fl_crossentropy_backward(dz, probs, s->yb, B, V, 1.0f / (float)B);
        }
        break;
    case FL_FT_SIMPO:
        loss = fl_simpo_loss(dz, probs, logp, s->yb, s->ylb, B, V, (float)c->simpo_beta,
                             (float)c->simpo_gamma, 1.0f);
        break;
    default: /* on-policy: sample G actions per input from the current policy */
        for (int b = 0; b < B; b++) {
            for (int g = 0; g < G; g++) {
                int a = fl_rng_categorical(&s->sample_rng, probs + (size_t)b * V, V);
                s->actions[b * G + g] = a;
                s->rewards[b * G + g] = (float)fl_task_correct(FL_TASK_PARITY, s->labels[b], a);
                hits += s->rewards[b * G + g];
            }
            if (c->method == FL_FT_REINFORCE)
                memcpy(s->adv + b * G, s->rewards + b * G, (size_t)G * sizeof(float));
            else
                fl_grpo_advantages(s->adv + b * G, s->rewards + b * G, G, 1e-6f);
        }
        loss = fl_pg_loss(dz, probs, logp, s->actions, s->adv, B, G, V, 1.0f);
        if (c->method == FL_FT_GRPO_KL)
            loss += (float)c->kl_coef * fl_kl_loss(dz, probs, logp, s->logp0b, B, V, (float)c->kl_coef);
        *reward = hits / (B * G);
        fl_mlp_backward(s->m, &s->st.acts, dz, NULL, B);
        return loss;
    }
    int pred[512];
    for (int b = 0; b < B; b += 512) {
        int nb = B - b < 512 ? B - b : 512;
        fl_argmax_rows(pred, logits + (size_t)b * V, nb, V);
        for (int k = 0; k < nb; k++) hits += fl_task_correct(FL_TASK_PARITY, s->labels[b + k], pred[k]);
    }
    *reward = hits / B;
    fl_mlp_backward(s->m, &s->st.acts, dz, NULL, B);
    return loss;
}

static cJSON *make_config(const fl_finetune_config *c, const char *base_dir, int n_train) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "finetune");
    cJSON_AddStringToObject(j, "version", FORGETLAB_VERSION);
    cJSON_AddStringToObject(j, "base", base_dir ? base_dir : "");
    cJSON_AddStringToObject(j, "new_task", "parity");
    cJSON_AddStringToObject(j, "prior_task", "fashion");
    cJSON_AddNumberToObject(j, "train_examples", n_train);
    fl_settings_to_json(j, FL_FINETUNE_SETTINGS, FL_FINETUNE_NSETTINGS, c);
    /* What no option changes, recorded all the same. */
    cJSON_AddStringToObject(j, "optimizer", "adamw");
    cJSON_AddNumberToObject(j, "warmup_frac", c->warmup_frac);
    cJSON_AddNumberToObject(j, "weight_decay", 0.0);
    if (c->method == FL_FT_SFT2 && (!fl_sft2_labels_default(c->sft2_labels) || c->sft2_soft)) {
        const fl_setting *l = fl_setting_find(FL_FINETUNE_SETTINGS, FL_FINETUNE_NSETTINGS, "sft2-labels");
        char pairs[32];
        l->format(c->sft2_labels, pairs, sizeof pairs);
        cJSON_AddStringToObject(j, "sft2_labels", pairs);
        cJSON_AddBoolToObject(j, "sft2_soft", c->sft2_soft);
    }
    cJSON *streams = cJSON_AddObjectToObject(j, "rng_streams");
    cJSON_AddNumberToObject(streams, "data", FL_STREAM_DATA);
    cJSON_AddNumberToObject(streams, "labels", FL_STREAM_LABELS);
    cJSON_AddNumberToObject(streams, "sample", FL_STREAM_SAMPLE);
    cJSON_AddNumberToObject(streams, "eval", FL_STREAM_EVAL);
    fl_budget_config_json(j, &c->budget);
    return j;
}

static int log_line(const fl_rundir *rd, long step, double epoch, float loss, float lr,
                    double reward, const fl_measurement *meas) {
    cJSON *j = meas ? fl_measurement_json(meas) : cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", (double)step);
    cJSON_AddNumberToObject(j, "epoch", epoch);
    cJSON_AddNumberToObject(j, "loss", loss);
    cJSON_AddNumberToObject(j, "lr", lr);
    cJSON_AddNumberToObject(j, "reward", reward);
    if (meas) cJSON_AddBoolToObject(j, "checkpoint", 1);
    int rc = fl_rundir_log(rd, j);
    cJSON_Delete(j);
    return rc;
}

static int alloc_state(run_state *s, int batch, int G) {
    size_t nb = (size_t)batch;
    s->xb = fl_malloc(nb * FL_TASK_DIM * sizeof(float), "batch");
    s->qb = fl_malloc(nb * V * sizeof(float), "batch");
    s->logp0b = fl_malloc(nb * V * sizeof(float), "batch");
    s->adv = fl_malloc(nb * G * sizeof(float), "batch");
    s->rewards = fl_malloc(nb * G * sizeof(float), "batch");
    s->yb = fl_malloc(nb * sizeof(int), "batch");
    s->ylb = fl_malloc(nb * sizeof(int), "batch");
    s->labels = fl_malloc(nb * sizeof(int), "batch");
    s->actions = fl_malloc(nb * G * sizeof(int), "batch");
    return s->xb && s->qb && s->logp0b && s->adv && s->rewards && s->yb && s->ylb && s->labels &&
                   s->actions ? 0 : -1;
}

static void free_state(run_state *s) {
    void *bufs[] = {s->xb, s->qb, s->logp0b, s->adv, s->rewards, s->yb, s->ylb, s->labels, s->actions};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    fl_classifier_step_free(&s->st);
}

/* The loop's resumable state beyond the weights and moments. */
typedef struct {
    fl_optim opt;
    fl_batcher bt;
    fl_rng data_rng;
    long step, ckpt, pos, epoch, train_ms, eval_ms, pred_ms, circuit_ms;
} loop_state;

/* What a measured checkpoint reads and writes. */
typedef struct {
    run_state *s;
    const fl_measure_ctx *mctx;
    fl_rundir *rd;
    fl_loop *L;
    loop_state *ls;
    fl_checkpoint_fn on_ckpt;
    void *user;
    long total;
    double t_start;
} ckpt_ctx;

/* Checkpoint *ckpt after step (1-based): measured (the last one is the
 * final model, measured once with the per-layer ranks and kept for
 * summary.json), logged, handed to on_ckpt, and the loop's state saved
 * when the run is resumable and goes on. */
static int checkpoint(const ckpt_ctx *k, long step, double epoch, float loss, float lr, double reward, int *ckpt) {
    run_state *s = k->s;
    loop_state *ls = k->ls;
    fl_measurement meas;
    if (fl_measure_model(k->mctx, s->m, step == k->total, &meas)) return -1;
    if (step == k->total) s->final = meas;
    s->eval_s += meas.eval_s;
    s->predictors_s += meas.predictors_s;
    s->circuit_s += meas.circuit_s;
    if (log_line(k->rd, step, epoch, loss, lr, reward, &meas)) return -1;
    if (k->on_ckpt && k->on_ckpt(k->user, *ckpt, step, epoch, &meas)) return -1;
    s->last_kl = meas.new_div.forward_kl;
    if (s->c->budget.kl_budget > 0)
        fl_budget_check(&s->kept, &s->c->budget, s->m->blob.params, s->last_kl, *ckpt, step, epoch);
    (*ckpt)++;
    if (!s->c->resumable || step >= k->total || s->kept.stopped) return 0;
    ls->step = step, ls->ckpt = *ckpt;
    ls->eval_ms = lround(1000.0 * s->eval_s), ls->pred_ms = lround(1000.0 * s->predictors_s);
    ls->circuit_ms = lround(1000.0 * s->circuit_s);
    ls->train_ms = lround(1000.0 * (fl_now() - k->t_start)) - ls->eval_ms - ls->pred_ms;
    ls->pos = ls->bt.pos, ls->epoch = ls->bt.epoch;
    return fl_loop_save(k->L);
}

/* The optimisation loop with its checkpoints; with c->resumable, resumed
 * from dir's state when there is one (rd is opened here either way). */
static int train_loop(run_state *s, const fl_measure_ctx *mctx, fl_rundir *rd, const char *dir,
                      const char *cfg_text, const cJSON *cfg, fl_checkpoint_fn on_ckpt, void *user) {
    const fl_finetune_config *c = s->c;
    loop_state ls = {0};
    fl_loop L = {0};
    fl_rng_init(&ls.data_rng, c->seed, FL_STREAM_DATA);
    if (fl_batcher_init(&ls.bt, s->t->n, c->batch, &ls.data_rng)) return -1;
    fl_optim_adamw(&ls.opt, 0.9f, 0.999f, 1e-8f, 0.0f);
    const long spe = fl_batcher_steps_per_epoch(&ls.bt), total = spe * c->epochs;
    char label[64];
    snprintf(label, sizeof label, "finetune %s", fl_ft_method_name(c->method));
    const fl_trainstate_rng rngs[] = {{"data_rng", &ls.data_rng}, {"sample_rng", &s->sample_rng}};
    fl_trainstate_long longs[8 + FL_BUDGET_NLONGS] = {{"step", &ls.step},         {"checkpoint", &ls.ckpt}, {"batch_pos", &ls.pos},
                                {"batch_epoch", &ls.epoch}, {"train_ms", &ls.train_ms}, {"eval_ms", &ls.eval_ms},
                                {"predictors_ms", &ls.pred_ms}, {"circuit_ms", &ls.circuit_ms}};
    const fl_trainstate_ints ints[] = {{"batch_order", ls.bt.order, ls.bt.n}};
    fl_loop_spec spec = {
        .dir = dir, .config = cfg, .position = &ls.step, .resume_key = "step", .resumable = c->resumable,
        .label = label, .total = total, .progress = c->progress,
        .state = {.kind = "finetune", .config = cfg_text, .blob = &s->m->blob, .opt_t = &ls.opt.t, .rngs = rngs,
                  .nrngs = 2, .longs = longs, .nlongs = 8, .ints = ints, .nints = 1}};
    /* A budgeted run's kept checkpoint travels with the state. */
    fl_budget_entries be;
    if (c->budget.kl_budget > 0) fl_budget_attach(&be, &s->kept, &spec.state, longs);
    ls.pos = ls.bt.pos, ls.epoch = ls.bt.epoch;
    int rc = -1;
    if (fl_loop_begin(&L, &spec, rd) < 0) goto out;
    ls.bt.pos = (int)ls.pos, ls.bt.epoch = ls.epoch;
    s->eval_s = ls.eval_ms / 1000.0, s->predictors_s = ls.pred_ms / 1000.0, s->circuit_s = ls.circuit_ms / 1000.0;
    fl_schedule sched = {c->schedule, (float)c->lr, (long)(c->warmup_frac * (double)total), total, 0.0f};
    int ckpt = (int)ls.ckpt;
    const double t_start = fl_now() - (ls.train_ms + ls.eval_ms + ls.pred_ms) / 1000.0;
    const ckpt_ctx k = {s, mctx, rd, &L, &ls, on_ckpt, user, total, t_start};
    for (long step = ls.step; step < total; step++) {
        const int *rows;
        int B = fl_batcher_next(&ls.bt, &rows);
        double reward = 0;
        fl_blob_zero_grads(&s->m->blob);
        float loss = method_loss(s, rows, B, &reward);
        /* The loss every step; gradients and weights (a pass over every
         * parameter) at each logged step and checkpoint. */
        long next = lround((ckpt + 1) * c->checkpoint_every * (double)spe);
        int full = (step + 1) % c->log_every == 0 || step + 1 >= next || step + 1 == total;
        if (fl_check_finite(loss, full ? &s->m->blob : NULL, step + 1, 1)) {
            rc = FL_DIVERGED;
            goto out;
        }
        float lr = fl_schedule_lr(&sched, step);
        fl_optim_step(&ls.opt, &s->m->blob, lr);
        if (full && fl_check_finite(0.0f, &s->m->blob, step + 1, 0)) {
            rc = FL_DIVERGED;
            goto out;
        }
        double epoch = (double)(step + 1) / (double)spe;
        /* Checkpoint k falls on the step nearest k * checkpoint_every epochs. */
        if (step + 1 >= next || step + 1 == total) {
            if (checkpoint(&k, step + 1, epoch, loss, lr, reward, &ckpt)) goto out;
            if (s->kept.stopped) break; /* past the budget: the kept checkpoint is the model */
        } else if ((step + 1) % c->log_every == 0) {
            if (log_line(rd, step + 1, epoch, loss, lr, reward, NULL)) goto out;
        }
        char extra[96], kl[48];
        fl_budget_progress(&c->budget, s->last_kl, kl, sizeof kl);
        snprintf(extra, sizeof extra, "loss %.4f reward %.3f%s", loss, reward, kl);
        fl_loop_update(&L, step + 1, extra);
    }
    fl_loop_end(&L);
    s->train_s = fl_now() - t_start - s->eval_s - s->predictors_s;
    rc = 0;
out:
    fl_loop_free(&L);
    fl_batcher_free(&ls.bt);
    return rc;
}

int fl_finetune_run(const fl_finetune_config *c, const fl_mlp *base, const fl_task_data *train,
                    const fl_measure_ctx *mctx, const char *out_dir, const char *base_dir,
                    fl_checkpoint_fn on_ckpt, void *user, fl_measurement *final, double *train_s) {
    if (c->method == FL_FT_DISTILL && !c->teacher) return fl_error_set("distill needs a teacher model");
    targets t;
    if (build_targets(&t, c, base, train)) return -1;
    run_state s = {.c = c, .td = train, .t = &t};
    fl_mlp m = {0};
    fl_rundir rd = {0};
    cJSON *cfg = make_config(c, base_dir, t.n), *sum = NULL;
    char *cfg_text = NULL, *path = NULL, *replaced = NULL;
    int rc = -1;
    fl_rng_init(&s.sample_rng, c->seed, FL_STREAM_SAMPLE);
    if (fl_mlp_create(&m, base->nlayers, base->dims)) goto out;
    memcpy(m.blob.params, base->blob.params, base->blob.n * sizeof(float));
    s.m = &m;
    if (alloc_state(&s, c->batch, c->group_size) || fl_classifier_step_alloc(&s.st, &m, c->batch)) goto out;
    if (c->budget.kl_budget > 0 && fl_budget_init(&s.kept, base->blob.params, base->blob.n)) goto out;
    if (!(cfg_text = cJSON_PrintUnformatted(cfg)) ||
        fl_rundir_claim(out_dir, "finetune", cfg_text, c->overwrite, &replaced) || fl_mkdirs(out_dir))
        goto out;
    int trc = train_loop(&s, mctx, &rd, out_dir, cfg_text, cfg, on_ckpt, user);
    if (trc) {
        rc = trc;
        goto out;
    }
    fl_measurement meas = s.final;
    if (c->budget.kl_budget > 0) {
        /* The kept checkpoint is the run's model, measured once more: in
         * full when the prior task's data is there (after the decision,
         * which read none of it). */
        memcpy(m.blob.params, s.kept.params, m.blob.n * sizeof(float));
        if (fl_measure_model(c->eval_ctx ? c->eval_ctx : mctx, &m, 1, &meas)) goto out;
    }
    if (c->save_model) {
        path = fl_rundir_path(&rd, "model.safetensors");
        if (!path || fl_mlp_save(path, &m, cfg_text)) goto out;
    }
    if (c->resumable) {
        /* The run is complete: a rerun starts afresh rather than resuming. */
        char *state = fl_rundir_path(&rd, "state.safetensors");
        if (state) unlink(state);
        free(state);
    }
    sum = fl_measurement_json(&meas);
    cJSON_AddNumberToObject(sum, "train_s", s.train_s);
    cJSON_AddNumberToObject(sum, "eval_s", s.eval_s);
    cJSON_AddNumberToObject(sum, "predictors_s", s.predictors_s);
    cJSON_AddNumberToObject(sum, "circuit_s", s.circuit_s);
    fl_budget_summary_json(sum, &c->budget, &s.kept);
    if (fl_rundir_write_json(&rd, "summary.json", sum)) goto out;
    if (final) {
        *final = meas;
        final->eval_s = s.eval_s;
        final->predictors_s = s.predictors_s;
        final->circuit_s = s.circuit_s;
    }
    if (train_s) *train_s = s.train_s;
    rc = 0;
out:
    fl_rundir_release(replaced, rc == 0);
    cJSON_Delete(cfg);
    cJSON_Delete(sum);
    free(cfg_text);
    free(path);
    free_state(&s);
    fl_budget_free(&s.kept);
    fl_rundir_close(&rd);
    fl_mlp_free(&m);
    targets_free(&t);
    return rc;
}
