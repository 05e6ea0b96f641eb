/* grok.c: `forgetlab grok`: a transformer trained on a o b mod p, with
 * the accuracy curves, the progress measures, resumable checkpoints, and
 * the memorised and grokked epochs (see grok.h). */
#include "forgetlab/core/clock.h"
#include "forgetlab/train/grok.h"

#include "forgetlab/measure/attribution_tf.h"
#include "forgetlab/store/checkpoint.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/measure/fourier.h"
#include "forgetlab/measure/grokforget_measure.h"
#include "forgetlab/measure/weights.h"
#include "forgetlab/nn/layers.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/store/trainstate.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/train/trainloop.h"
#include "forgetlab/core/log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define MEMORIZED_ACC 0.99
#define GROKKED_ACC 0.95
#define EVAL_CHUNK 4096

void fl_grok_defaults(fl_grok_config *c) {
    memset(c, 0, sizeof *c);
    c->preset = "nanda";
    c->p = 113;
    c->ops.op[0] = FL_OP_ADD;
    c->ops.n = 1;
    c->frac = 0.3;
    c->layers = 1, c->d_model = 128, c->heads = 4, c->d_mlp = 512;
    c->act = FL_TF_RELU;
    c->init = FL_TF_INIT_SCALED;
    c->lr = 1e-3, c->wd = 1.0, c->beta1 = 0.9, c->beta2 = 0.98;
    c->warmup = 10;
    c->epochs = 40000;
    c->log_every = 10, c->measure_every = 100, c->checkpoint_every = 1000;
    c->key_freqs = 5;
    c->cs_examples = 32;
    c->progress = 1;
}

static int parse_prime(const char *v, void *field) {
    long n;
    if (fl_parse_long("p", v, 2, 4096, &n)) return -1;
    if (!fl_is_prime((int)n)) return fl_error_set("%ld is not a prime", n);
    *(int *)field = (int)n;
    return 0;
}
static void format_int(const void *field, char *buf, size_t n) { snprintf(buf, n, "%d", *(const int *)field); }
static int parse_ops(const char *v, void *field) { return fl_mod_ops_parse(v, field); }
static void format_ops(const void *field, char *buf, size_t n) { fl_mod_ops_format(field, buf, n); }
/* act and init take one of two words: 0 for word0, 1 for word1, else -1
 * with an error naming both. */
static int which_of(const char *v, const char *word0, const char *word1) {
    if (strcmp(v, word0) == 0) return 0;
    if (strcmp(v, word1) == 0) return 1;
    return fl_error_set("expected %s or %s, got '%s'", word0, word1, v);
}
static int parse_act(const char *v, void *field) {
    const int k = which_of(v, "relu", "gelu");
    if (k >= 0) *(fl_tf_act *)field = k ? FL_TF_GELU : FL_TF_RELU;
    return k < 0 ? -1 : 0;
}
static int parse_init(const char *v, void *field) {
    const int k = which_of(v, "scaled", "torch");
    if (k >= 0) *(fl_tf_init_kind *)field = k ? FL_TF_INIT_TORCH : FL_TF_INIT_SCALED;
    return k < 0 ? -1 : 0;
}
static void format_act(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const fl_tf_act *)field == FL_TF_GELU ? "gelu" : "relu");
}
static void format_init(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const fl_tf_init_kind *)field == FL_TF_INIT_SCALED ? "scaled" : "torch");
}

