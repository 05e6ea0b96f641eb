/* cmd_report.c: `forgetlab report DIR`, (re)builds the report of a study
 * or of a grok run, whichever DIR holds. */
#include "cli.h"

#include "forgetlab/fileio.h"
#include "forgetlab/grok.h"
#include "forgetlab/study.h"

#include <stdio.h>
#include <stdlib.h>

static const char HELP[] =
    "usage: forgetlab report DIR\n"
    "\n"
    "(Re)builds the report of a study directory from its results.sqlite:\n"
    "results.csv, predictors.csv, frontier.csv, the plots (PNG and SVG) and\n"
    "index.html; or the plots of a grok run directory from its metrics.jsonl\n"
    "and model.safetensors. Safe to run while the study or run is going.\n";

static int run(int argc, char **argv);
const fl_command fl_cmd_report = {"report", "(re)build the plots and HTML report of a study directory", run, HELP};

static int run(int argc, char **argv) {
    char **pos;
    int npos;
    int rc = fl_parse_args(argc, argv, &fl_cmd_report, NULL, NULL, NULL, &pos, &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (npos != 1) return fl_usage_error("report", "expected one study directory");
    /* A grok run has metrics.jsonl and no results.sqlite. */
    char *db = fl_path_join(pos[0], "results.sqlite"), *metrics = fl_path_join(pos[0], "metrics.jsonl");
    int grok = db && metrics && !fl_file_exists(db) && fl_file_exists(metrics);
    free(db), free(metrics);
    if (grok) return fl_grok_plots(pos[0]) ? fl_fail("report") : FL_EXIT_OK;
    return fl_razor_analyse(pos[0]) ? fl_fail("report") : FL_EXIT_OK;
}
