/* cmd_study_lm.c: `forgetlab study lm`, RL's Razor on the language model:
 * the sweep of lm-finetune runs over methods and learning rates, every
 * checkpoint measured, and the report of `study razor` (docs/lm.md). */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/train/study_lm.h"
#include "forgetlab/report/report.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab study lm --out DIR [--quick] [--seeds N] [OPTIONS]\n"
    "\n"
    "RL's Razor on the byte-level language model: each seed's base (lm-pretrain's\n"
    "quick or default preset, pretrained once into the cache, or --base) is\n"
    "fine-tuned on word completion by sft, sft-alt, rft, grpo, grpo-kl, reinforce\n"
    "and simpo over a grid of learning rates, then by distill from the seed's best\n"
    "grpo run; every checkpoint is measured (new-task success, the prior skills,\n"
    "bits per byte, the forward KL along the base's samples and the other\n"
    "predictors). Writes DIR/runs/, results.sqlite, results.csv, predictors.csv,\n"
    "frontier.csv, methods.csv, rl_vs_sft.csv, the plots and index.html.\n"
    "Rerunning resumes.\n"
    "\n"
    "Options:\n"
    "  --out DIR               study directory (required); a rerun of the same grid\n"
    "                          resumes\n"
    "  --overwrite             replace a study of another grid (or anything else) in\n"
    "                          DIR\n";
static char HELP[12288];

static const fl_command STUDY_LM = {"study lm", "RL's Razor on the language model", NULL, HELP};

static int analyse(const char *dir, FILE *out) { return fl_razor_analyse(dir, NULL, out); }

int fl_study_lm_main(int argc, char **argv) {
    fl_lmstudy_config c;
    fl_lmstudy_defaults(&c);
    const fl_study_out so = {&c, offsetof(fl_lmstudy_config, out_dir), offsetof(fl_lmstudy_config, overwrite)};
    const int rc = fl_study_parse(&STUDY_LM, HELP_HEAD, HELP, sizeof HELP, FL_LMSTUDY_SETTINGS, FL_LMSTUDY_NSETTINGS,
                                  &so, argc, argv);
    if (rc >= 0) return rc;
    int writer = 0;
    const int rr = fl_lmstudy_run(&c, &writer);
    return fl_study_finish("study lm", rr, writer, c.out_dir, analyse);
}
