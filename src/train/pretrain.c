/* pretrain.c: the base model of the RL's Razor toy (docs/razor.md):
 * an MLP trained jointly on per_task images of ParityMNIST and of
 * FashionMNIST, then evaluated on both test sets. */
#include "forgetlab/core/clock.h"
#include "forgetlab/train/pretrain.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/train/trainloop.h"
#include "forgetlab/store/trainstate.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

void fl_pretrain_defaults(fl_pretrain_config *c) {
    memset(c, 0, sizeof *c);
    c->spec = "785-512-256-10";
    c->per_task = 500;
    c->epochs = 20, c->batch = 32;
    c->lr = 1e-3, c->weight_decay = 0.0, c->beta1 = 0.9, c->beta2 = 0.999;
    c->seed = 0;
    c->log_every = 10, c->checkpoint_every = 5;
    c->progress = 1;
}

static int check_spec(const char *v, void *field) {
    int nl, dims[FL_MLP_MAX_LAYERS + 1];
    (void)field;
    return fl_mlp_parse_spec(v, &nl, dims);
}

#define F(field) offsetof(fl_pretrain_config, field)
const fl_setting FL_PRETRAIN_SETTINGS[] = {
    {"model", FL_SET_STRING, F(spec), 0, 0, "SPEC", "MLP widths", "model", check_spec, NULL},
    {"per-task", FL_SET_INT, F(per_task), 1, 60000, "N", "training images per task", "per_task", NULL, NULL},
    {"epochs", FL_SET_INT, F(epochs), 1, 100000, "N", "passes over the training set", "epochs", NULL, NULL},
    {"batch", FL_SET_INT, F(batch), 1, 65536, "N", "minibatch size", "batch", NULL, NULL},
    {"lr", FL_SET_DOUBLE, F(lr), 1e-12, 10.0, "X", "AdamW learning rate", "lr", NULL, NULL},
    {"weight-decay", FL_SET_DOUBLE, F(weight_decay), 0.0, 100.0, "X", "AdamW decoupled weight decay", "weight_decay",
     NULL, NULL},
    {"clip", FL_SET_DOUBLE, F(clip), 0.0, 1e9, "X", "clip the gradient norm to X; 0: off", "clip", NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "random seed", "seed", NULL, NULL},
    {"checkpoint-every", FL_SET_INT, F(checkpoint_every), 1, 100000, "N",
     "epochs between resumable states; rerunning the same command after a kill resumes from the last one",
     "checkpoint_every", NULL, NULL},
    {"log-every", FL_SET_INT, F(log_every), 1, 1 << 30, "N", "steps between metrics.jsonl lines", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
const int FL_PRETRAIN_NSETTINGS = (int)(sizeof FL_PRETRAIN_SETTINGS / sizeof *FL_PRETRAIN_SETTINGS);

int fl_eval_task(const fl_mlp *m, const fl_task_data *td, double *acc, float *logits_out) {
    float *logits = logits_out;
    if (!logits && !(logits = fl_malloc((size_t)td->n * FL_TASK_CLASSES * sizeof(float), "logits")))
        return -1;
    int rc = fl_mlp_logits(m, td->x, td->n, logits);
    if (rc == 0) *acc = fl_task_accuracy(td->task, logits, td->label, td->n);
    if (logits != logits_out) free(logits);
    return rc;
}

/* The training set: per_task images of each task, picked by the data stream;
 * each ParityMNIST image gets one label drawn uniformly from the five digits
 * of its parity (the labels stream), each Fashion image its class. */
typedef struct {
    int n;
    float *x;   /* [n, 785] */
    int *y;     /* [n] training label */
} train_set;

static int pick_examples(train_set *ts, int *at, const fl_task_data *td, int k,
                         fl_rng *data_rng, fl_rng *label_rng) {
    if (k > td->n)
        return fl_error_set("--per-task %d: the %s training split has only %d images", k,
                            fl_task_name(td->task), td->n);
    int *idx = fl_malloc((size_t)td->n * sizeof(int), "indices");
    if (!idx) return -1;
    for (int i = 0; i < td->n; i++) idx[i] = i;
    fl_rng_shuffle(data_rng, idx, td->n);
    for (int i = 0; i < k; i++, (*at)++) {
        memcpy(ts->x + (size_t)*at * FL_TASK_DIM, td->x + (size_t)idx[i] * FL_TASK_DIM,
               FL_TASK_DIM * sizeof(float));
        int label = td->label[idx[i]];
        if (td->task == FL_TASK_PARITY) label = label % 2 + 2 * (int)fl_rng_below(label_rng, 5);
        ts->y[*at] = label;
    }
    free(idx);
    return 0;
}

static cJSON *make_config(const fl_pretrain_config *c, const char *data_dir) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "pretrain");
    cJSON_AddStringToObject(j, "version", FORGETLAB_VERSION);
    fl_settings_to_json(j, FL_PRETRAIN_SETTINGS, FL_PRETRAIN_NSETTINGS, c);
    /* What no option changes, recorded all the same. */
    cJSON_AddStringToObject(j, "optimizer", "adamw");
    cJSON_AddStringToObject(j, "schedule", "constant");
    cJSON_AddNumberToObject(j, "beta1", c->beta1);
    cJSON_AddNumberToObject(j, "beta2", c->beta2);
    cJSON *streams = cJSON_AddObjectToObject(j, "rng_streams");
    cJSON_AddNumberToObject(streams, "init", FL_STREAM_INIT);
    cJSON_AddNumberToObject(streams, "data", FL_STREAM_DATA);
    cJSON_AddNumberToObject(streams, "labels", FL_STREAM_LABELS);
    cJSON_AddNumberToObject(j, "mnist_split_seed", (double)FL_SPLIT_SEED);
    cJSON_AddNumberToObject(j, "threads", fl_get_threads());
    cJSON_AddStringToObject(j, "data_dir", data_dir);
    cJSON *files = cJSON_AddArrayToObject(j, "data_files");
    const char *names[] = {"mnist/0.json ... mnist/9.json",
                           "fashion-mnist/train-images-idx3-ubyte.gz",
                           "fashion-mnist/train-labels-idx1-ubyte.gz",
                           "fashion-mnist/t10k-images-idx3-ubyte.gz",
                           "fashion-mnist/t10k-labels-idx1-ubyte.gz"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cJSON_AddItemToArray(files, cJSON_CreateString(names[i]));
    return j;
}

static int log_step(const fl_rundir *rd, long step, double epoch, float loss, float lr) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", (double)step);
    cJSON_AddNumberToObject(j, "epoch", epoch);
    cJSON_AddNumberToObject(j, "loss", loss);
    cJSON_AddNumberToObject(j, "lr", lr);
    int rc = fl_rundir_log(rd, j);
    cJSON_Delete(j);
    return rc;
}

