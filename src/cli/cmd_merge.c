/* cmd_merge.c: `forgetlab merge DIR... --out DIR`, combines the shards of a
 * study (study razor --shard I/N) into one study directory and analyses it. */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/report.h"
#include "forgetlab/store/results.h"
#include "forgetlab/train/study.h"

#include <stddef.h>
#include <stdio.h>

static const char HELP_HEAD[] =
    "usage: forgetlab merge DIR... --out DIR [--partial]\n"
    "\n"
    "Combines study directories, the shards of one grid ('study razor --shard I/N'),\n"
    "into one study directory: results.sqlite (every finished run and checkpoint),\n"
    "the run directories and the base model; then writes the analysis and the\n"
    "report as 'study' does. Refuses directories of another version, grid, thread\n"
    "counts (per run, and for the shared work) or base model, a shard given twice,\n"
    "and runs of the grid that no directory finished. Merging again into the same\n"
    "--out adds what is new.\n"
    "\n"
    "Options:\n";
static char HELP[4096];

typedef struct {
    const char *out;
    int partial;
} merge_args;

static const fl_setting SETTINGS[] = {
    {"out", FL_SET_STRING, offsetof(merge_args, out), 0, 0, "DIR", "the merged study (required; not one of the parts)",
     NULL, NULL, NULL},
    {"partial", FL_SET_FLAG, offsetof(merge_args, partial), 0, 0, NULL,
     "merge even when runs are missing, and analyse what is there", NULL, NULL, NULL},
};
enum { NSETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

static int run(int argc, char **argv);
const fl_command fl_cmd_merge = {"merge", "combine the shard directories of a study into one, and analyse it", run,
                                 HELP};

static int run(int argc, char **argv) {
    merge_args a = {0};
    char **pos;
    int npos;
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, SETTINGS, NSETTINGS, &a, "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_merge, SETTINGS, NSETTINGS, &a, NULL, NULL, NULL, &pos, &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.out) return fl_usage_error("merge", "--out DIR is required");
    if (npos < 1) return fl_usage_error("merge", "expected the study directories to merge");
    int added = 0;
    if (fl_razor_merge((const char *const *)pos, npos, a.out, a.partial, &added)) return fl_fail("merge");
    printf("merged %d part(s) into %s: %d new run(s)\n\n", npos, a.out, added);
    return fl_analyse_study(a.out, NULL) ? fl_fail("merge") : FL_EXIT_OK;
}