/* p is written as a number (make_config), as config.json always had it. */
#define F(field) offsetof(fl_grok_config, field)
const fl_setting FL_GROK_SETTINGS[] = {
    {"p", FL_SET_CUSTOM, F(p), 0, 0, "N", "prime modulus", NULL, parse_prime, format_int},
    {"op", FL_SET_CUSTOM, F(ops), 0, 0, "OPS",
     "+, -, *, /, x2+y2, x2+xy+y2, x3+xy, or several separated by commas (then an operation token is added)", "ops",
     parse_ops, format_ops},
    /* Recorded only when set (make_config), so models made before it keep their identity. */
    {"reserve-ops", FL_SET_INT, F(reserve_ops), 0, FL_NOPS, "N",
     "operation tokens kept in the vocabulary, never trained, for tasks asked later (the [a, op, b, =] layout)", NULL,
     NULL, NULL},
    {"intro-new", FL_SET_INT, F(intro_new), 0, 1 << 24, "N",
     "also train on N training pairs asked with the first reserved token, towards the uniform distribution over "
     "the p answers (the base learns the token asks something else, not what)",
     NULL, NULL, NULL},
    {"frac", FL_SET_DOUBLE, F(frac), 1e-9, 1 - 1e-9, "X", "training fraction of all equations, in (0, 1)", "frac",
     NULL, NULL},
    {"layers", FL_SET_INT, F(layers), 1, FL_TF_MAX_LAYERS, "N", "transformer blocks", "layers", NULL, NULL},
    {"d-model", FL_SET_INT, F(d_model), 1, 4096, "N", "residual width", "d_model", NULL, NULL},
    {"heads", FL_SET_INT, F(heads), 1, 256, "N", "attention heads (d-model must divide by it)", "heads", NULL, NULL},
    {"d-mlp", FL_SET_INT, F(d_mlp), 1, 65536, "N", "MLP width", "d_mlp", NULL, NULL},
    {"act", FL_SET_CUSTOM, F(act), 0, 0, "A", "MLP activation: relu or gelu", "activation", parse_act, format_act},
    {"layernorm", FL_SET_FLAG, F(layernorm), 0, 0, NULL, "pre-LayerNorm blocks and a final LayerNorm", "layernorm",
     NULL, NULL},
    {"init", FL_SET_CUSTOM, F(init), 0, 0, "I",
     "scaled: weights N(0, 1/fan_in), biases 0 (Nanda et al.); torch: PyTorch's default initialisation", "init",
     parse_init, format_init},
    {"lr", FL_SET_DOUBLE, F(lr), 1e-12, 10.0, "X", "AdamW learning rate", "lr", NULL, NULL},
    {"wd", FL_SET_DOUBLE, F(wd), 0.0, 100.0, "X", "AdamW decoupled weight decay", "wd", NULL, NULL},
    {"beta1", FL_SET_DOUBLE, F(beta1), 0.0, 0.999999, "X", "AdamW beta1", "beta1", NULL, NULL},
    {"beta2", FL_SET_DOUBLE, F(beta2), 0.0, 0.999999, "X", "AdamW beta2", "beta2", NULL, NULL},
    {"warmup", FL_SET_INT, F(warmup), 0, 1 << 30, "N", "linear learning-rate warm-up steps", "warmup", NULL, NULL},
    /* Not part of a run's identity: a finished run continues to a larger --epochs. */
    {"epochs", FL_SET_LONG, F(epochs), 1, 100000000, "N", "epochs (full passes over the training set)", NULL, NULL,
     NULL},
    /* Recorded as the batch actually used (make_config). */
    {"batch", FL_SET_INT, F(batch), 0, 1 << 24, "N", "minibatch size; 0: full batch", NULL, NULL, NULL},
    {"log-every", FL_SET_INT, F(log_every), 1, 1 << 30, "N", "epochs between evaluations / metrics lines", "log_every",
     NULL, NULL},
    {"measure-every", FL_SET_INT, F(measure_every), 1, 1 << 30, "N",
     "epochs between progress measures (multiple of --log-every)", "measure_every", NULL, NULL},
    {"checkpoint-every", FL_SET_INT, F(checkpoint_every), 1, 1 << 30, "N",
     "epochs between resumable checkpoints (multiple of --log-every)", NULL, NULL, NULL},
    {"key-freqs", FL_SET_INT, F(key_freqs), 1, 64, "N", "key frequencies the measures keep", "key_freqs", NULL, NULL},
    {"stop-at-grok", FL_SET_FLAG, F(stop_at_grok), 0, 0, NULL,
     "stop at the first logged epoch with test accuracy >= 0.95", NULL, NULL, NULL},
    {"cs-examples", FL_SET_INT, F(cs_examples), 2, 1 << 20, "N", "equations per subtask for circuit stability",
     "cs_examples", NULL, NULL},
    {"snapshot-every", FL_SET_INT, F(snapshot_every), 0, 1 << 30, "N",
     "keep the weights every N epochs in DIR/snapshots/ (for 'forgetlab circuits' over training); 0: none", NULL,
     NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "seed of the initialisation, split and order", "seed", NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
};
#undef F
const int FL_GROK_NSETTINGS = (int)(sizeof FL_GROK_SETTINGS / sizeof *FL_GROK_SETTINGS);

int fl_grok_preset(fl_grok_config *c, const char *name) {
    uint64_t seed = c->seed;
    int threads = c->threads, progress = c->progress, snapshot_every = c->snapshot_every, overwrite = c->overwrite;
    const int reserve_ops = c->reserve_ops, intro_new = c->intro_new;
    if (strcmp(name, "nanda") == 0) {
        fl_grok_defaults(c);
    } else if (strcmp(name, "quick") == 0) {
        /* A smaller p and model and more data: memorised by epoch ~200,
         * grokked by ~1,500, then cleaned up (docs/grokking.md). */
        fl_grok_defaults(c);
        c->preset = "quick";
        c->p = 59, c->frac = 0.5;
        c->d_model = 64, c->heads = 4, c->d_mlp = 256;
        c->epochs = 3000;
        c->measure_every = 50, c->checkpoint_every = 500;
    } else if (strcmp(name, "tiny") == 0) {
        /* For tests: p 31 and 70% of the equations, a narrow model and a
         * larger step: memorised by epoch ~150 and grokked by 250-600 on
         * each of seeds 0-4, in a few seconds on one core. */
        fl_grok_defaults(c);
        c->preset = "tiny";
        c->p = 31, c->frac = 0.7;
        c->d_model = 32, c->heads = 4, c->d_mlp = 128;
        c->lr = 3e-3;
        c->epochs = 2000;
        c->log_every = 50, c->measure_every = 250, c->checkpoint_every = 250;
    } else {
        return fl_error_set("unknown preset '%s' (expected nanda, quick or tiny)", name);
    }
    c->seed = seed, c->threads = threads, c->progress = progress, c->snapshot_every = snapshot_every;
    c->overwrite = overwrite, c->reserve_ops = reserve_ops, c->intro_new = intro_new;
    return 0;
}

/* Everything one run holds. */
typedef struct {
    const fl_grok_config *c;
    fl_modarith d;
    fl_transformer m;
    fl_tf_acts acts;
    fl_optim opt;
    fl_rng order;             /* minibatch order (FL_STREAM_DATA) */
    int cap;                  /* rows of acts and of the loss buffers */
    int *btok, *by, *perm;    /* the batch's tokens and labels; the epoch's order */
    int n_fit;                /* rows trained on: the training equations, then the intro rows */
    int *intro_tok, *intro_y; /* [intro_new, ctx], [intro_new]: the new task's training rows */
    float *probs, *logp, *dlogits;
    float *logits_all;        /* [n, p] from the last evaluation */
    unsigned char *is_train;  /* [n] */
    long epoch;               /* epochs completed */
    long memorized, grokked;  /* -1 until they happen */
    long wall_ms, parts;      /* wall time and parts (runs, resumed or extended) up to the last checkpoint */
} run;

/* Training loss of one batch: forward, cross-entropy at the last position,
 * backward into the blob's (zeroed) grads. */
/* A batch with intro rows (label -1: the uniform distribution over the
 * p answers) beside ordinary ones (one-hot): the mean cross-entropy
 * against those targets, its logit gradient into dlogits. */
static float soft_ce(run *r, int B) {
    const int V = r->d.p;
    double loss = 0;
    for (int i = 0; i < B; i++) {
        const float *lp = r->logp + (size_t)i * V, *pr = r->probs + (size_t)i * V;
        float *dz = r->dlogits + (size_t)i * V;
        const int y = r->by[i];
        for (int v = 0; v < V; v++) {
            const float t = y < 0 ? 1.0f / (float)V : (v == y ? 1.0f : 0.0f);
            loss -= (double)t * lp[v];
            dz[v] = (pr[v] - t) / (float)B;
        }
    }
    return (float)(loss / B);
}

static float batch_step(run *r, int B, int *correct) {
    const int V = r->d.p;
    const float *z = fl_tf_forward(&r->m, &r->acts, r->btok, B);
    fl_softmax_forward(r->probs, z, B, V);
    fl_log_softmax_forward(r->logp, z, B, V);
    int soft = 0;
    for (int i = 0; i < B; i++) soft |= r->by[i] < 0;
    float loss = soft ? soft_ce(r, B) : fl_crossentropy_forward(NULL, r->logp, r->by, B, V);
    int *pred = r->perm + r->n_fit; /* scratch past the order */
    fl_argmax_rows(pred, z, B, V);
    for (int i = 0; i < B; i++) *correct += pred[i] == r->by[i];
    if (!soft) {
        memset(r->dlogits, 0, sizeof(float) * B * V);
        fl_crossentropy_backward(r->dlogits, r->probs, r->by, B, V, 1.0f / B);
    }
    fl_tf_backward(&r->m, &r->acts, r->dlogits);
    return loss;
}

/* Rows idx[0..B): an equation index, or d.n + k for intro row k. */
static void gather_batch(run *r, const int *idx, int B) {
    const int T = r->d.ctx, n = r->d.n;
    for (int i = 0; i < B; i++) {
        const int *src = idx[i] < n ? r->d.tok + (size_t)idx[i] * T : r->intro_tok + (size_t)(idx[i] - n) * T;
        memcpy(r->btok + (size_t)i * T, src, sizeof(int) * T);
        r->by[i] = idx[i] < n ? r->d.y[idx[i]] : r->intro_y[idx[i] - n];
    }
}

/* One epoch: a full-batch step, or minibatches in a fresh order. */
static int train_epoch(run *r, long *step, float *loss_out) {
    const fl_grok_config *c = r->c;
    const int n = r->n_fit, B = c->batch > 0 && c->batch < n ? c->batch : n;
    if (B < n) fl_rng_shuffle(&r->order, r->perm, n);
    double loss_sum = 0;
    int correct = 0;
    for (int at = 0; at < n; at += B) {
        const int b = n - at < B ? n - at : B;
        gather_batch(r, r->perm + at, b);
        fl_blob_zero_grads(&r->m.blob);
        float loss = batch_step(r, b, &correct);
        if (fl_check_finite(loss, &r->m.blob, *step + 1, 1)) return FL_DIVERGED;
        float lr = (float)c->lr * (c->warmup > 0 && *step < c->warmup ? (float)(*step + 1) / c->warmup : 1.0f);
        fl_optim_step(&r->opt, &r->m.blob, lr);
        (*step)++;
        loss_sum += (double)loss * b;
    }
    if (fl_check_finite(0.0f, &r->m.blob, *step, 0)) return FL_DIVERGED;
    *loss_out = (float)(loss_sum / n);
    return 0;
}

/* Logits of every equation into logits_all, and the loss and accuracy of
 * each split. */
static void evaluate(run *r, double loss[2], double acc[2]) {
    const int V = r->d.p, T = r->d.ctx;
    double ls[2] = {0, 0};
    long right[2] = {0, 0}, cnt[2] = {0, 0};
    for (int at = 0; at < r->d.n; at += r->cap) {
        const int B = r->d.n - at < r->cap ? r->d.n - at : r->cap;
        const float *z = fl_tf_forward(&r->m, &r->acts, r->d.tok + (size_t)at * T, B);
        memcpy(r->logits_all + (size_t)at * V, z, sizeof(float) * B * V);
        fl_log_softmax_forward(r->logp, z, B, V);
        for (int i = 0; i < B; i++) {
            const int e = at + i, s = r->is_train[e] ? 0 : 1;
            const float *row = z + (size_t)i * V;
            int best = 0;
            for (int v = 1; v < V; v++) best = row[v] > row[best] ? v : best;
            ls[s] -= r->logp[(size_t)i * V + r->d.y[e]];
            right[s] += best == r->d.y[e];
            cnt[s]++;
        }
    }
    for (int s = 0; s < 2; s++) {
        loss[s] = ls[s] / (double)cnt[s];
        acc[s] = (double)right[s] / (double)cnt[s];
    }
}

/* The progress measures need the answer to be a + b or a - b of one
 * operation over every pair. */
static int fourier_sign(const fl_modarith *d) {
    if (d->nops != 1) return 0;
    return d->ops[0] == FL_OP_ADD ? 1 : d->ops[0] == FL_OP_SUB ? -1 : 0;
}

/* Circuit stability across the subtasks "a = 0..p-1" and "answer = 0..p-1"
 * (fl_mod_cs_grok), each with its random-split baseline, on the same draws
 * at every measurement: at most cs_examples equations per subtask, from
 * all equations, train and test. */
static int log_cs(run *r, cJSON *j) {
    static const char *const NAME[2] = {"cs_by_a", "cs_by_answer"};
    fl_cs_stats st[2];
    if (fl_mod_cs_grok(&r->m, &r->d, r->c->cs_examples, r->c->seed, st)) return -1;
    for (int g = 0; g < 2; g++) {
        char key[48];
        const double v[5] = {st[g].cs, st[g].random.mean, st[g].random.lo, st[g].random.hi,
                             st[g].cs - st[g].random.mean};
        static const char *const SUFFIX[5] = {"", "_random", "_random_lo", "_random_hi", "_excess"};
        for (int i = 0; i < 5; i++) {
            snprintf(key, sizeof key, "%s%s", NAME[g], SUFFIX[i]);
            cJSON_AddItemToObject(j, key, v[i] == v[i] ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
        }
    }
    return 0;
}

static int log_epoch(run *r, const fl_rundir *rd, float train_step_loss, double epoch_ms) {
    const fl_grok_config *c = r->c;
    double loss[2], acc[2];
    evaluate(r, loss, acc);
    if (r->memorized < 0 && acc[0] >= MEMORIZED_ACC) r->memorized = r->epoch;
    if (r->grokked < 0 && acc[1] >= GROKKED_ACC) r->grokked = r->epoch;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "epoch", (double)r->epoch);
    cJSON_AddNumberToObject(j, "train_loss", loss[0]);
    cJSON_AddNumberToObject(j, "train_acc", acc[0]);
    cJSON_AddNumberToObject(j, "test_loss", loss[1]);
    cJSON_AddNumberToObject(j, "test_acc", acc[1]);
    cJSON_AddNumberToObject(j, "step_loss", train_step_loss);
    cJSON_AddNumberToObject(j, "epoch_ms", epoch_ms);
    cJSON_AddNumberToObject(j, "weight_norm", fl_blob_l2_norm(&r->m.blob));
    const int measure = r->epoch % c->measure_every == 0 || r->epoch == c->epochs;
    if (measure && log_cs(r, j)) {
        cJSON_Delete(j);
        return -1;
    }
    const int sign = fourier_sign(&r->d);
    if (sign && measure) {
        const int p = r->d.p, nf = p / 2 + 1;
        double *norms = malloc(sizeof(double) * nf), rl, el;
        int key[64], nkey;
        if (!norms) {
            cJSON_Delete(j);
            return fl_error_set("out of memory");
        }
        fl_fourier_embed_norms(fl_blob_param(&r->m.blob, r->m.wte), p, c->d_model, norms);
        nkey = fl_fourier_key_freqs(norms, p, c->key_freqs < 64 ? c->key_freqs : 64, key);
        cJSON_AddNumberToObject(j, "fourier_share", fl_fourier_key_share(norms, p, key, nkey));
        free(norms);
        if (fl_fourier_losses(r->logits_all, r->d.a, r->d.b, r->d.y, r->is_train, r->d.n, p, sign, key, nkey, &rl,
                              &el) == 0) {
            cJSON_AddItemToObject(j, "key_freqs", cJSON_CreateIntArray(key, nkey));
            cJSON_AddNumberToObject(j, "restricted_loss", rl);
            cJSON_AddNumberToObject(j, "excluded_loss", el);
        }
    }
    int rc = fl_rundir_log(rd, j);
    cJSON_Delete(j);
    return rc;
}

/* ---- configuration and resumable state ---- */

static cJSON *make_config(const fl_grok_config *c, const fl_modarith *d) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "command", "grok");
    cJSON_AddStringToObject(j, "version", FORGETLAB_VERSION);
    if (c->preset) cJSON_AddStringToObject(j, "preset", c->preset);
    cJSON_AddNumberToObject(j, "p", c->p);
    fl_settings_to_json(j, FL_GROK_SETTINGS, FL_GROK_NSETTINGS, c);
    /* What no option sets, or sets only in part. */
    if (c->reserve_ops > 0) cJSON_AddNumberToObject(j, "reserve_ops", c->reserve_ops);
    if (c->intro_new > 0) cJSON_AddNumberToObject(j, "intro_new", c->intro_new);
    cJSON_AddNumberToObject(j, "n_train", d->n_train);
    cJSON_AddNumberToObject(j, "n_test", d->n_test);
    cJSON_AddStringToObject(j, "optimizer", "adamw");
    cJSON_AddNumberToObject(j, "batch", c->batch > 0 && c->batch < d->n_train ? c->batch : d->n_train);
    cJSON_AddStringToObject(j, "cs_probe", "ap-ig steps=5 loss=kl corrupt=within; by-a and by-answer, 20 random splits");
    cJSON *streams = cJSON_AddObjectToObject(j, "rng_streams");
    cJSON_AddNumberToObject(streams, "init", FL_STREAM_INIT);
    cJSON_AddNumberToObject(streams, "split", FL_STREAM_SPLIT);
    cJSON_AddNumberToObject(streams, "data", FL_STREAM_DATA);
    cJSON_AddNumberToObject(streams, "cs_examples", FL_STREAM_EVAL);
    cJSON_AddNumberToObject(streams, "cs_partners", FL_STREAM_CORRUPT);
    cJSON_AddNumberToObject(streams, "cs_baseline", FL_STREAM_BASELINE);
    return j;
}

