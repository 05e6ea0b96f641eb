/* settings.h: each setting of a command described once. A table of
 * fl_setting (name, type, range, help text, config.json key) over the
 * fields of the command's config struct serves the option parser, --help,
 * the config.json writer and its reader, and so the resume check (which
 * compares config.json): adding a setting is one line of its table.
 *
 *   static const fl_setting T[] = {
 *       {"lr", FL_SET_DOUBLE, offsetof(cfg, lr), 1e-12, 10, "X", "AdamW learning rate", "lr"},
 *       ...
 *   };
 */
#ifndef FORGETLAB_SETTINGS_H
#define FORGETLAB_SETTINGS_H

#include "forgetlab/core/threads.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;

typedef enum {
    FL_SET_INT,    /* int, within [min, max] */
    FL_SET_LONG,   /* long, within [min, max] */
    FL_SET_U64,    /* uint64_t, within [min, max] */
    FL_SET_DOUBLE, /* double, finite, within [min, max] */
    FL_SET_STRING, /* const char *, pointing into argv (parse, when set, checks it) */
    FL_SET_FLAG,   /* int set to 1 by the option, which takes no value */
    FL_SET_CUSTOM  /* parse and format say how */
} fl_set_type;

typedef struct {
    const char *flag;   /* the option, without "--" */
    fl_set_type type;
    size_t offset;      /* of the field in the config struct */
    double min, max;    /* numbers: the accepted range */
    const char *arg;    /* the value's name in --help ("N", "X", "SPEC"); NULL for a flag */
    const char *help;   /* --help text; "(default D)" is added from the defaults
                           unless it says "(default" itself */
    const char *key;    /* config.json key; NULL: not recorded (no effect on the numbers) */
    /* FL_SET_CUSTOM (and optionally FL_SET_STRING): value -> field, 0 or
     * -1 with the error set (fl_setting_apply prefixes the flag). */
    int (*parse)(const char *v, void *field);
    /* FL_SET_CUSTOM: field -> text, for --help and config.json. */
    void (*format)(const void *field, char *buf, size_t n);
} fl_setting;

/* The rows most commands' tables share, over a config struct with int
 * threads and const char *data_dir (neither changes the numbers). */
#define FL_SETTING_THREADS(offset)                                                                            \
    {"threads", FL_SET_INT, (offset), 0, FL_MAX_THREADS, "N", "threads for BLAS and OpenMP (default: all cores)", NULL, NULL, \
     NULL}
#define FL_SETTING_DATA_DIR(offset)                                                                           \
    {"data-dir", FL_SET_STRING, (offset), 0, 0, "DIR",                                                        \
     "datasets (default: $FORGETLAB_DATA, else the source tree's data/)", NULL, NULL, NULL}

/* Strict number parsing: the whole string a number within [lo, hi]; on
 * failure records "--FLAG: ..." and returns -1. */
int fl_parse_long(const char *flag, const char *s, long lo, long hi, long *out);
int fl_parse_double(const char *flag, const char *s, double lo, double hi, double *out);
/* A study's shard "I/N", 1 <= I <= N (1-based, as SLURM's --array=1-N). */
int fl_parse_shard(const char *v, int *index, int *count);

/* Parses v into cfg's field; -1 with "--flag: ..." set when v is bad. */
int fl_setting_apply(const fl_setting *s, void *cfg, const char *v);
/* The table entry for flag, or NULL. */
const fl_setting *fl_setting_find(const fl_setting *t, int n, const char *flag);

/* The first setting of t (not named in except, a NULL-terminated list)
 * whose value in cfg differs from its value in base, or NULL: what a
 * preset applied now would silently undo. */
const fl_setting *fl_settings_first_change(const fl_setting *t, int n, const void *cfg, const void *base,
                                           const char *const *except);

/* The options' lines of --help, with the defaults taken from defaults (a
 * config struct as the command starts from). */
void fl_settings_help(FILE *f, const fl_setting *t, int n, const void *defaults);
/* Adds every recorded setting of cfg to obj (a cJSON object), in table
 * order. */
void fl_settings_to_json(struct cJSON *obj, const fl_setting *t, int n, const void *cfg);
/* Sets cfg's recorded settings from obj (config.json): every key of the
 * table must be there with a valid value; -1 naming the first that is not. */
int fl_settings_from_json(const struct cJSON *obj, const fl_setting *t, int n, void *cfg);

#endif
