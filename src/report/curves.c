/* curves.c: training curves from a run's metrics.jsonl, what the grok and
 * language-model figures share: the file read into named numeric columns
 * (NaN where a line lacks one: evaluations come every few lines) and a
 * figure of some columns against one of them. */
#include "curves.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void fl_curves_free(fl_curves *t) {
    for (int k = 0; k < t->ncols; k++) free(t->col[k]);
    free(t->col);
    memset(t, 0, sizeof *t);
}

int fl_curves_read(const char *dir, const char *const *names, int ncols, fl_curves *t) {
    memset(t, 0, sizeof *t);
    char *path = fl_path_join(dir, "metrics.jsonl"), *text = NULL;
    size_t len;
    if (!path || fl_read_file(path, &text, &len)) {
        free(path);
        return -1;
    }
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    t->col = calloc((size_t)ncols, sizeof *t->col);
    t->ncols = t->col ? ncols : 0;
    for (int k = 0; k < t->ncols; k++)
        if (!(t->col[k] = malloc(sizeof(double) * (lines + 1)))) break;
    if (!t->col || !t->col[ncols - 1]) {
        free(path), free(text), fl_curves_free(t);
        return fl_error_set("out of memory");
    }
    for (char *line = text, *end; line < text + len && (end = memchr(line, '\n', text + len - line));
         line = end + 1) {
        cJSON *j = cJSON_ParseWithLength(line, (size_t)(end - line));
        if (!j) continue;
        for (int k = 0; k < ncols; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, names[k]);
            t->col[k][t->n] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        }
        cJSON_Delete(j);
        t->n++;
    }
    free(path), free(text);
    if (t->n == 0) {
        fl_curves_free(t);
        return fl_error_set("%s/metrics.jsonl: no metrics to plot", dir);
    }
    return 0;
}

int fl_figure_save_in(const fl_plot *pl, const char *dir, const char *name) {
    char *path = fl_path_join(dir, name);
    int rc = path ? fl_plot_save(pl, path) : fl_error_set("out of memory");
    free(path);
    return rc;
}

int fl_curves_plot(const char *dir, const fl_curves *t, const fl_curves_fig *f) {
    fl_series *s = malloc(sizeof *s * (size_t)f->ncols);
    double *xy = malloc(sizeof(double) * 2 * (size_t)t->n * f->ncols);
    int ns = 0, rc;
    if (!s || !xy) {
        free(s), free(xy);
        return fl_error_set("out of memory");
    }
    /* Each series keeps only its finite rows, so the gaps between
     * evaluations do not break its line. */
    for (int i = 0; i < f->ncols; i++) {
        double *x = xy + (size_t)2 * i * t->n, *y = x + t->n;
        int n = 0;
        for (int r = 0; r < t->n; r++)
            if (isfinite(t->col[f->cols[i]][r])) x[n] = t->col[f->xcol][r], y[n++] = t->col[f->cols[i]][r];
        if (n) s[ns++] = (fl_series){f->labels[i], x, y, n, n > 30 ? FL_MARK_LINE : FL_MARK_LINE_POINTS, i, NULL};
    }
    fl_plot pl = {.title = f->title, .xlabel = f->xlabel, .ylabel = f->ylabel, .logx = f->logx, .logy = f->logy,
                  .xmin = NAN, .xmax = NAN, .ymin = f->ymin, .ymax = f->ymax, .series = s, .nseries = ns,
                  .note = f->note};
    rc = ns ? fl_figure_save_in(&pl, dir, f->name) : 0;
    free(s), free(xy);
    return rc;
}