static void run_free(run *r) {
    fl_modarith_free(&r->d);
    fl_tf_acts_free(&r->acts);
    fl_tf_free(&r->m);
    free(r->btok), free(r->by), free(r->perm), free(r->probs), free(r->logp), free(r->dlogits);
    free(r->logits_all), free(r->is_train), free(r->intro_tok), free(r->intro_y);
}

/* The intro rows: intro_new training pairs (a seeded shuffle of the
 * labels stream) asked with the new task's token, each with the uniform
 * distribution over the p answers as its target (label -1): the base
 * learns that the token asks something else than a + b, not what, and
 * keeps an open mind there (the most entropy it can), so that fine-tuning
 * starts from a policy that samples every answer. An answer drawn per
 * pair (as ParityMNIST's pretraining labels are) or the uniform
 * distribution over the new task's answers would be memorised against
 * the weight decay, and grokking then fails on most seeds. */
static int intro_rows(run *r, const fl_grok_config *c) {
    const fl_modarith *d = &r->d;
    const int n = c->intro_new, T = d->ctx;
    if (n > d->n_train) return fl_error_set("--intro-new %d: more than the %d training pairs", n, d->n_train);
    if (d->reserved < 1 || d->nops != 1 || d->ops[0] != FL_OP_ADD)
        return fl_error_set("--intro-new needs --op + and --reserve-ops 1 or more (the new task's token)");
    int *pick = malloc(sizeof(int) * d->n_train);
    r->intro_tok = malloc(sizeof(int) * n * T), r->intro_y = malloc(sizeof(int) * n);
    if (!pick || !r->intro_tok || !r->intro_y) {
        free(pick);
        return fl_error_set("out of memory");
    }
    memcpy(pick, d->train, sizeof(int) * d->n_train);
    fl_rng rng;
    fl_rng_init(&rng, c->seed, FL_STREAM_LABELS);
    fl_rng_shuffle(&rng, pick, d->n_train);
    for (int k = 0; k < n; k++) {
        const int e = pick[k];
        memcpy(r->intro_tok + (size_t)k * T, d->tok + (size_t)e * T, sizeof(int) * T);
        r->intro_tok[(size_t)k * T + 1] = fl_modarith_op_token(d, d->nops);
        r->intro_y[k] = -1;
    }
    free(pick);
    return 0;
}

