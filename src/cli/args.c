/* args.c: GNU-style long-option parsing shared by every subcommand, and the
 * two error conventions (usage error: exit 2; failure: exit 1). */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/store/rundir.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "forgetlab %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'forgetlab %s --help'.\n", cmd);
    return FL_EXIT_USAGE;
}

int fl_fail(const char *cmd) {
    fprintf(stderr, "forgetlab %s: %s\n", cmd, fl_error_msg());
    return FL_EXIT_FAIL;
}

int fl_arg_long(const char *flag, const char *s, long lo, long hi, long *out) {
    return fl_parse_long(flag, s, lo, hi, out);
}

int fl_arg_double(const char *flag, const char *s, double lo, double hi, double *out) {
    return fl_parse_double(flag, s, lo, hi, out);
}

int fl_parse_args(int argc, char **argv, const fl_command *cmd,
                  const struct option *opts,
                  int (*handle)(int opt, const char *arg, void *ctx), void *ctx,
                  char ***pos, int *npos) {
    /* Build a long-option table with --help appended; every option is long
     * only but -h, the one short option everyone tries (":" reports
     * missing args). */
    int n = 0;
    while (opts && opts[n].name) n++;
    struct option all[128];
    if (n > 125) n = 125;
    if (n) memcpy(all, opts, (size_t)n * sizeof *all);
    all[n] = (struct option){"help", no_argument, NULL, 'h'};
    all[n + 1] = (struct option){"quiet", no_argument, NULL, 'q'};
    all[n + 2] = (struct option){0, 0, 0, 0};
    /* An option whose value is a letter has that short form too (sample's
     * -n): the letter goes into getopt's short options. */
    char shorts[2 * 128 + 4] = ":h";
    size_t ns = 2;
    for (int i = 0; i < n; i++)
        if (!opts[i].flag && opts[i].val > 0 && opts[i].val < 128 && isalpha(opts[i].val)) {
            shorts[ns++] = (char)opts[i].val;
            if (opts[i].has_arg == required_argument) shorts[ns++] = ':';
        }
    shorts[ns] = '\0';

    optind = 1;
    opterr = 0;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, shorts, all, &idx);
        if (c == -1) break;
        if (c == 'h') {
            fputs(cmd->help, stdout);
            return FL_ARGS_HELP;
        }
        if (c == 'q') {
            fl_progress_set_quiet(1);
            continue;
        }
        if (c == '?') {
            fl_usage_error(cmd->name, "unknown option '%s'", argv[optind - 1]);
            return FL_ARGS_USAGE;
        }
        if (c == ':') {
            fl_usage_error(cmd->name, "option '%s' needs a value", argv[optind - 1]);
            return FL_ARGS_USAGE;
        }
        if (handle(c, optarg, ctx)) {
            fl_usage_error(cmd->name, "%s", fl_error_msg());
            return FL_ARGS_USAGE;
        }
    }
    if (optind < argc && !npos) {
        fl_usage_error(cmd->name, "unexpected argument '%s'", argv[optind]);
        return FL_ARGS_USAGE;
    }
    if (npos) {
        *pos = argv + optind;
        *npos = argc - optind;
    }
    return 0;
}

void fl_summary_line(const char *dir, const char *file, const char *fmt) {
    char *path = fl_path_join(dir, file);
    cJSON *j = NULL;
    if (path) fl_json_read_file(path, &j);
    free(path);
    for (const char *p = fmt; *p; p++) {
        if (p[0] != '%' || p[1] != 'K') {
            fputc(*p, stderr);
            continue;
        }
        const int fixed = p[2] == '3';
        const char *open = p + (fixed ? 3 : 2), *close = strchr(open, '}');
        if (*open != '{' || !close) {
            fputc(*p, stderr);
            continue;
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(close - open - 1), open + 1);
        const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
        if (cJSON_IsNumber(v)) fprintf(stderr, fixed ? "%.3f" : "%.4g", v->valuedouble);
        else fputc('?', stderr);
        p = close;
    }
    fputc('\n', stderr);
    cJSON_Delete(j);
}

/* The settings' options come after the command's own, numbered from here. */
enum { SETTING_ID = 1000 };

typedef struct {
    const fl_setting *t;
    void *cfg;
    int (*handle)(int opt, const char *arg, void *ctx);
    void *ctx;
} settings_ctx;

static int settings_handle(int opt, const char *arg, void *ctx) {
    settings_ctx *s = ctx;
    if (opt >= SETTING_ID) return fl_setting_apply(&s->t[opt - SETTING_ID], s->cfg, arg);
    return s->handle ? s->handle(opt, arg, s->ctx) : fl_error_set("unexpected option");
}

int fl_parse_settings(int argc, char **argv, const fl_command *cmd, const fl_setting *t, int nt, void *cfg,
                      const struct option *opts, int (*handle)(int opt, const char *arg, void *ctx), void *ctx,
                      char ***pos, int *npos) {
    int n = 0;
    while (opts && opts[n].name) n++;
    struct option all[126];
    if (n + nt > 125) return fl_usage_error(cmd->name, "too many options (%d)", n + nt);
    if (n) memcpy(all, opts, (size_t)n * sizeof *all);
    for (int i = 0; i < nt; i++)
        all[n + i] = (struct option){t[i].flag, t[i].type == FL_SET_FLAG ? no_argument : required_argument, NULL,
                                     SETTING_ID + i};
    all[n + nt] = (struct option){0, 0, 0, 0};
    settings_ctx s = {t, cfg, handle, ctx};
    return fl_parse_args(argc, argv, cmd, all, settings_handle, &s, pos, npos);
}

