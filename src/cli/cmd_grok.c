/* cmd_grok.c: `forgetlab grok`, a transformer trained on modular
 * arithmetic until it groks (or not), with its progress measures. */
#include "cli.h"

#include "forgetlab/error.h"
#include "forgetlab/grok.h"
#include "forgetlab/report.h"
#include "forgetlab/train.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab grok --out DIR [--preset nanda|quick|tiny] [OPTIONS]\n"
    "\n"
    "Trains a decoder-only transformer on a o b mod p (tokens [a, b, =], the\n"
    "answer read at the last position) and tracks grokking: train and test\n"
    "accuracy and loss, the total weight norm, and every --measure-every epochs\n"
    "Nanda et al.'s progress measures (the embedding's key Fourier frequencies,\n"
    "the restricted and the excluded loss; for + and - only). Writes\n"
    "DIR/config.json, metrics.jsonl, summary.json (memorized_epoch: first logged\n"
    "epoch with train accuracy >= 0.99; grokked_epoch: test accuracy >= 0.95),\n"
    "model.safetensors, state.safetensors and the plots. Rerunning the same\n"
    "command resumes from the last checkpoint.\n"
    "\n"
    "Presets (options given after --preset override it):\n"
    "  nanda   p 113, +, 30%, 1 layer, d_model 128, 4 heads, d_mlp 512, ReLU,\n"
    "          AdamW lr 1e-3, wd 1, betas 0.9/0.98, full batch, 40000 epochs\n"
    "          (the default)\n"
    "  quick   p 59, +, 50%, d_model 64, d_mlp 256, otherwise as nanda, 3000\n"
    "          epochs: memorises by epoch ~200, groks by ~1500, in about a minute\n"
    "  tiny    p 31, +, 70%, d_model 32, d_mlp 128, lr 3e-3, 2000 epochs: memorises\n"
    "          by ~150, groks by 250-600 (seeds 0-4) in seconds; for tests\n"
    "\n"
    "Options:\n"
    "  --out DIR              run directory (required); a rerun of the same configuration\n"
    "                         resumes (or continues to a larger --epochs); --overwrite\n"
    "                         replaces a run of another command or configuration there\n"
    "  --preset NAME          nanda, quick or tiny\n"
    "  --p N                  prime modulus\n"
    "  --op OPS               +, -, *, /, x2+y2, x2+xy+y2, x3+xy, or several\n"
    "                         separated by commas (then an operation token is added)\n"
    "  --frac X               training fraction of all equations, in (0, 1)\n"
    "  --layers N  --d-model N  --heads N  --d-mlp N\n"
    "  --act relu|gelu        MLP activation (default relu)\n"
    "  --layernorm            pre-LayerNorm blocks and a final LayerNorm\n"
    "  --init scaled|torch    weights N(0, 1/fan_in), biases 0 (Nanda et al.; the\n"
    "                         default) or PyTorch's default initialisation\n"
    "  --lr X  --wd X  --beta1 X  --beta2 X   AdamW\n"
    "  --warmup N             linear learning-rate warm-up steps (default 10)\n"
    "  --epochs N             epochs (full passes over the training set)\n"
    "  --batch N              minibatch size (default 0: full batch)\n"
    "  --log-every N          epochs between evaluations / metrics lines\n"
    "  --measure-every N      epochs between progress measures (multiple of --log-every)\n"
    "  --checkpoint-every N   epochs between resumable checkpoints (multiple of --log-every)\n"
    "  --key-freqs N          key frequencies the measures keep (default 5)\n"
    "  --stop-at-grok         stop at the first logged epoch with test accuracy >= 0.95\n"
    "  --cs-examples N        equations per subtask for circuit stability (default 32)\n"
    "  --snapshot-every N     keep the weights every N epochs in DIR/snapshots/ (for\n"
    "                         'forgetlab circuits' over training; default 0: none)\n"
    "  --seed N               seed of the initialisation, split and order (default 0)\n"
    "  --threads N            threads for BLAS and OpenMP (default: all cores)\n"
    "  --help                 show this help\n";

