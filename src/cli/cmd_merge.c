/* cmd_merge.c: `forgetlab merge DIR... --out DIR`, combines the shards of a
 * study (study razor --shard I/N) into one study directory and analyses it. */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/report.h"
#include "forgetlab/store/results.h"
#include "forgetlab/train/study.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
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
    "Options:\n"
    "  --out DIR    the merged study (required; not one of the parts)\n"
    "  --partial    merge even when runs are missing, and analyse what is there\n"
    "  --help       show this help\n";

enum { O_OUT = 256, O_PARTIAL };
static const struct option OPTS[] = {
    {"out", required_argument, 0, O_OUT}, {"partial", no_argument, 0, O_PARTIAL}, {0, 0, 0, 0}};

typedef struct {
    const char *out;
    int partial;
} merge_args;

static int handle(int opt, const char *v, void *ctx) {
    merge_args *a = ctx;
    if (opt == O_OUT) a->out = v;
    if (opt == O_PARTIAL) a->partial = 1;
    return 0;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_merge = {"merge", "combine the shard directories of a study into one, and analyse it", run,
                                 HELP};

static int run(int argc, char **argv) {
    merge_args a = {0};
    char **pos;
    int npos;
    int rc = fl_parse_args(argc, argv, &fl_cmd_merge, OPTS, handle, &a, &pos, &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.out) return fl_usage_error("merge", "--out DIR is required");
    if (npos < 1) return fl_usage_error("merge", "expected the study directories to merge");
    int added = 0;
    if (fl_razor_merge((const char *const *)pos, npos, a.out, a.partial, &added)) return fl_fail("merge");
    printf("merged %d part(s) into %s: %d new run(s)\n\n", npos, a.out, added);
    /* A continual-learning study has its own analysis; the others razor's. */
    char *db = fl_path_join(a.out, "results.sqlite"), kind[32] = "";
    int have = 0;
    if (db) fl_results_peek_meta(db, "kind", kind, sizeof kind, &have);
    free(db);
    if (strcmp(kind, "continual") == 0 ? fl_clstudy_analyse(a.out, stdout) : fl_razor_analyse(a.out, NULL, stdout))
        return fl_fail("merge");
    return FL_EXIT_OK;
}
