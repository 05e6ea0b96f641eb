/* cmd_finetune.c: `forgetlab finetune`, one fine-tuning run of the base model
 * on ParityMNIST by SFT or on-policy RL, every checkpoint measured. */
#include "cli.h"

#include "forgetlab/checkpoint.h"
#include "forgetlab/error.h"
#include "forgetlab/finetune.h"
#include "forgetlab/rundir.h"
#include "forgetlab/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab finetune --base DIR --method M --out DIR [OPTIONS]\n"
    "\n"
    "Fine-tunes the base model on ParityMNIST (the new task) and measures every\n"
    "checkpoint against the base: new- and prior-task (FashionMNIST) accuracy,\n"
    "forgetting, forward KL and the other predictors (metrics.jsonl).\n"
    "\n"
    "Methods: sft1, sft2, oracle, grpo, grpo-kl, reinforce, simpo, distill.\n"
    "\n"
    "Options:\n"
    "  --base DIR            the pretrained model (run directory or .safetensors)\n"
    "  --method M            fine-tuning method (required)\n"
    "  --out DIR             run directory (required; not the --base or --teacher run); a\n"
    "                        rerun of the same configuration resumes; --overwrite replaces\n"
    "                        a run of another command or configuration there\n"
    "  --lr X                AdamW learning rate (default 1e-4)\n"
    "  --schedule S          constant or cosine (linear warm-up over 10%, then cosine)\n"
    "  --epochs N            passes over the 8,000 ParityMNIST training images (default 1)\n"
    "  --batch N             inputs per step (default 32)\n"
    "  --group-size G        actions sampled per input, on-policy methods (default 8)\n"
    "  --kl-coef X           weight of KL(pi || pi_0) in grpo-kl (default 0.1)\n"
    "  --simpo-beta X        SimPO beta (default 2)\n"
    "  --simpo-gamma X       SimPO margin gamma (default 0.5)\n"
    "  --oracle-sample       oracle: train on labels sampled from q* instead of q* itself\n"
    "  --sft2-labels A,B/C,D sft2: labels of even digits (A or B) and odd ones (C or D)\n"
    "                        (default 0,4/1,5)\n"
    "  --sft2-soft           sft2: train on the 50/50 target over the pair\n"
    "  --teacher DIR         distill: the teacher model\n"
    "  --correct-only        distill: keep only the teacher's correct answers\n"
    "  --checkpoint-every X  epochs between measured checkpoints (default 0.2)\n"
    "  --seed N              random seed (default 0)\n"
    "  --threads N           threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR        datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --help                show this help\n";

enum { O_OVERWRITE = 200, O_BASE = 256, O_METHOD, O_OUT, O_LR, O_SCHED, O_EPOCHS, O_BATCH, O_GROUP, O_KL, O_SBETA,
       O_SGAMMA, O_OSAMPLE, O_TEACHER, O_CORRECT, O_CKPT, O_SEED, O_THREADS, O_DATA, O_SFT2_LABELS, O_SFT2_SOFT };

static const struct option OPTS[] = {
    {"base", required_argument, 0, O_BASE},       {"method", required_argument, 0, O_METHOD},
    {"out", required_argument, 0, O_OUT}, {"overwrite", no_argument, 0, O_OVERWRITE},         {"lr", required_argument, 0, O_LR},
    {"schedule", required_argument, 0, O_SCHED},  {"epochs", required_argument, 0, O_EPOCHS},
    {"batch", required_argument, 0, O_BATCH},     {"group-size", required_argument, 0, O_GROUP},
    {"kl-coef", required_argument, 0, O_KL},      {"simpo-beta", required_argument, 0, O_SBETA},
    {"simpo-gamma", required_argument, 0, O_SGAMMA}, {"oracle-sample", no_argument, 0, O_OSAMPLE},
    {"teacher", required_argument, 0, O_TEACHER}, {"correct-only", no_argument, 0, O_CORRECT},
    {"checkpoint-every", required_argument, 0, O_CKPT}, {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS}, {"data-dir", required_argument, 0, O_DATA},
    {"sft2-labels", required_argument, 0, O_SFT2_LABELS}, {"sft2-soft", no_argument, 0, O_SFT2_SOFT},
    {0, 0, 0, 0}};

