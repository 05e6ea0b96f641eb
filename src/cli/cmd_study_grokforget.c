/* cmd_study_grokforget.c: `forgetlab study grok-forget`, one model's whole
 * life: grok a + b mod p, then forget it under fine-tuning on a new task,
 * with circuit stability, the Fourier circuit and the forward KL measured
 * throughout (docs/grok-forget.md). */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/report/report.h"
#include "forgetlab/train/study_grokforget.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab study grok-forget --out DIR [--quick] [--seeds N] [OPTIONS]\n"
    "\n"
    "One model's whole life: for each seed a transformer groks a + b mod p (grok's\n"
    "quick preset, or tiny with --quick, one operation token reserved; grown once\n"
    "into the cache, or --base), then is fine-tuned on a new task asked with that\n"
    "token (difference: c = a - b or b - a mod p) by sft1, sft2, oracle, grpo,\n"
    "grpo-kl and reinforce over a grid of learning rates. Every checkpoint is\n"
    "measured against the grokked base: a + b's accuracy (forgetting), the new\n"
    "task's, the forward KL and the other predictors, circuit stability of a + b\n"
    "(by-a, by-answer) with its random-split baseline, the key Fourier\n"
    "frequencies' share of the embedding, restricted and excluded loss. Writes\n"
    "DIR/runs/, results.sqlite, results.csv (with the grokking phase's rows,\n"
    "phase = grok), predictors.csv, frontier.csv, methods.csv, rl_vs_sft.csv,\n"
    "the plots, life_*.png and index.html. Rerunning resumes.\n"
    "\n"
    "Options:\n"
    "  --out DIR               study directory (required); a rerun of the same grid\n"
    "                          resumes\n"
    "  --overwrite             replace a study of another grid (or anything else) in\n"
    "                          DIR\n";
static char HELP[8192];

static const fl_command STUDY_GF = {"study grok-forget", "grok a task, then forget it", NULL, HELP};

static int analyse(const char *dir, FILE *out) { return fl_razor_analyse(dir, NULL, out); }

int fl_study_grokforget_main(int argc, char **argv) {
    fl_gfstudy_config c;
    fl_gfstudy_defaults(&c);
    const fl_study_out so = {&c, offsetof(fl_gfstudy_config, out_dir), offsetof(fl_gfstudy_config, overwrite)};
    const int rc = fl_study_parse(&STUDY_GF, HELP_HEAD, HELP, sizeof HELP, FL_GFSTUDY_SETTINGS, FL_GFSTUDY_NSETTINGS,
                                  &so, argc, argv);
    if (rc >= 0) return rc;
    int writer = 0;
    const int rr = fl_gfstudy_run(&c, &writer);
    return fl_study_finish("study grok-forget", rr, writer, c.out_dir, analyse);
}
