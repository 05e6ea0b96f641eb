/* settings.c: a command's settings from one table: parsing option values
 * (strictly: the whole string, within range), the --help lines, and the
 * settings' record in config.json, written and read back. */
#include "forgetlab/io/settings.h"

#include "forgetlab/core/error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int fl_parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno) return fl_error_set("--%s: expected an integer, got '%s'", flag, s);
    if (v < lo || v > hi) return fl_error_set("--%s: %ld is out of range [%ld, %ld]", flag, v, lo, hi);
    *out = v;
    return 0;
}

int fl_parse_double(const char *flag, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v))
        return fl_error_set("--%s: expected a finite number, got '%s'", flag, s);
    if (v < lo || v > hi) return fl_error_set("--%s: %g is out of range [%g, %g]", flag, v, lo, hi);
    *out = v;
    return 0;
}

int fl_parse_shard(const char *v, int *index, int *count) {
    char *end;
    long i = strtol(v, &end, 10), n = 0;
    int ok = end != v && *end == '/';
    if (ok) {
        const char *ns = end + 1;
        n = strtol(ns, &end, 10);
        ok = end != ns && *end == '\0' && n >= 1 && n <= 100000 && i >= 1 && i <= n;
    }
    if (!ok) return fl_error_set("expected I/N with 1 <= I <= N (e.g. 2/8), got '%s'", v);
    *index = (int)i, *count = (int)n;
    return 0;
}

/* A double range bound as a long (INT64_MAX does not survive the double). */
static long bound(double v) { return v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : (long)v; }

int fl_setting_apply(const fl_setting *s, void *cfg, const char *v) {
    char *field = (char *)cfg + s->offset;
    long n = 0;
    double x = 0;
    switch (s->type) {
    case FL_SET_INT:
        if (fl_parse_long(s->flag, v, bound(s->min), bound(s->max), &n)) return -1;
        *(int *)field = (int)n;
        return 0;
    case FL_SET_LONG:
        if (fl_parse_long(s->flag, v, bound(s->min), bound(s->max), &n)) return -1;
        *(long *)field = n;
        return 0;
    case FL_SET_U64:
        if (fl_parse_long(s->flag, v, bound(s->min), bound(s->max), &n)) return -1;
        *(uint64_t *)field = (uint64_t)n;
        return 0;
    case FL_SET_DOUBLE:
        if (fl_parse_double(s->flag, v, s->min, s->max, &x)) return -1;
        *(double *)field = x;
        return 0;
    case FL_SET_FLAG: *(int *)field = 1; return 0;
    case FL_SET_STRING:
        if (s->parse && s->parse(v, field)) return fl_error_wrap("--%s", s->flag);
        *(const char **)field = v;
        return 0;
    case FL_SET_CUSTOM: return s->parse(v, field) ? fl_error_wrap("--%s", s->flag) : 0;
    }
    return fl_error_set("--%s: unknown setting type", s->flag);
}

const fl_setting *fl_setting_find(const fl_setting *t, int n, const char *flag) {
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].flag, flag) == 0) return &t[i];
    return NULL;
}

/* The field's value as text ("" for an unset string, a flag that is off). */
static void value_text(const fl_setting *s, const void *cfg, char *buf, size_t n) {
    const char *field = (const char *)cfg + s->offset;
    buf[0] = '\0';
    switch (s->type) {
    case FL_SET_INT: snprintf(buf, n, "%d", *(const int *)field); break;
    case FL_SET_LONG: snprintf(buf, n, "%ld", *(const long *)field); break;
    case FL_SET_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case FL_SET_DOUBLE: snprintf(buf, n, "%g", *(const double *)field); break;
    case FL_SET_STRING:
        if (*(const char *const *)field) snprintf(buf, n, "%s", *(const char *const *)field);
        break;
    case FL_SET_FLAG: break;
    case FL_SET_CUSTOM: s->format(field, buf, n); break;
    }
}