typedef struct {
    fl_finetune_config cfg;
    const char *base, *out, *teacher, *data_dir;
    int has_method, threads;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    fl_finetune_config *c = &a->cfg;
    long n;
    double x;
    switch (opt) {
    case O_BASE: a->base = v; return 0;
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: a->cfg.overwrite = 1; return 0;
    case O_TEACHER: a->teacher = v; return 0;
    case O_DATA: a->data_dir = v; return 0;
    case O_OSAMPLE: c->oracle_sample = 1; return 0;
    case O_CORRECT: c->correct_only = 1; return 0;
    case O_SFT2_LABELS: return fl_sft2_labels_parse(v, c->sft2_labels);
    case O_SFT2_SOFT: c->sft2_soft = 1; return 0;
    case O_METHOD: a->has_method = 1; return fl_ft_method_parse(v, &c->method) ? fl_error_wrap("--method") : 0;
    case O_SCHED: return fl_schedule_parse(v, &c->schedule) ? fl_error_wrap("--schedule") : 0;
    case O_LR: if (fl_arg_double("lr", v, 1e-12, 10.0, &x)) return -1; c->lr = x; return 0;
    case O_KL: if (fl_arg_double("kl-coef", v, 0.0, 1e6, &x)) return -1; c->kl_coef = x; return 0;
    case O_SBETA: if (fl_arg_double("simpo-beta", v, 1e-6, 1e6, &x)) return -1; c->simpo_beta = x; return 0;
    case O_SGAMMA: if (fl_arg_double("simpo-gamma", v, -1e6, 1e6, &x)) return -1; c->simpo_gamma = x; return 0;
    case O_CKPT: if (fl_arg_double("checkpoint-every", v, 1e-3, 1e3, &x)) return -1; c->checkpoint_every = x; return 0;
    case O_EPOCHS: if (fl_arg_long("epochs", v, 1, 10000, &n)) return -1; c->epochs = (int)n; return 0;
    case O_BATCH: if (fl_arg_long("batch", v, 1, 8000, &n)) return -1; c->batch = (int)n; return 0;
    case O_GROUP: if (fl_arg_long("group-size", v, 1, 1024, &n)) return -1; c->group_size = (int)n; return 0;
    case O_SEED: if (fl_arg_long("seed", v, 0, INT64_MAX, &n)) return -1; c->seed = (uint64_t)n; return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, 1024, &n)) return -1; a->threads = (int)n; return 0;
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_finetune = {"finetune", "fine-tune a model on ParityMNIST by SFT or on-policy RL", run, HELP};

static int finetune(args *a) {
    fl_mlp base = {0}, teacher = {0};
    fl_task_data train = {0};
    fl_measure_ctx mctx = {0};
    int rc = -1;
    const char *dir = fl_data_dir(a->data_dir);
    if (fl_mlp_load(a->base, &base, NULL)) goto out;
    if (a->teacher) {
        if (fl_mlp_load(a->teacher, &teacher, NULL)) goto out;
        a->cfg.teacher = &teacher;
    }
    if (fl_task_load(&train, FL_TASK_PARITY, dir, "train")) goto out;
    if (fl_measure_ctx_init(&mctx, &base, dir, 2000, NULL, a->cfg.seed)) goto out;
    a->cfg.resumable = 1;
    rc = fl_finetune_run(&a->cfg, &base, &train, &mctx, a->out, a->base, NULL, NULL, NULL, NULL);
out:
    fl_measure_ctx_free(&mctx);
    fl_task_free(&train);
    fl_mlp_free(&teacher);
    fl_mlp_free(&base);
    return rc;
}

static int run(int argc, char **argv) {
    args a = {0};
    fl_finetune_defaults(&a.cfg);
    int rc = fl_parse_args(argc, argv, &fl_cmd_finetune, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.base) return fl_usage_error("finetune", "--base DIR is required");
    if (!a.out) return fl_usage_error("finetune", "--out DIR is required");
    if (!a.has_method) return fl_usage_error("finetune", "--method is required");
    if ((a.cfg.method == FL_FT_DISTILL) != (a.teacher != NULL))
        return fl_usage_error("finetune", "--teacher DIR goes with --method distill, and only with it");
    if ((a.cfg.method == FL_FT_GRPO || a.cfg.method == FL_FT_GRPO_KL) && a.cfg.group_size < 2)
        return fl_usage_error("finetune", "--group-size %d: %s normalises rewards within each group, so a group "
                                          "of one has advantage 0 and learns nothing (use 2 or more)",
                              a.cfg.group_size, fl_ft_method_name(a.cfg.method));
    if (fl_out_is_not_input(a.out, a.base, "--base") || fl_out_is_not_input(a.out, a.teacher, "--teacher"))
        return fl_fail("finetune");
    fl_set_threads(a.threads);
    if (finetune(&a)) return fl_fail("finetune");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "finetune %s: new-task accuracy %%K3{new_acc}, prior-task accuracy %%K3{prior_acc} "
             "(base %%K3{prior_acc_base}; forgetting %%K3{forgetting}), forward KL %%K{forward_kl_new} -> %s",
             fl_ft_method_name(a.cfg.method), a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