/* The loop's resumable state beyond the weights and moments: the data
 * stream, the minibatch order and position, the step, the last loss (as
 * its bits) and the training time so far. */
typedef struct {
    fl_optim opt;
    fl_batcher bt;
    long step, pos, epoch, loss_bits, train_ms;
} loop_state;

/* Saves the state at step, with the loss and the training time so far. */
static int save_state(fl_loop *L, loop_state *ls, long step, float loss, double t0) {
    ls->step = step;
    memcpy(&ls->loss_bits, &loss, sizeof loss);
    ls->train_ms = lround(1000.0 * (fl_now() - t0));
    ls->pos = ls->bt.pos, ls->epoch = ls->bt.epoch;
    return fl_loop_save(L);
}

/* The training loop proper, resumed from out_dir's state when there is
 * one; opens rd. The caller owns and frees everything else. */
static int train(const fl_pretrain_config *c, fl_mlp *m, const train_set *ts, fl_rundir *rd, const char *out_dir,
                 const cJSON *cfg, const char *cfg_text, fl_rng *data_rng, float *final_loss, long *steps_out, double *train_s,
                 double *earlier_s) {
    loop_state ls = {0};
    fl_classifier_step st;
    fl_loop L = {0};
    float *xb = fl_malloc((size_t)c->batch * FL_TASK_DIM * sizeof(float), "batch");
    int *yb = fl_malloc((size_t)c->batch * sizeof(int), "batch labels");
    int rc = -1;
    if (!xb || !yb || fl_batcher_init(&ls.bt, ts->n, c->batch, data_rng)) goto out_buf;
    if (fl_classifier_step_alloc(&st, m, c->batch)) goto out_bt;
    fl_optim_adamw(&ls.opt, (float)c->beta1, (float)c->beta2, 1e-8f, (float)c->weight_decay);
    const long spe = fl_batcher_steps_per_epoch(&ls.bt), total = spe * c->epochs;
    const fl_trainstate_rng rngs[] = {{"data_rng", data_rng}};
    const fl_trainstate_long longs[] = {{"step", &ls.step}, {"batch_pos", &ls.pos}, {"batch_epoch", &ls.epoch},
                                {"loss_bits", &ls.loss_bits}, {"train_ms", &ls.train_ms}};
    const fl_trainstate_ints ints[] = {{"batch_order", ls.bt.order, ls.bt.n}};
    const fl_loop_spec spec = {
        .dir = out_dir, .config = cfg, .position = &ls.step, .resume_key = "step", .resumable = 1,
        .label = "pretrain", .total = total, .progress = c->progress,
        .state = {.kind = "pretrain", .config = cfg_text, .blob = &m->blob, .opt_t = &ls.opt.t, .rngs = rngs,
                  .nrngs = 1, .longs = longs, .nlongs = 5, .ints = ints, .nints = 1}};
    ls.pos = ls.bt.pos, ls.epoch = ls.bt.epoch;
    if (fl_loop_begin(&L, &spec, rd) < 0) goto out_all;
    ls.bt.pos = (int)ls.pos, ls.bt.epoch = ls.epoch;
    memcpy(final_loss, &ls.loss_bits, sizeof *final_loss);
    *earlier_s = ls.train_ms / 1000.0; /* the training time of the parts before a resume */
    const double t0 = fl_now() - ls.train_ms / 1000.0;
    for (long step = ls.step; step < total; step++) {
        const int *idx;
        int B = fl_batcher_next(&ls.bt, &idx);
        fl_gather_rows(xb, ts->x, FL_TASK_DIM, idx, B);
        fl_gather_ints(yb, ts->y, idx, B);
        fl_blob_zero_grads(&m->blob);
        float loss = fl_classifier_ce_step(m, &st, xb, yb, NULL, B);
        if (fl_check_finite(loss, (step + 1) % c->log_every ? NULL : &m->blob, step + 1, 1)) goto out_all;
        if (c->clip > 0) fl_clip_grad_norm(&m->blob, (float)c->clip);
        fl_optim_step(&ls.opt, &m->blob, (float)c->lr);
        *final_loss = loss;
        if ((step + 1) % c->log_every == 0 || step + 1 == total)
            if (log_step(rd, step + 1, (double)(step + 1) / (double)spe, loss, (float)c->lr)) goto out_all;
        if ((step + 1) % (spe * c->checkpoint_every) == 0 && step + 1 < total &&
            save_state(&L, &ls, step + 1, loss, t0))
            goto out_all;
        char extra[32];
        snprintf(extra, sizeof extra, "loss %.4f", loss);
        fl_loop_update(&L, step + 1, extra);
    }
    fl_loop_end(&L);
    if (save_state(&L, &ls, total, *final_loss, t0)) goto out_all;
    *steps_out = total;
    *train_s = ls.train_ms / 1000.0;
    rc = 0;
out_all:
    fl_loop_free(&L);
    fl_classifier_step_free(&st);
out_bt:
    fl_batcher_free(&ls.bt);
out_buf:
    free(xb);
    free(yb);
    return rc;
}