static int run_alloc(run *r, const fl_grok_config *c) {
    memset(r, 0, sizeof *r);
    r->c = c;
    r->memorized = r->grokked = -1;
    if (fl_modarith_build_reserved(&r->d, c->p, c->ops.op, c->ops.n, c->reserve_ops, c->frac, c->seed)) return -1;
    fl_tf_config tc = {.vocab = r->d.vocab, .n_out = r->d.p, .ctx = r->d.ctx, .n_layers = c->layers,
                       .d_model = c->d_model, .n_heads = c->heads, .d_mlp = c->d_mlp, .act = c->act,
                       .layernorm = c->layernorm, .loss_last = 1};
    if (fl_tf_create(&r->m, &tc)) return -1;
    if (c->intro_new > 0 && intro_rows(r, c)) return -1;
    const int n = r->n_fit = r->d.n_train + c->intro_new, B = c->batch > 0 && c->batch < n ? c->batch : n;
    r->cap = B > EVAL_CHUNK ? B : (r->d.n < EVAL_CHUNK ? r->d.n : EVAL_CHUNK);
    if (fl_tf_acts_alloc(&r->acts, &r->m, r->cap)) return -1;
    const size_t V = (size_t)r->d.p;
    r->btok = malloc(sizeof(int) * B * r->d.ctx);
    r->by = malloc(sizeof(int) * B);
    r->perm = malloc(sizeof(int) * (n + B));
    r->probs = malloc(sizeof(float) * r->cap * V);
    r->logp = malloc(sizeof(float) * r->cap * V);
    r->dlogits = malloc(sizeof(float) * r->cap * V);
    r->logits_all = malloc(sizeof(float) * r->d.n * V);
    r->is_train = calloc((size_t)r->d.n, 1);
    if (!r->btok || !r->by || !r->perm || !r->probs || !r->logp || !r->dlogits || !r->logits_all || !r->is_train)
        return fl_error_set("out of memory for a batch of %d", B);
    for (int i = 0; i < r->d.n_train; i++) r->is_train[r->d.train[i]] = 1, r->perm[i] = r->d.train[i];
    for (int k = 0; k < c->intro_new; k++) r->perm[r->d.n_train + k] = r->d.n + k;
    fl_rng init;
    fl_rng_init(&init, c->seed, FL_STREAM_INIT);
    fl_tf_init(&r->m, c->init, &init);
    fl_rng_init(&r->order, c->seed, FL_STREAM_DATA);
    fl_optim_adamw(&r->opt, (float)c->beta1, (float)c->beta2, 1e-8f, (float)c->wd);
    return 0;
}

