/* cmd_study_continual.c: `forgetlab study continual`, a task sequence
 * learnt by every continual-learning method, with its report
 * (docs/continual.md). */
#include "cli.h"

#include "forgetlab/train/study_continual.h"
#include "forgetlab/core/error.h"
#include "forgetlab/report/report.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab study continual --benchmark B --scenario S --out DIR [OPTIONS]\n"
    "\n"
    "Learns the benchmark's tasks in order with naive fine-tuning, joint training,\n"
    "experience replay, EWC, online EWC, SI, LwF, L2-SP, KL to the previous model\n"
    "and A-GEM (or --methods), from seeds 0..N-1, and writes each run's accuracy\n"
    "matrix (runs/RUN/accuracy_matrix.npy and a heatmap), results.sqlite,\n"
    "results.csv (a row per run, boundary and task), metrics.csv (average\n"
    "accuracy, BWT, FWT, forgetting first-minus-last and max-minus-last),\n"
    "predictors.csv (the boundary's forward KL against the step's forgetting),\n"
    "the plots and index.html. Rerunning resumes.\n"
    "\n"
    "Options:\n"
    "  --out DIR               study directory (required)\n"
    "  --overwrite             replace a study of another grid (or anything else) in\n"
    "                          DIR\n";
static char HELP[12288];

static const fl_command STUDY_CONTINUAL = {"study continual", "a task sequence by every continual-learning method",
                                           NULL, HELP};

int fl_study_continual_main(int argc, char **argv) {
    fl_clstudy_config c;
    fl_clstudy_defaults(&c);
    c.bench = FL_CL_NBENCH, c.scenario = FL_CL_NSCENARIO; /* required */
    const fl_study_out so = {&c, offsetof(fl_clstudy_config, out_dir), offsetof(fl_clstudy_config, overwrite)};
    const int rc = fl_study_parse(&STUDY_CONTINUAL, HELP_HEAD, HELP, sizeof HELP, FL_CLSTUDY_SETTINGS,
                                  FL_CLSTUDY_NSETTINGS, &so, argc, argv);
    if (rc >= 0) return rc;
    if (c.bench == FL_CL_NBENCH) return fl_usage_error("study continual", "--benchmark B is required");
    if (c.scenario == FL_CL_NSCENARIO) return fl_usage_error("study continual", "--scenario S is required");
    int writer = 0;
    const int rr = fl_clstudy_run(&c, &writer);
    return fl_study_finish("study continual", rr, writer, c.out_dir, fl_clstudy_analyse);
}
