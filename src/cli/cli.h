/* cli.h: what the subcommands share: option parsing helpers, the usage-error
 * convention (exit 2) and the failure convention (exit 1, one line). */
#ifndef FORGETLAB_CLI_H
#define FORGETLAB_CLI_H

#include "forgetlab/store/forecast_file.h"
#include "forgetlab/train/budget.h"
#include "forgetlab/io/settings.h"
#include "forgetlab/report/razor.h"
#include "forgetlab/report/report.h"

#include <getopt.h>
#include <stddef.h>

enum { FL_EXIT_OK = 0, FL_EXIT_FAIL = 1, FL_EXIT_USAGE = 2 };

/* A subcommand: its name, one line for `forgetlab --help`, its entry point
 * (argv[0] is the subcommand name) and its --help text. */
typedef struct {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
    const char *help;
} fl_command;

/* Prints "forgetlab CMD: MESSAGE" and a hint to stderr; returns FL_EXIT_USAGE. */
int fl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "forgetlab CMD: <fl_error_msg()>" to stderr; returns FL_EXIT_FAIL. */
int fl_fail(const char *cmd);

/* Strict number parsing for option values: the whole string must be a
 * number within [lo, hi]. On failure records "--FLAG: ..." and returns -1. */
int fl_arg_long(const char *flag, const char *s, long lo, long hi, long *out);
int fl_arg_double(const char *flag, const char *s, double lo, double hi, double *out);

/* Runs getopt_long over argv; for each option calls handle(opt, optarg, ctx),
 * which returns 0, or -1 after fl_error_set for a bad value. Handles --help
 * (prints help, returns 1 so the caller exits 0), unknown options and missing
 * arguments (usage error). Returns 0 when parsing succeeded, 1 after --help,
 * or FL_EXIT_USAGE + 100 after a usage error (already printed). Positional
 * arguments are refused unless npos is not NULL (they are then returned).
 * An option whose val is a letter may also be given as -LETTER. */
/* The closing line every command prints on stderr, with numbers from
 * DIR/FILE (a JSON object): fmt's %K{key} stands for the number at key
 * ("?" when absent or null), printed with %.4g, or %.3f after %K3{key};
 * anything else is copied. fprintf-like apart from that. Quiet or not,
 * this line is always printed: it is the command's result, not progress. */
void fl_summary_line(const char *dir, const char *file, const char *fmt);

#define FL_ARGS_HELP 1
#define FL_ARGS_USAGE 102
int fl_parse_args(int argc, char **argv, const fl_command *cmd,
                  const struct option *opts,
                  int (*handle)(int opt, const char *arg, void *ctx), void *ctx,
                  char ***pos, int *npos);

/* fl_parse_args over a settings table as well: each of t's options sets
 * its field of cfg (settings.h); opts and handle (either may be NULL) take
 * the command's other options. */
int fl_parse_settings(int argc, char **argv, const fl_command *cmd, const fl_setting *t, int nt, void *cfg,
                      const struct option *opts, int (*handle)(int opt, const char *arg, void *ctx), void *ctx,
                      char ***pos, int *npos);
/* A preset sets many settings at once, so it must come before them: -1
 * (error set, naming the first) when a setting of t other than except's
 * already differs in cfg from defaults. */
int fl_preset_may_apply(const fl_setting *t, int nt, const void *cfg, const void *defaults, const char *const *except);
/* A training command's arguments: its settings table, --out DIR
 * (required), --overwrite, and --preset NAME when preset is set, which must
 * come before the settings it sets (all but not_preset's, NULL-ended).
 * Composes the command's --help into help first (head, the table's lines
 * with the defaults, --help). FL_ARGS_HELP after --help, -1 after a usage
 * error (printed), else 0. */
typedef struct {
    char *help;                      /* the command's --help buffer */
    size_t help_size;
    const char *head;
    const fl_setting *t;
    int nt;
    const void *defaults;            /* the configuration the command and a preset start from */
    int (*preset)(void *cfg, const char *name);
    const char *const *not_preset;
    size_t overwrite_offset;         /* of the configuration's int overwrite */
    /* The command's own options besides (NULL: none): their table, ended
     * by a zero entry, their --help lines, and their handler. */
    const struct option *extra_opts;
    const char *extra_help;
    int (*extra)(int opt, const char *v, void *ctx);
    void *extra_ctx;
} fl_run_cmd;
#define FL_RUN_MAX_EXTRA 8
int fl_parse_run(int argc, char **argv, const fl_command *cmd, const fl_run_cmd *r, void *cfg, const char **out);

