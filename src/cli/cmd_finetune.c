/* cmd_finetune.c: `forgetlab finetune`, one fine-tuning run of the base model
 * on ParityMNIST by SFT or on-policy RL, every checkpoint measured. */
#include "cli.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/train/finetune.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab finetune --base DIR --method M --out DIR [OPTIONS]\n"
    "\n"
    "Fine-tunes the base model on ParityMNIST (the new task) and measures every\n"
    "checkpoint against the base: new- and prior-task (FashionMNIST) accuracy,\n"
    "forgetting, forward KL and the other predictors (metrics.jsonl).\n"
    "\n"
    "Options:\n"
    "  --base DIR              the pretrained model (run directory or .safetensors)\n"
    "  --out DIR               run directory (required; not the --base or --teacher\n"
    "                          run); a rerun of the same configuration resumes;\n"
    "                          --overwrite replaces a run of another command or\n"
    "                          configuration there\n"
    "  --teacher DIR           distill: the teacher model\n";
static const char HELP_TAIL[] =
    "  --threads N             threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR          datasets (default: $FORGETLAB_DATA, else the source\n"
    "                          tree's data/)\n"
    "  --help                  show this help\n";
static char HELP[8192];

enum { O_OVERWRITE = 200, O_BASE = 256, O_OUT, O_TEACHER, O_THREADS, O_DATA };
static const struct option OPTS[] = {
    {"base", required_argument, 0, O_BASE},       {"out", required_argument, 0, O_OUT},
    {"overwrite", no_argument, 0, O_OVERWRITE},   {"teacher", required_argument, 0, O_TEACHER},
    {"threads", required_argument, 0, O_THREADS}, {"data-dir", required_argument, 0, O_DATA},
    FL_BUDGET_OPTIONS,                            {0, 0, 0, 0}};

typedef struct {
    fl_finetune_config cfg;
    const char *base, *out, *teacher, *data_dir;
    int threads;
    fl_budget_args budget;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    long n;
    switch (opt) {
    case O_BASE: a->base = v; return 0;
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: a->cfg.overwrite = 1; return 0;
    case O_TEACHER: a->teacher = v; return 0;
    case O_DATA: a->data_dir = v; return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, FL_MAX_THREADS, &n)) return -1; a->threads = (int)n; return 0;
    }
    return fl_budget_arg(opt, v, &a->budget);
}

static int run(int argc, char **argv);
const fl_command fl_cmd_finetune = {"finetune", "fine-tune a model on ParityMNIST by SFT or on-policy RL", run, HELP};

/* A budgeted run's contexts: checkpoints measured on the new task alone;
 * the kept model in full when the prior task's data can be read (it is
 * evaluation, after the decision), else on the new task too. */
static int budget_contexts(args *a, const fl_mlp *base, const char *dir, fl_measure_ctx *mctx, fl_measure_ctx *full) {
    if (fl_measure_ctx_init_new(mctx, base, dir, a->cfg.seed)) return -1;
    if (fl_measure_ctx_init(full, base, dir, FL_MEASURE_FISHER_N, NULL, a->cfg.seed) == 0) {
        a->cfg.eval_ctx = full;
        return 0;
    }
    fprintf(stderr, "finetune: the prior task's data could not be read (%s): the budget needs none; summary.json "
                    "has the new task's figures only\n", fl_error_msg());
    return 0;
}

static int finetune(args *a) {
    fl_mlp base = {0}, teacher = {0};
    fl_task_data train = {0};
    fl_measure_ctx mctx = {0}, full = {0};
    int rc = -1;
    const char *dir = fl_data_dir(a->data_dir);
    if (fl_mlp_load(a->base, &base, NULL)) goto out;
    char spec[160];
    fl_mlp_spec_string(&base, spec, sizeof spec);
    const int brc = fl_budget_setup("finetune", &a->budget, "razor", spec, &a->cfg.budget);
    if (brc != FL_EXIT_OK) {
        rc = 100 + brc; /* already said */
        goto out;
    }
    if (a->teacher) {
        if (fl_mlp_load(a->teacher, &teacher, NULL)) goto out;
        a->cfg.teacher = &teacher;
    }
    if (fl_task_load(&train, FL_TASK_PARITY, dir, "train")) goto out;
    if (a->cfg.budget.kl_budget > 0 ? budget_contexts(a, &base, dir, &mctx, &full)
                                     : fl_measure_ctx_init(&mctx, &base, dir, FL_MEASURE_FISHER_N, NULL, a->cfg.seed))
        goto out;
    a->cfg.resumable = 1;
    rc = fl_finetune_run(&a->cfg, &base, &train, &mctx, a->out, a->base, NULL, NULL, NULL, NULL);
out:
    fl_measure_ctx_free(&mctx);
    fl_measure_ctx_free(&full);
    fl_forecast_file_free(&a->budget.file);
    fl_task_free(&train);
    fl_mlp_free(&teacher);
    fl_mlp_free(&base);
    return rc;
}

static int run(int argc, char **argv) {
    args a = {0};
    fl_finetune_defaults(&a.cfg);
    char tail[4096];
    snprintf(tail, sizeof tail, "%s%s", FL_BUDGET_HELP, HELP_TAIL);
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, FL_FINETUNE_SETTINGS, FL_FINETUNE_NSETTINGS, &a.cfg, tail);
    /* No default method: one that was not given stays out of range. */
    a.cfg.method = FL_FT_NMETHODS;
    int rc = fl_parse_settings(argc, argv, &fl_cmd_finetune, FL_FINETUNE_SETTINGS, FL_FINETUNE_NSETTINGS, &a.cfg,
                               OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.base) return fl_usage_error("finetune", "--base DIR is required");
    if (!a.out) return fl_usage_error("finetune", "--out DIR is required");
    if (a.cfg.method == FL_FT_NMETHODS) return fl_usage_error("finetune", "--method is required");
    if ((a.cfg.method == FL_FT_DISTILL) != (a.teacher != NULL))
        return fl_usage_error("finetune", "--teacher DIR goes with --method distill, and only with it");
    if ((a.cfg.method == FL_FT_GRPO || a.cfg.method == FL_FT_GRPO_KL) && a.cfg.group_size < 2)
        return fl_usage_error("finetune", "--group-size %d: %s normalises rewards within each group, so a group "
                                          "of one has advantage 0 and learns nothing (use 2 or more)",
                              a.cfg.group_size, fl_ft_method_name(a.cfg.method));
    if (fl_out_is_not_input(a.out, a.base, "--base") || fl_out_is_not_input(a.out, a.teacher, "--teacher"))
        return fl_fail("finetune");
    if ((rc = fl_budget_usage("finetune", &a.budget))) return rc;
    fl_set_threads(a.threads);
    if ((rc = finetune(&a))) return rc >= 100 ? rc - 100 : fl_fail("finetune");
    char fmt[1024];
    if (a.cfg.budget.kl_budget > 0) {
        fl_budget_summary_line("finetune", fl_ft_method_name(a.cfg.method), a.out);
        return FL_EXIT_OK;
    }
    snprintf(fmt, sizeof fmt, "finetune %s: new-task accuracy %%K3{new_acc}, prior-task accuracy %%K3{prior_acc} "
             "(base %%K3{prior_acc_base}; forgetting %%K3{forgetting}), forward KL %%K{forward_kl_new} -> %s",
             fl_ft_method_name(a.cfg.method), a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