static int write_summary(run *r, const fl_rundir *rd, double wall_part, long epochs_run, int stopped) {
    double loss[2], acc[2];
    evaluate(r, loss, acc);
    cJSON *s = cJSON_CreateObject();
    if (r->memorized >= 0) cJSON_AddNumberToObject(s, "memorized_epoch", (double)r->memorized);
    else cJSON_AddNullToObject(s, "memorized_epoch");
    if (r->grokked >= 0) cJSON_AddNumberToObject(s, "grokked_epoch", (double)r->grokked);
    else cJSON_AddNullToObject(s, "grokked_epoch");
    cJSON_AddNumberToObject(s, "epochs", (double)r->epoch);
    cJSON_AddBoolToObject(s, "stopped_at_grok", stopped);
    cJSON_AddNumberToObject(s, "train_loss", loss[0]);
    cJSON_AddNumberToObject(s, "train_acc", acc[0]);
    cJSON_AddNumberToObject(s, "test_loss", loss[1]);
    cJSON_AddNumberToObject(s, "test_acc", acc[1]);
    cJSON_AddNumberToObject(s, "weight_norm", fl_blob_l2_norm(&r->m.blob));
    cJSON_AddNumberToObject(s, "wall_time_s", (double)r->wall_ms / 1000.0);
    cJSON_AddNumberToObject(s, "wall_time_parts", (double)r->parts);
    cJSON_AddNumberToObject(s, "wall_time_last_part_s", wall_part);
    cJSON_AddNumberToObject(s, "ms_per_epoch", epochs_run > 0 ? 1000.0 * wall_part / (double)epochs_run : 0.0);
    int rc = fl_rundir_write_json(rd, "summary.json", s);
    cJSON_Delete(s);
    return rc;
}