enum { O_OVERWRITE = 200, O_OUT = 256, O_PRESET, O_P, O_OP, O_FRAC, O_LAYERS, O_DMODEL, O_HEADS, O_DMLP, O_ACT, O_LN, O_INIT, O_LR, O_WD,
       O_B1, O_B2, O_WARMUP, O_EPOCHS, O_BATCH, O_LOG, O_MEASURE, O_CKPT, O_KEY, O_STOP, O_SEED, O_THREADS, O_CSEX, O_SNAP };

static const struct option OPTS[] = {
    {"out", required_argument, 0, O_OUT}, {"overwrite", no_argument, 0, O_OVERWRITE},         {"preset", required_argument, 0, O_PRESET},
    {"p", required_argument, 0, O_P},             {"op", required_argument, 0, O_OP},
    {"frac", required_argument, 0, O_FRAC},       {"layers", required_argument, 0, O_LAYERS},
    {"d-model", required_argument, 0, O_DMODEL},  {"heads", required_argument, 0, O_HEADS},
    {"d-mlp", required_argument, 0, O_DMLP},      {"act", required_argument, 0, O_ACT},
    {"layernorm", no_argument, 0, O_LN},          {"init", required_argument, 0, O_INIT},          {"lr", required_argument, 0, O_LR},
    {"wd", required_argument, 0, O_WD},           {"beta1", required_argument, 0, O_B1},
    {"beta2", required_argument, 0, O_B2},        {"warmup", required_argument, 0, O_WARMUP},
    {"epochs", required_argument, 0, O_EPOCHS},   {"batch", required_argument, 0, O_BATCH},
    {"log-every", required_argument, 0, O_LOG},   {"measure-every", required_argument, 0, O_MEASURE},
    {"checkpoint-every", required_argument, 0, O_CKPT}, {"key-freqs", required_argument, 0, O_KEY},
    {"stop-at-grok", no_argument, 0, O_STOP},     {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS}, {"cs-examples", required_argument, 0, O_CSEX},
    {"snapshot-every", required_argument, 0, O_SNAP}, {0, 0, 0, 0}};

typedef struct {
    fl_grok_config cfg;
    const char *out;
    int customised; /* an option other than --out/--seed/--threads/--preset was given */
} args;

