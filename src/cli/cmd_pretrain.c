/* cmd_pretrain.c: `forgetlab pretrain`, the joint ParityMNIST + FashionMNIST
 * pretraining of the RL's Razor base model. */
#include "cli.h"

#include "forgetlab/mlp.h"
#include "forgetlab/pretrain.h"

#include <stdint.h>
#include <stdio.h>

static const char HELP[] =
    "usage: forgetlab pretrain --out DIR [OPTIONS]\n"
    "\n"
    "Trains the base model of the RL's Razor toy jointly on ParityMNIST and\n"
    "FashionMNIST (785 inputs: 784 pixels + task indicator, 10 outputs), then\n"
    "evaluates it on both test sets. Writes DIR/config.json, model.safetensors,\n"
    "metrics.jsonl and summary.json.\n"
    "\n"
    "Options:\n"
    "  --out DIR          run directory (required); a rerun of the same configuration\n"
    "                     resumes; --overwrite replaces a run of another command or\n"
    "                     configuration there (refused otherwise)\n"
    "  --per-task N       training images per task (default 500)\n"
    "  --epochs N         passes over the training set (default 20)\n"
    "  --batch N          minibatch size (default 32)\n"
    "  --lr X             AdamW learning rate (default 1e-3)\n"
    "  --weight-decay X   AdamW decoupled weight decay (default 0)\n"
    "  --clip X           clip the gradient norm to X (default 0: off)\n"
    "  --model SPEC       MLP widths (default 785-512-256-10)\n"
    "  --seed N           random seed (default 0)\n"
    "  --threads N        threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR     datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --log-every N      steps between metrics.jsonl lines (default 10)\n"
    "  --checkpoint-every N  epochs between resumable states (default 5); rerunning\n"
    "                     the same command after a kill resumes from the last one\n"
    "  --help             show this help\n";

enum { O_OVERWRITE = 200, O_OUT = 256, O_PER_TASK, O_EPOCHS, O_BATCH, O_LR, O_WD, O_CLIP, O_MODEL, O_SEED,
       O_THREADS, O_DATA, O_LOG, O_CKPT };

static const struct option OPTS[] = {
    {"out", required_argument, 0, O_OUT}, {"overwrite", no_argument, 0, O_OVERWRITE},
    {"per-task", required_argument, 0, O_PER_TASK},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"batch", required_argument, 0, O_BATCH},
    {"lr", required_argument, 0, O_LR},
    {"weight-decay", required_argument, 0, O_WD},
    {"clip", required_argument, 0, O_CLIP},
    {"model", required_argument, 0, O_MODEL},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"data-dir", required_argument, 0, O_DATA},
    {"log-every", required_argument, 0, O_LOG},
    {"checkpoint-every", required_argument, 0, O_CKPT},
    {0, 0, 0, 0}};

typedef struct {
    fl_pretrain_config cfg;
    const char *out;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    fl_pretrain_config *c = &a->cfg;
    long n;
    double x;
    switch (opt) {
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: a->cfg.overwrite = 1; return 0;
    case O_MODEL: {
        int nl, dims[FL_MLP_MAX_LAYERS + 1];
        if (fl_mlp_parse_spec(v, &nl, dims)) return -1;
        c->spec = v;
        return 0;
    }
    case O_DATA: c->data_dir = v; return 0;
    case O_PER_TASK: if (fl_arg_long("per-task", v, 1, 60000, &n)) return -1; c->per_task = (int)n; return 0;
    case O_EPOCHS: if (fl_arg_long("epochs", v, 1, 100000, &n)) return -1; c->epochs = (int)n; return 0;
    case O_BATCH: if (fl_arg_long("batch", v, 1, 65536, &n)) return -1; c->batch = (int)n; return 0;
    case O_LOG: if (fl_arg_long("log-every", v, 1, 1L << 30, &n)) return -1; c->log_every = (int)n; return 0;
    case O_CKPT: if (fl_arg_long("checkpoint-every", v, 1, 100000, &n)) return -1; c->checkpoint_every = (int)n; return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, 1024, &n)) return -1; c->threads = (int)n; return 0;
    case O_SEED: if (fl_arg_long("seed", v, 0, INT64_MAX, &n)) return -1; c->seed = (uint64_t)n; return 0;
    case O_LR: if (fl_arg_double("lr", v, 1e-12, 10.0, &x)) return -1; c->lr = x; return 0;
    case O_WD: if (fl_arg_double("weight-decay", v, 0.0, 100.0, &x)) return -1; c->weight_decay = x; return 0;
    case O_CLIP: if (fl_arg_double("clip", v, 0.0, 1e9, &x)) return -1; c->clip = x; return 0;
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_pretrain = {"pretrain", "train the RL's Razor base model on ParityMNIST + FashionMNIST",
                                    run, HELP};

static int run(int argc, char **argv) {
    args a = {.out = NULL};
    fl_pretrain_defaults(&a.cfg);
    int rc = fl_parse_args(argc, argv, &fl_cmd_pretrain, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.out) return fl_usage_error("pretrain", "--out DIR is required");
    if (fl_pretrain_run(&a.cfg, a.out)) return fl_fail("pretrain");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "pretrain: parity accuracy %%K3{parity_acc}, fashion accuracy %%K3{fashion_acc} "
             "(%%K{wall_time_s} s) -> %s", a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