const fl_setting *fl_settings_first_change(const fl_setting *t, int n, const void *cfg, const void *base,
                                           const char *const *except) {
    for (int i = 0; i < n; i++) {
        int skip = 0;
        for (const char *const *e = except; e && *e && !skip; e++) skip = strcmp(*e, t[i].flag) == 0;
        if (skip) continue;
        char a[256], b[256];
        value_text(&t[i], cfg, a, sizeof a);
        value_text(&t[i], base, b, sizeof b);
        /* A flag's text is empty either way: compare the field. */
        if (strcmp(a, b) || (t[i].type == FL_SET_FLAG && *(const int *)((const char *)cfg + t[i].offset) !=
                                                           *(const int *)((const char *)base + t[i].offset)))
            return &t[i];
    }
    return NULL;
}

/* text from column col, wrapped at word boundaries before column 80, each
 * further line indented to col. */
static void wrapped(FILE *f, const char *text, int col) {
    enum { WIDTH = 80 };
    int at = col;
    for (const char *w = text; *w;) {
        while (*w == ' ') w++;
        const int len = (int)strcspn(w, " ");
        if (!len) break;
        if (at > col && at + 1 + len > WIDTH) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', f);
            at++;
        }
        fprintf(f, "%.*s", len, w);
        at += len;
        w += len;
    }
    fputc('\n', f);
}

void fl_settings_help(FILE *f, const fl_setting *t, int n, const void *defaults) {
    enum { COL = 26 };
    for (int i = 0; i < n; i++) {
        char head[96], def[128], text[1024];
        snprintf(head, sizeof head, "  --%s%s%s", t[i].flag, t[i].arg ? " " : "", t[i].arg ? t[i].arg : "");
        value_text(&t[i], defaults, def, sizeof def);
        const int own = strstr(t[i].help, "(default") != NULL || !def[0] || t[i].type == FL_SET_FLAG;
        snprintf(text, sizeof text, "%s%s%s%s", t[i].help, own ? "" : " (default ", own ? "" : def, own ? "" : ")");
        /* The help on the same line when the option leaves room, else below. */
        if (strlen(head) + 1 < COL)
            fprintf(f, "%-*s", COL, head);
        else
            fprintf(f, "%s\n%-*s", head, COL, "");
        wrapped(f, text, COL);
    }
}

void fl_settings_to_json(cJSON *obj, const fl_setting *t, int n, const void *cfg) {
    for (int i = 0; i < n; i++) {
        if (!t[i].key) continue;
        const char *field = (const char *)cfg + t[i].offset;
        char text[256];
        switch (t[i].type) {
        case FL_SET_INT: cJSON_AddNumberToObject(obj, t[i].key, *(const int *)field); break;
        case FL_SET_LONG: cJSON_AddNumberToObject(obj, t[i].key, (double)*(const long *)field); break;
        case FL_SET_U64: cJSON_AddNumberToObject(obj, t[i].key, (double)*(const uint64_t *)field); break;
        case FL_SET_DOUBLE: cJSON_AddNumberToObject(obj, t[i].key, *(const double *)field); break;
        case FL_SET_FLAG: cJSON_AddBoolToObject(obj, t[i].key, *(const int *)field); break;
        case FL_SET_STRING:
        case FL_SET_CUSTOM:
            value_text(&t[i], cfg, text, sizeof text);
            cJSON_AddStringToObject(obj, t[i].key, text);
            break;
        }
    }
}

int fl_settings_from_json(const cJSON *obj, const fl_setting *t, int n, void *cfg) {
    for (int i = 0; i < n; i++) {
        if (!t[i].key) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, t[i].key);
        char *field = (char *)cfg + t[i].offset, num[64];
        int ok;
        switch (t[i].type) {
        case FL_SET_FLAG:
            if ((ok = cJSON_IsBool(v))) *(int *)field = cJSON_IsTrue(v);
            break;
        case FL_SET_STRING:
        case FL_SET_CUSTOM:
            /* A string points into obj: it lives as long as obj does. */
            ok = cJSON_IsString(v) && fl_setting_apply(&t[i], cfg, v->valuestring) == 0;
            break;
        default:
            /* Numbers go through the parser, so the range is checked too. */
            ok = cJSON_IsNumber(v);
            if (ok) {
                snprintf(num, sizeof num, "%.17g", v->valuedouble);
                ok = fl_setting_apply(&t[i], cfg, num) == 0;
            }
            break;
        }
        if (!ok) return fl_error_set("config.json: '%s' is missing or invalid", t[i].key);
    }
    return 0;
}
