/* cmd_compare.c: `forgetlab compare DIR... --out DIR`: the studies of
 * every setting side by side (report/compare.h, docs/findings.md). */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/report/compare.h"

#include <stddef.h>
#include <stdio.h>

static const char HELP_HEAD[] =
    "usage: forgetlab compare DIR... --out DIR\n"
    "\n"
    "Reads finished studies of any kind (study razor, lm, continual, grok-forget;\n"
    "several seeds or sizes each) and lays their own tables side by side: for each\n"
    "setting, how well each predictor explains forgetting (findings.csv), the\n"
    "predictors ranked by held-out R^2 (ranking.csv), the best on-policy method\n"
    "against the best SFT one (rl_vs_sft.csv), circuit stability against forgetting\n"
    "and across grokking (cs.csv), a heatmap and findings.html. Nothing is refitted:\n"
    "each number is the one its study wrote. Refuses a directory that is not a\n"
    "finished study, and two studies of one setting with different columns.\n"
    "\n"
    "Options:\n";
static char HELP[4096];

typedef struct {
    const char *out;
} compare_args;

static const fl_setting SETTINGS[] = {
    {"out", FL_SET_STRING, offsetof(compare_args, out), 0, 0, "DIR", "where the tables and the page go (required)",
     NULL, NULL, NULL},
};
enum { NSETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

static int run(int argc, char **argv);
const fl_command fl_cmd_compare = {"compare", "lay the studies of every setting side by side (findings)", run, HELP};

static int run(int argc, char **argv) {
    compare_args a = {0};
    char **pos;
    int npos;
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, SETTINGS, NSETTINGS, &a, "  --help                  show this help\n");
    const int rc = fl_parse_settings(argc, argv, &fl_cmd_compare, SETTINGS, NSETTINGS, &a, NULL, NULL, NULL, &pos,
                                     &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.out) return fl_usage_error("compare", "--out DIR is required");
    if (npos < 1) return fl_usage_error("compare", "expected the study directories to compare");
    const int rr = fl_compare((const char *const *)pos, npos, a.out, stdout);
    if (rr == FL_BAD_REQUEST) return fl_usage_error("compare", "%s", fl_error_msg());
    if (rr) return fl_fail("compare");
    fprintf(stderr, "compare: %s/findings.html\n", a.out);
    return FL_EXIT_OK;
}
