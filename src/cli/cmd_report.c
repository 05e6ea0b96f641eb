/* cmd_report.c: `forgetlab report DIR`, (re)builds the report of a study
 * or of a grok or lm-pretrain run, whichever DIR holds. */
#include "cli.h"

#include "forgetlab/io/fileio.h"
#include "forgetlab/report/report.h"
#include "forgetlab/store/results.h"
#include "forgetlab/store/rundir.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab report DIR [--per-method-fits] [--log-x]\n"
    "\n"
    "(Re)builds the report of a study directory from its results.sqlite:\n"
    "results.csv, predictors.csv, frontier.csv, methods.csv, the plots (PNG and\n"
    "SVG) and index.html; or the plots of a grok run directory from its\n"
    "metrics.jsonl and model.safetensors, or of an lm-pretrain run directory\n"
    "from its metrics.jsonl. Safe to run while the study or run is going.\n"
    "\n"
    "Options (a study's forgetting-vs-KL figure):\n"
    "  --per-method-fits  draw each method's own quadratic fit beside the pooled one\n"
    "  --log-x            a logarithmic forward-KL axis\n";

enum { O_PER_METHOD = 256, O_LOG_X };
static const struct option OPTS[] = {{"per-method-fits", no_argument, 0, O_PER_METHOD},
                                     {"log-x", no_argument, 0, O_LOG_X}, {0, 0, 0, 0}};

static int handle(int opt, const char *v, void *ctx) {
    fl_razor_report_opts *o = ctx;
    (void)v;
    if (opt == O_PER_METHOD) o->per_method_fits = 1;
    else if (opt == O_LOG_X) o->log_x = 1;
    else return -1;
    return 0;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_report = {"report", "(re)build the plots and HTML report of a study directory", run, HELP};

static int run(int argc, char **argv) {
    char **pos;
    int npos;
    fl_razor_report_opts opts = {0};
    int rc = fl_parse_args(argc, argv, &fl_cmd_report, OPTS, handle, &opts, &pos, &npos);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (npos != 1) return fl_usage_error("report", "expected one study directory");
    /* A study has results.sqlite; a grok run says so in its config.json. */
    char *db = fl_path_join(pos[0], "results.sqlite"), *cfg = fl_path_join(pos[0], "config.json");
    const int study = db && fl_file_exists(db);
    cJSON *c = NULL;
    const char *command = NULL;
    if (!study && cfg && fl_file_exists(cfg) && fl_json_read_file(cfg, &c) == 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "command");
        command = cJSON_IsString(v) ? v->valuestring : NULL;
    }
    /* A continual-learning study has its own analysis; the others razor's. */
    char kind[32] = "";
    int have = 0;
    if (study) fl_results_peek_meta(db, "kind", kind, sizeof kind, &have);
    free(db), free(cfg);
    if (study) {
        const int rs = strcmp(kind, "continual") == 0 ? fl_clstudy_analyse(pos[0], stdout) : fl_razor_analyse(pos[0], &opts, stdout);
        return rs ? fl_fail("report") : FL_EXIT_OK;
    }
    if (command && (!strcmp(command, "grok") || !strcmp(command, "lm-pretrain"))) {
        const int grok = !strcmp(command, "grok");
        cJSON_Delete(c);
        return (grok ? fl_grok_plots(pos[0]) : fl_lm_plots(pos[0])) ? fl_fail("report") : FL_EXIT_OK;
    }
    if (command)
        fprintf(stderr, "forgetlab report: %s holds a '%s' run, which has no report: report rebuilds a study's "
                        "(a directory with results.sqlite) or a grok or lm-pretrain run's plots; this run's "
                        "figures are in its summary.json and metrics.jsonl\n", pos[0], command);
    else
        fprintf(stderr, "forgetlab report: %s holds neither a study (results.sqlite) nor a grok or lm-pretrain run "
                        "(config.json with its command): nothing to report\n", pos[0]);
    cJSON_Delete(c);
    return FL_EXIT_FAIL;
}