/* --out DIR and --overwrite of a study command: their options, and the
 * handler that sets the fields at these offsets of cfg (a const char * and
 * an int). */
extern const struct option FL_STUDY_OUT_OPTS[];
typedef struct {
    void *cfg;
    size_t out_offset, overwrite_offset;
} fl_study_out;
int fl_study_out_handle(int opt, const char *v, void *ctx);

/* The study subcommands' shared steps. fl_study_parse: composes cmd's
 * help (head, then the settings' lines), parses argv into cfg (its
 * settings, --out and --overwrite at so's offsets) and requires --out:
 * FL_EXIT_OK after --help, FL_EXIT_USAGE on bad options, else -1 to go on.
 * fl_study_finish: the exit code once the study ran (rr: its return,
 * FL_BAD_REQUEST a usage error), after the writing process analysed it
 * with analyse(dir, stdout) and named the report. */
int fl_study_parse(const fl_command *cmd, const char *head, char *help, size_t help_n, const fl_setting *t, int nt,
                   const fl_study_out *so, int argc, char **argv);
int fl_study_finish(const char *name, int rr, int writer, const char *out_dir,
                    int (*analyse)(const char *dir, FILE *out));

/* The analysis and report of the study in dir, printing its summary: a
 * continual-learning study's own, the others razor's (opts: its figures'
 * options, NULL for the defaults). */
int fl_analyse_study(const char *dir, const fl_razor_report_opts *opts);

/* `forgetlab study lm ...` (cmd_study_lm.c): argv[0] is "lm". */
int fl_study_lm_main(int argc, char **argv);
/* `forgetlab study grok-forget ...` (cmd_study_grokforget.c). */
int fl_study_grokforget_main(int argc, char **argv);
/* `forgetlab study continual ...` (cmd_study_continual.c). */
int fl_study_continual_main(int argc, char **argv);

/* A command's --help: head, the settings' lines (defaults from defaults),
 * then tail, into buf (truncated to n). */
void fl_help_compose(char *buf, size_t n, const char *head, const fl_setting *t, int nt, const void *defaults,
                     const char *tail);

/* The forgetting-budget options of finetune and lm-finetune
 * (budget_args.c): their option ids, --help lines, parsing, the checks
 * between them, and the budget they make for a base of the setting and
 * architecture given (FL_EXIT_OK, or the exit code after the reason). */
enum { FL_OPT_MAX_FORGETTING = 900, FL_OPT_CALIBRATION, FL_OPT_BUDGET_LEVEL, FL_OPT_MAX_FORWARD_KL };
#define FL_BUDGET_OPTIONS                                                                                   \
    {"max-forgetting", required_argument, 0, FL_OPT_MAX_FORGETTING},                                        \
        {"calibration", required_argument, 0, FL_OPT_CALIBRATION},                                          \
        {"budget-level", required_argument, 0, FL_OPT_BUDGET_LEVEL},                                        \
        {"max-forward-kl", required_argument, 0, FL_OPT_MAX_FORWARD_KL}
typedef struct {
    double max_forgetting, level, max_kl;
    const char *calibration;
    fl_forecast_file file; /* the calibration's forecast, kept while the run uses it */
} fl_budget_args;
extern const char FL_BUDGET_HELP[];
extern const struct option FL_BUDGET_OPTS[]; /* FL_BUDGET_OPTIONS, then a zero entry */
/* ctx: the fl_budget_args. */
int fl_budget_arg(int opt, const char *v, void *ctx);
int fl_budget_usage(const char *cmd, const fl_budget_args *b);
/* A budgeted run's closing line: the kept checkpoint, its KL against the
 * budget, its forecast and the forgetting measured. */
void fl_budget_summary_line(const char *cmd, const char *method, const char *out);
int fl_budget_setup(const char *cmd, fl_budget_args *b, const char *setting, const char *model, fl_budget_spec *out);

#endif