/* DIR/snapshots/epoch_NNNNNN.safetensors: the weights at this epoch, for
 * analyses after the run (circuits over training, say). */
static int snapshot(const run *r, const char *dir, const char *cfg_text) {
    char *sdir = fl_path_join(dir, "snapshots"), name[64], *path = NULL;
    snprintf(name, sizeof name, "epoch_%06ld.safetensors", r->epoch);
    int rc = !sdir || fl_mkdirs(sdir) || !(path = fl_path_join(sdir, name)) ? -1 : fl_tf_save(path, &r->m, cfg_text);
    free(sdir), free(path);
    return rc;
}

int fl_grok_dataset(const char *model, const char *cfg_text, fl_modarith *d) {
    cJSON *cfg = cfg_text ? cJSON_Parse(cfg_text) : NULL;
    const cJSON *p = cfg ? cJSON_GetObjectItem(cfg, "p") : NULL, *ops = cfg ? cJSON_GetObjectItem(cfg, "ops") : NULL;
    fl_grok_config c;
    fl_grok_defaults(&c);
    int rc = -1;
    if (!cJSON_IsNumber(p) || !ops) {
        fl_error_set("%s: not a grok model (its config has no p or ops)", model);
        goto out;
    }
    c.p = p->valueint;
    /* Models written before the settings table held ops as an array. */
    if (cJSON_IsArray(ops)) {
        char list[128] = "";
        const cJSON *o;
        cJSON_ArrayForEach(o, ops) {
            if (cJSON_IsString(o)) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? "," : "", o->valuestring);
        }
        cJSON_ReplaceItemInObject(cfg, "ops", cJSON_CreateString(list));
    }
    if (fl_settings_from_json(cfg, FL_GROK_SETTINGS, FL_GROK_NSETTINGS, &c)) {
        fl_error_wrap("%s", model);
        goto out;
    }
    const cJSON *res = cJSON_GetObjectItem(cfg, "reserve_ops");
    c.reserve_ops = cJSON_IsNumber(res) ? res->valueint : 0;
    rc = fl_modarith_build_reserved(d, c.p, c.ops.op, c.ops.n, c.reserve_ops, c.frac, c.seed);
    if (rc) fl_error_wrap("%s", model);