void fl_help_compose(char *buf, size_t n, const char *head, const fl_setting *t, int nt, const void *defaults,
                     const char *tail) {
    FILE *f = fmemopen(buf, n, "w");
    if (!f) {
        snprintf(buf, n, "%s", head);
        return;
    }
    fputs(head, f);
    fl_settings_help(f, t, nt, defaults);
    fputs(tail, f);
    fclose(f);
}

int fl_preset_may_apply(const fl_setting *t, int nt, const void *cfg, const void *defaults, const char *const *except) {
    const fl_setting *s = fl_settings_first_change(t, nt, cfg, defaults, except);
    return s ? fl_error_set("--preset must come before the options it would override (--%s)", s->flag) : 0;
}

enum { O_RUN_OUT = 256, O_RUN_OVERWRITE, O_RUN_PRESET };

typedef struct {
    const fl_run_cmd *r;
    void *cfg;
    const char **out;
} run_ctx;

static int run_handle(int opt, const char *v, void *ctx) {
    const run_ctx *c = ctx;
    switch (opt) {
    case O_RUN_OUT: *c->out = v; return 0;
    case O_RUN_OVERWRITE: *(int *)((char *)c->cfg + c->r->overwrite_offset) = 1; return 0;
    case O_RUN_PRESET:
        if (fl_preset_may_apply(c->r->t, c->r->nt, c->cfg, c->r->defaults, c->r->not_preset)) return -1;
        return c->r->preset(c->cfg, v) ? fl_error_wrap("--preset") : 0;
    }
    return c->r->extra ? c->r->extra(opt, v, c->r->extra_ctx) : -1;
}

int fl_parse_run(int argc, char **argv, const fl_command *cmd, const fl_run_cmd *r, void *cfg, const char **out) {
    /* --out, --overwrite, --preset when the command has presets, then the
     * command's own options. */
    struct option opts[3 + FL_RUN_MAX_EXTRA + 1] = {{"out", required_argument, 0, O_RUN_OUT},
                                                    {"overwrite", no_argument, 0, O_RUN_OVERWRITE}};
    int no = 2;
    if (r->preset) opts[no++] = (struct option){"preset", required_argument, 0, O_RUN_PRESET};
    for (int i = 0; r->extra_opts && r->extra_opts[i].name && i < FL_RUN_MAX_EXTRA; i++) opts[no++] = r->extra_opts[i];
    opts[no] = (struct option){0, 0, 0, 0};
    char tail[2048];
    snprintf(tail, sizeof tail, "%s  --help                  show this help\n", r->extra_help ? r->extra_help : "");
    fl_help_compose(r->help, r->help_size, r->head, r->t, r->nt, r->defaults, tail);
    run_ctx c = {r, cfg, out};
    *out = NULL;
    const int rc = fl_parse_settings(argc, argv, cmd, r->t, r->nt, cfg, opts, run_handle, &c, NULL, NULL);
    if (rc) return rc;
    if (!*out) {
        fl_usage_error(cmd->name, "--out DIR is required");
        return -1;
    }
    return 0;
}

enum { O_STUDY_OUT = 300, O_STUDY_OVERWRITE };
const struct option FL_STUDY_OUT_OPTS[] = {
    {"out", required_argument, 0, O_STUDY_OUT}, {"overwrite", no_argument, 0, O_STUDY_OVERWRITE}, {0, 0, 0, 0}};

int fl_study_out_handle(int opt, const char *v, void *ctx) {
    const fl_study_out *so = ctx;
    if (opt == O_STUDY_OUT) *(const char **)((char *)so->cfg + so->out_offset) = v;
    else if (opt == O_STUDY_OVERWRITE) *(int *)((char *)so->cfg + so->overwrite_offset) = 1;
    else return -1;
    return 0;
}

int fl_study_parse(const fl_command *cmd, const char *head, char *help, size_t help_n, const fl_setting *t, int nt,
                   const fl_study_out *so, int argc, char **argv) {
    fl_help_compose(help, help_n, head, t, nt, so->cfg, "  --help                  show this help\n");
    const int rc = fl_parse_settings(argc, argv, cmd, t, nt, so->cfg, FL_STUDY_OUT_OPTS, fl_study_out_handle,
                                     (void *)so, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!*(const char **)((const char *)so->cfg + so->out_offset))
        return fl_usage_error(cmd->name, "--out DIR is required");
    return -1;
}

int fl_study_finish(const char *name, int rr, int writer, const char *out_dir,
                    int (*analyse)(const char *dir, FILE *out)) {
    if (rr == FL_BAD_REQUEST) return fl_usage_error(name, "%s", fl_error_msg());
    if (rr) return fl_fail(name);
    if (!writer) return FL_EXIT_OK;
    if (analyse(out_dir, stdout)) return fl_fail(name);
    fprintf(stderr, "%s: report: %s/index.html\n", name, out_dir);
    return FL_EXIT_OK;
}
