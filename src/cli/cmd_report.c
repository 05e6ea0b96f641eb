/* cmd_report.c: `forgetlab report DIR`, (re)builds the report of a study
 * or of a grok or lm-pretrain run, whichever DIR holds. */
#include "cli.h"

#include "forgetlab/io/fileio.h"
#include "forgetlab/report/report.h"
#include "forgetlab/store/results.h"
#include "forgetlab/store/rundir.h"

#include <cjson/cJSON.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab report DIR [--per-method-fits] [--log-x]\n"
    "\n"
    "(Re)builds the report of a study directory from its results.sqlite:\n"
    "results.csv, predictors.csv, frontier.csv, methods.csv, rl_vs_sft.csv,\n"
    "forecast.json, the plots (PNG and SVG) and index.html; or the plots of a\n"
    "grok run directory from its metrics.jsonl and model.safetensors, or of an\n"
    "lm-pretrain run directory from its metrics.jsonl. Safe to run while the\n"
    "study or run is going.\n"
    "\n"
    "Options (a study's forgetting-vs-KL figure):\n";
static char HELP[4096];

static const fl_setting SETTINGS[] = {
    {"per-method-fits", FL_SET_FLAG, offsetof(fl_razor_report_opts, per_method_fits), 0, 0, NULL,
     "draw each method's own quadratic fit beside the pooled one", NULL, NULL, NULL},
    {"log-x", FL_SET_FLAG, offsetof(fl_razor_report_opts, log_x), 0, 0, NULL, "a logarithmic forward-KL axis", NULL,
     NULL, NULL},
};
enum { NSETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

int fl_analyse_study(const char *dir, const fl_razor_report_opts *opts) {
    char *db = fl_path_join(dir, "results.sqlite"), kind[32] = "";
    int have = 0;
    if (db) fl_results_peek_meta(db, "kind", kind, sizeof kind, &have);
    free(db);
    return strcmp(kind, "continual") == 0 ? fl_clstudy_analyse(dir, stdout) : fl_razor_analyse(dir, opts, stdout);
}

static int run(int argc, char **argv);
const fl_command fl_cmd_report = {"report", "(re)build the plots and HTML report of a study directory", run, HELP};

static int run(int argc, char **argv) {
    char **pos;
    int npos;
    fl_razor_report_opts opts = {0};
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, SETTINGS, NSETTINGS, &opts, "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_report, SETTINGS, NSETTINGS, &opts, NULL, NULL, NULL, &pos, &npos);
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
    free(db), free(cfg);
    if (study) return fl_analyse_study(pos[0], &opts) ? fl_fail("report") : FL_EXIT_OK;
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
