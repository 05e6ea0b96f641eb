/* cmd_report.c: `forgetlab report DIR`, (re)builds a study's report. */
#include "cli.h"

#include "forgetlab/study.h"

#include <stdio.h>

static const char HELP[] =
    "usage: forgetlab report DIR\n"
    "\n"
    "(Re)builds the report of a study directory from its results.sqlite:\n"
    "results.csv, predictors.csv, frontier.csv, the plots (PNG and SVG) and\n"
    "index.html. Safe to run while the study is still going.\n";

static int run(int argc, char **argv);
const fl_command fl_cmd_report = {"report", "(re)build the plots and HTML report of a study directory", run, HELP};

static int run(int argc, char **argv) {
    char **pos;
    int npos;
    int rc = fl_parse_args(argc, argv, &fl_cmd_report, NULL, NULL, NULL, &pos, &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (npos != 1) return fl_usage_error("report", "expected one study directory");
    return fl_razor_analyse(pos[0]) ? fl_fail("report") : FL_EXIT_OK;
}