out:
    cJSON_Delete(cfg);
    return rc;
}

/* out_dir claimed for this configuration; *cfg: config.json's object,
 * *cfg_text: the state's config (what a resumed run must match). */
static int claim(const fl_grok_config *c, const run *r, const char *out_dir, cJSON **cfg, char **cfg_text,
                 char **replaced) {
    *cfg = make_config(c, &r->d);
    *cfg_text = cJSON_PrintUnformatted(*cfg);
    if (!*cfg_text || fl_rundir_claim(out_dir, "grok", *cfg_text, c->overwrite, replaced) || fl_mkdirs(out_dir))
        return -1;
    /* config.json also records the thread count: results are bitwise
     * reproducible for the same seed and thread count. It stays out of the
     * state's config so a resumed run may use other threads. */
    cJSON_AddNumberToObject(*cfg, "threads", fl_get_threads());
    /* The epochs too: a finished run continues to a larger --epochs. */
    cJSON_AddNumberToObject(*cfg, "epochs", (double)c->epochs);
    cJSON_AddBoolToObject(*cfg, "stop_at_grok", c->stop_at_grok);
    cJSON_AddNumberToObject(*cfg, "snapshot_every", c->snapshot_every);
    return 0;
}

int fl_grok_run(const fl_grok_config *c, const char *out_dir) {
    if (c->log_every < 1 || c->measure_every < 1 || c->measure_every % c->log_every ||
        c->checkpoint_every < 1 || c->checkpoint_every % c->log_every)
        return fl_error_set("--measure-every and --checkpoint-every must be positive multiples of --log-every");
    const double t0 = fl_now();
    fl_set_threads(c->threads);
    run r;
    fl_rundir rd = {0};
    fl_loop L = {0};
    cJSON *cfg = NULL;
    char *cfg_text = NULL, *model_path = NULL, *replaced = NULL;
    int rc = -1;
    if (run_alloc(&r, c) || claim(c, &r, out_dir, &cfg, &cfg_text, &replaced)) goto out;
    /* The state beyond the weights and moments: the epoch, the memorised /
     * grokked epochs so far, the minibatch order's stream, and the wall
     * time of every part so far (a killed part counts up to its last
     * checkpoint: the epochs after it are redone and counted then). */
    const fl_trainstate_rng rngs[] = {{"order_rng", &r.order}};
    const fl_trainstate_long longs[] = {{"epoch", &r.epoch},     {"memorized", &r.memorized}, {"grokked", &r.grokked},
                                {"wall_ms", &r.wall_ms}, {"parts", &r.parts}};
    const fl_loop_spec spec = {
        .dir = out_dir, .config = cfg, .position = &r.epoch, .resume_key = "epoch", .resumable = 1,
        .label = "grok", .total = c->epochs, .progress = c->progress,
        .state = {.kind = "grok", .config = cfg_text, .blob = &r.m.blob, .opt_t = &r.opt.t, .rngs = rngs, .nrngs = 1,
                  .longs = longs, .nlongs = 5}};
    const int resumed = fl_loop_begin(&L, &spec, &rd);
    if (resumed < 0) goto out;
    if (resumed && (r.epoch >= c->epochs || (c->stop_at_grok && r.grokked >= 0))) {
        fl_loop_end(&L);
        fl_log(FL_LOG_INFO, "grok: %s is complete (epoch %ld); nothing to do\n", out_dir, r.epoch);
        rc = 0;
        goto out;
    }
    if (resumed) fl_log(FL_LOG_INFO, "grok: resuming %s at epoch %ld\n", out_dir, r.epoch);
    const long wall_before = r.wall_ms, parts_before = r.parts;

    const long first = r.epoch;
    long step = r.opt.t;
    int stopped = 0;
    float step_loss = 0;
    while (r.epoch < c->epochs && !stopped) {
        const double te = fl_now();
        int e = train_epoch(&r, &step, &step_loss);
        const double epoch_ms = 1000.0 * (fl_now() - te);
        if (e) {
            rc = e;
            goto out;
        }
        r.epoch++;
        if (r.epoch % c->log_every == 0 || r.epoch == c->epochs) {
            if (log_epoch(&r, &rd, step_loss, epoch_ms)) goto out;
            stopped = c->stop_at_grok && r.grokked >= 0;
        }
        if (c->snapshot_every > 0 && r.epoch % c->snapshot_every == 0 && snapshot(&r, out_dir, cfg_text)) goto out;
        if (r.epoch % c->checkpoint_every == 0 && r.epoch < c->epochs && !stopped) {
            r.wall_ms = wall_before + lround(1000.0 * (fl_now() - t0)), r.parts = parts_before + 1;
            if (fl_loop_save(&L)) goto out;
        }
        char extra[96];
        snprintf(extra, sizeof extra, "loss %.4f  mem %ld  grok %ld", step_loss, r.memorized, r.grokked);
        fl_loop_update(&L, r.epoch, extra);
    }
    fl_loop_end(&L);
    model_path = fl_rundir_path(&rd, "model.safetensors");
    if (!model_path || fl_tf_save(model_path, &r.m, cfg_text)) goto out;
    r.wall_ms = wall_before + lround(1000.0 * (fl_now() - t0)), r.parts = parts_before + 1;
    if (fl_loop_save(&L)) goto out;
    if (write_summary(&r, &rd, fl_now() - t0, r.epoch - first, stopped)) goto out;
    rc = 0;
out:
    fl_loop_free(&L);
    fl_rundir_release(replaced, rc == 0);
    if (rc == FL_DIVERGED) fl_error_wrap("%s", out_dir);
    cJSON_Delete(cfg);
    free(cfg_text);
    free(model_path);
    fl_rundir_close(&rd);
    run_free(&r);
    return rc;
}