static int parse_ops(const char *v, fl_grok_config *c) {
    char buf[256];
    if (strlen(v) >= sizeof buf) return fl_error_set("--op: too long");
    strcpy(buf, v);
    c->nops = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (c->nops == FL_NOPS) return fl_error_set("--op: at most %d operations", FL_NOPS);
        if (fl_mod_op_parse(tok, &c->ops[c->nops])) return fl_error_wrap("--op");
        for (int k = 0; k < c->nops; k++)
            if (c->ops[k] == c->ops[c->nops]) return fl_error_set("--op: '%s' appears twice", tok);
        c->nops++;
    }
    return c->nops ? 0 : fl_error_set("--op: no operation given");
}

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    fl_grok_config *c = &a->cfg;
    long n;
    double x;
    if (opt != O_OUT && opt != O_SEED && opt != O_THREADS && opt != O_PRESET && opt != O_SNAP && opt != O_OVERWRITE)
        a->customised = 1;
    switch (opt) {
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: c->overwrite = 1; return 0;
    case O_PRESET:
        if (a->customised) return fl_error_set("--preset must come before the options it would override");
        return fl_grok_preset(c, v) ? fl_error_wrap("--preset") : 0;
    case O_P:
        if (fl_arg_long("p", v, 2, 4096, &n)) return -1;
        if (!fl_is_prime((int)n)) return fl_error_set("--p: %ld is not a prime", n);
        c->p = (int)n;
        return 0;
    case O_OP: return parse_ops(v, c);
    case O_FRAC: if (fl_arg_double("frac", v, 1e-9, 1 - 1e-9, &x)) return -1; c->frac = x; return 0;
    case O_LAYERS: if (fl_arg_long("layers", v, 1, FL_TF_MAX_LAYERS, &n)) return -1; c->layers = (int)n; return 0;
    case O_DMODEL: if (fl_arg_long("d-model", v, 1, 4096, &n)) return -1; c->d_model = (int)n; return 0;
    case O_HEADS: if (fl_arg_long("heads", v, 1, 256, &n)) return -1; c->heads = (int)n; return 0;
    case O_DMLP: if (fl_arg_long("d-mlp", v, 1, 65536, &n)) return -1; c->d_mlp = (int)n; return 0;
    case O_ACT:
        if (strcmp(v, "relu") == 0) c->act = FL_TF_RELU;
        else if (strcmp(v, "gelu") == 0) c->act = FL_TF_GELU;
        else return fl_error_set("--act: expected relu or gelu, got '%s'", v);
        return 0;
    case O_LN: c->layernorm = 1; return 0;
    case O_INIT:
        if (strcmp(v, "scaled") == 0) c->init = FL_TF_INIT_SCALED;
        else if (strcmp(v, "torch") == 0) c->init = FL_TF_INIT_TORCH;
        else return fl_error_set("--init: expected scaled or torch, got '%s'", v);
        return 0;
    case O_LR: if (fl_arg_double("lr", v, 1e-12, 10.0, &x)) return -1; c->lr = x; return 0;
    case O_WD: if (fl_arg_double("wd", v, 0.0, 100.0, &x)) return -1; c->wd = x; return 0;
    case O_B1: if (fl_arg_double("beta1", v, 0.0, 0.999999, &x)) return -1; c->beta1 = x; return 0;
    case O_B2: if (fl_arg_double("beta2", v, 0.0, 0.999999, &x)) return -1; c->beta2 = x; return 0;
    case O_WARMUP: if (fl_arg_long("warmup", v, 0, 1L << 30, &n)) return -1; c->warmup = (int)n; return 0;
    case O_EPOCHS: if (fl_arg_long("epochs", v, 1, 100000000, &n)) return -1; c->epochs = n; return 0;
    case O_BATCH: if (fl_arg_long("batch", v, 0, 1 << 24, &n)) return -1; c->batch = (int)n; return 0;
    case O_LOG: if (fl_arg_long("log-every", v, 1, 1 << 30, &n)) return -1; c->log_every = (int)n; return 0;
    case O_MEASURE: if (fl_arg_long("measure-every", v, 1, 1 << 30, &n)) return -1; c->measure_every = (int)n; return 0;
    case O_CKPT: if (fl_arg_long("checkpoint-every", v, 1, 1 << 30, &n)) return -1; c->checkpoint_every = (int)n; return 0;
    case O_KEY: if (fl_arg_long("key-freqs", v, 1, 64, &n)) return -1; c->key_freqs = (int)n; return 0;
    case O_STOP: c->stop_at_grok = 1; return 0;
    case O_CSEX: if (fl_arg_long("cs-examples", v, 2, 1 << 20, &n)) return -1; c->cs_examples = (int)n; return 0;
    case O_SNAP: if (fl_arg_long("snapshot-every", v, 0, 1 << 30, &n)) return -1; c->snapshot_every = (int)n; return 0;
    case O_SEED: if (fl_arg_long("seed", v, 0, INT64_MAX, &n)) return -1; c->seed = (uint64_t)n; return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, 1024, &n)) return -1; c->threads = (int)n; return 0;
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_grok = {"grok", "train a transformer on modular arithmetic and track grokking", run, HELP};

static int run(int argc, char **argv) {
    args a = {.out = NULL};
    fl_grok_defaults(&a.cfg);
    int rc = fl_parse_args(argc, argv, &fl_cmd_grok, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    fl_grok_config *c = &a.cfg;
    if (!a.out) return fl_usage_error("grok", "--out DIR is required");
    if (c->d_model % c->heads)
        return fl_usage_error("grok", "--d-model %d must be divisible by --heads %d", c->d_model, c->heads);
    if (c->measure_every % c->log_every || c->checkpoint_every % c->log_every)
        return fl_usage_error("grok", "--measure-every and --checkpoint-every must be multiples of --log-every (%d)",
                              c->log_every);
    rc = fl_grok_run(c, a.out);
    if (rc || fl_grok_plots(a.out)) return fl_fail("grok");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "grok: memorised at epoch %%K{memorized_epoch}, grokked at epoch %%K{grokked_epoch} "
             "(? = not yet), test accuracy %%K3{test_acc} after %%K{epochs} epochs -> %s", a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
