/* cmd_lm_finetune.c: `forgetlab lm-finetune`, the pretrained language
 * model fine-tuned on the new task by SFT or on-policy RL, every checkpoint
 * measured against the base (docs/lm.md). */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/train/lm_finetune.h"

#include <stddef.h>
#include <stdio.h>

static const char HELP_HEAD[] =
    "usage: forgetlab lm-finetune --base DIR --method M --out DIR [OPTIONS]\n"
    "\n"
    "Fine-tunes a pretrained language model (an lm-pretrain run) on the new task,\n"
    "word completion: given 'word:' and a 2- or 3-letter prefix, complete a word\n"
    "of the list, then '='. Methods: sft and sft-alt (the alphabetically first or\n"
    "last word), rft (the base's own correct samples), grpo, grpo-kl, reinforce\n"
    "(on-policy RL, reward 1 for a word), simpo (offline pairs) and distill (a\n"
    "teacher's correct samples). Every checkpoint is measured against the base:\n"
    "new-task success, every prior skill's accuracy and the held-out text's bits\n"
    "per byte, forgetting, the forward KL on the new task's prompts along the\n"
    "base's samples (exact per position, and Monte Carlo), reverse KL, total\n"
    "variation, weight and activation change. Writes DIR/config.json,\n"
    "metrics.jsonl, model.safetensors, summary.json and state.safetensors;\n"
    "rerunning the same command resumes.\n"
    "\n"
    "Options:\n"
    "  --out DIR               run directory (required); --overwrite replaces a run\n"
    "                          of another command or configuration there\n";
static char HELP[12288];

static int run(int argc, char **argv);
const fl_command fl_cmd_lm_finetune = {"lm-finetune", "fine-tune the language model on the new task (SFT or RL)", run,
                                       HELP};

/* The budget for this base (its architecture is what a calibration must
 * share); FL_EXIT_OK or the exit code after the reason. */
static int budget_for_base(fl_budget_args *b, fl_lmft_config *cfg) {
    if (!(b->max_kl > 0) && !b->calibration) return FL_EXIT_OK;
    fl_gpt base = {0};
    if (fl_gpt_load(cfg->base, &base, NULL)) return fl_fail("lm-finetune");
    char spec[160];
    fl_gpt_spec_string(&base.cfg, spec, sizeof spec);
    fl_gpt_free(&base);
    return fl_budget_setup("lm-finetune", b, "lm", spec, &cfg->budget);
}

static int run(int argc, char **argv) {
    fl_lmft_config cfg, defaults;
    const char *out;
    fl_budget_args budget = {0};
    fl_lmft_defaults(&defaults);
    cfg = defaults;
    const fl_run_cmd r = {HELP, sizeof HELP, HELP_HEAD, FL_LMFT_SETTINGS, FL_LMFT_NSETTINGS, &defaults, NULL, NULL,
                          offsetof(fl_lmft_config, overwrite), FL_BUDGET_OPTS, FL_BUDGET_HELP, fl_budget_arg,
                          &budget};
    int rc = fl_parse_run(argc, argv, &fl_cmd_lm_finetune, &r, &cfg, &out);
    if (rc) return rc == FL_ARGS_HELP ? FL_EXIT_OK : FL_EXIT_USAGE;
    if (fl_lmft_check(&cfg)) return fl_usage_error("lm-finetune", "%s", fl_error_msg());
    if ((rc = fl_budget_usage("lm-finetune", &budget)) || (rc = budget_for_base(&budget, &cfg))) {
        fl_forecast_file_free(&budget.file);
        return rc;
    }
    const int rr = fl_lmft_run(&cfg, out);
    fl_forecast_file_free(&budget.file);
    if (rr) return fl_fail("lm-finetune");
    if (cfg.budget.kl_budget > 0) {
        fl_budget_summary_line("lm-finetune", fl_lmft_method_name(cfg.method), out);
        return FL_EXIT_OK;
    }
    fl_summary_line(out, "summary.json",
                    "lm-finetune: new task %K3{new_acc} (base %K3{new_acc_base}), prior skills %K3{prior_acc} (base "
                    "%K3{prior_acc_base}), forward KL %K3{forward_kl_new} nats, held-out text %K3{bpb} bits per byte "
                    "(%K{wall_time_s} s)");
    return FL_EXIT_OK;
}
