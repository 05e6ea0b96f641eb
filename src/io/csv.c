/* csv.c: the studies' CSV tables read back (csv.h), for `compare`, which
 * takes each study's numbers as the study wrote them. */
#include "forgetlab/io/csv.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One field starting at *p (quoted or not) into a malloc'd string; *p
 * moves past it and *end_of_row is set when a newline (or the end)
 * follows it. */
static char *field(const char **p, const char *end, int *end_of_row) {
    const char *s = *p;
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    int inq = s < end && *s == '"';
    if (inq) s++;
    while (out && s < end) {
        char c = *s++;
        if (inq && c == '"') {
            if (s < end && *s == '"') s++; /* "" inside quotes: one quote */
            else {
                inq = 0; /* the closing quote */
                continue;
            }
        } else if (!inq && (c == ',' || c == '\n' || c == '\r')) {
            s--;
            break;
        }
        if (n + 2 > cap) {
            char *o = realloc(out, cap *= 2);
            if (!o) free(out);
            out = o;
        }
        if (out) out[n++] = c;
    }
    if (!out) return NULL;
    out[n] = '\0';
    if (s < end && *s == '\r') s++;
    *end_of_row = s >= end || *s == '\n';
    if (s < end) s++; /* the comma or the newline */
    *p = s;
    return out;
}

void fl_csv_free(fl_csv *t) {
    for (int i = 0; i < t->ncols; i++) free(t->head[i]);
    for (long i = 0; i < (long)t->nrows * t->ncols; i++) free(t->cell[i]);
    free(t->head), free(t->cell);
    memset(t, 0, sizeof *t);
}

int fl_csv_read(const char *path, fl_csv *t) {
    memset(t, 0, sizeof *t);
    char *text = NULL;
    size_t len = 0;
    if (fl_read_file(path, &text, &len)) return -1;
    const int rc = fl_csv_parse(text, len, path, t);
    free(text);
    return rc;
}

int fl_csv_parse(const char *text, size_t len, const char *name, fl_csv *t) {
    memset(t, 0, sizeof *t);
    const char *path = name;
    const char *p = text, *end = text + len;
    int eor = 0, rc = 0;
    while (!eor && p < end) {
        char *f = field(&p, end, &eor), **h = realloc(t->head, sizeof *h * (size_t)(t->ncols + 1));
        if (!f || !h) {
            free(f);
            rc = fl_error_set("out of memory");
            break;
        }
        t->head = h, t->head[t->ncols++] = f;
    }
    if (rc == 0 && t->ncols == 0) rc = fl_error_set("%s: empty, not a CSV table", path);
    while (rc == 0 && p < end) {
        if (*p == '\n' || *p == '\r') { /* a blank line */
            p++;
            continue;
        }
        char **row = realloc(t->cell, sizeof *row * (size_t)(t->nrows + 1) * t->ncols);
        if (!row) {
            rc = fl_error_set("out of memory");
            break;
        }
        t->cell = row;
        char **r = t->cell + (size_t)t->nrows * t->ncols;
        int k = 0;
        for (eor = 0; !eor && rc == 0;) {
            char *f = field(&p, end, &eor);
            if (!f) rc = fl_error_set("out of memory");
            else if (k >= t->ncols) {
                free(f);
                rc = fl_error_set("%s: row %d has more fields than the header's %d", path, t->nrows + 2, t->ncols);
            } else r[k++] = f;
        }
        for (; k < t->ncols; k++) r[k] = calloc(1, 1);
        t->nrows++;
    }
    if (rc) fl_csv_free(t);
    return rc;
}

int fl_csv_col(const fl_csv *t, const char *name) {
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->head[i], name) == 0) return i;
    return -1;
}

const char *fl_csv_get(const fl_csv *t, int r, int c) {
    return c < 0 || c >= t->ncols || r < 0 || r >= t->nrows ? "" : t->cell[(size_t)r * t->ncols + c];
}

double fl_csv_num(const fl_csv *t, int r, int c) {
    const char *s = fl_csv_get(t, r, c);
    char *e;
    const double v = strtod(s, &e);
    return *s && *e == '\0' ? v : NAN;
}

double fl_csv_num_of(const fl_csv *t, int r, const char *col) { return fl_csv_num(t, r, fl_csv_col(t, col)); }

void fl_csv_put(FILE *f, const char *v, int last) {
    if (v[strcspn(v, ",\"\r\n")]) {
        fputc('"', f);
        for (; *v; v++) {
            if (*v == '"') fputc('"', f);
            fputc(*v, f);
        }
        fputc('"', f);
    } else fputs(v, f);
    fputc(last ? '\n' : ',', f);
}