int fl_pretrain_run(const fl_pretrain_config *c, const char *out_dir) {
    double t0 = fl_now();
    const char *data_dir = fl_data_dir(c->data_dir);
    fl_set_threads(c->threads);
    fl_task_data tasks[2][2] = {{{0}}}; /* [task][train, test] */
    const char *splits[2] = {"train", "test"};
    fl_mlp m = {0};
    fl_rundir rd = {0};
    train_set ts = {0};
    cJSON *cfg = NULL, *sum = NULL;
    char *cfg_text = NULL, *model_path = NULL, *replaced = NULL;
    int rc = -1;
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < 2; s++)
            if (fl_task_load(&tasks[t][s], (fl_task_id)t, data_dir, splits[s])) goto out;
    if (fl_mlp_create_from_spec(&m, c->spec)) goto out;
    if (m.dims[0] != FL_TASK_DIM || m.dims[m.nlayers] != FL_TASK_CLASSES) {
        fl_error_set("--model %s: the tasks need %d inputs and %d outputs", c->spec, FL_TASK_DIM,
                     FL_TASK_CLASSES);
        goto out;
    }
    fl_rng init_rng, data_rng, label_rng;
    fl_rng_init(&init_rng, c->seed, FL_STREAM_INIT);
    fl_rng_init(&data_rng, c->seed, FL_STREAM_DATA);
    fl_rng_init(&label_rng, c->seed, FL_STREAM_LABELS);
    fl_mlp_init(&m, &init_rng);

    ts.n = 2 * c->per_task;
    ts.x = fl_malloc((size_t)ts.n * FL_TASK_DIM * sizeof(float), "training set");
    ts.y = fl_malloc((size_t)ts.n * sizeof(int), "training labels");
    if (!ts.x || !ts.y) goto out;
    int at = 0;
    for (int t = 0; t < 2; t++)
        if (pick_examples(&ts, &at, &tasks[t][0], c->per_task, &data_rng, &label_rng)) goto out;

    cfg = make_config(c, data_dir);
    cfg_text = cJSON_PrintUnformatted(cfg);
    if (!cfg_text || fl_rundir_claim(out_dir, "pretrain", cfg_text, c->overwrite, &replaced) || fl_mkdirs(out_dir))
        goto out;
    float final_loss = 0;
    long steps = 0;
    double train_s = 0, earlier_s = 0;
    /* The batch order continues the data stream after the subset draws. */
    if (train(c, &m, &ts, &rd, out_dir, cfg, cfg_text, &data_rng, &final_loss, &steps, &train_s, &earlier_s)) goto out;

    double acc[2];
    for (int t = 0; t < 2; t++)
        if (fl_eval_task(&m, &tasks[t][1], &acc[t], NULL)) goto out;
    model_path = fl_rundir_path(&rd, "model.safetensors");
    if (!model_path || fl_mlp_save(model_path, &m, cfg_text)) goto out;
    sum = cJSON_CreateObject();
    cJSON_AddNumberToObject(sum, "parity_acc", acc[FL_TASK_PARITY]);
    cJSON_AddNumberToObject(sum, "fashion_acc", acc[FL_TASK_FASHION]);
    cJSON_AddNumberToObject(sum, "final_loss", final_loss);
    cJSON_AddNumberToObject(sum, "steps", (double)steps);
    /* A resumed run's wall time: this part's, plus the training time of
     * the parts before it (up to the checkpoint it resumed from). */
    cJSON_AddNumberToObject(sum, "wall_time_s", fl_now() - t0 + earlier_s);
    cJSON_AddNumberToObject(sum, "train_time_s", train_s);
    if (fl_rundir_write_json(&rd, "summary.json", sum)) goto out;
    /* The run is complete: a rerun starts afresh (a few seconds) rather
     * than resuming. */
    char *state = fl_rundir_path(&rd, "state.safetensors");
    if (state) unlink(state);
    free(state);
    rc = 0;
out:
    fl_rundir_release(replaced, rc == 0);
    cJSON_Delete(cfg);
    cJSON_Delete(sum);
    free(cfg_text);
    free(model_path);
    free(ts.x);
    free(ts.y);
    fl_rundir_close(&rd);
    fl_mlp_free(&m);
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < 2; s++) fl_task_free(&tasks[t][s]);
    return rc;
}
