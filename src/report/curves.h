/* curves.h: training curves from a run's metrics.jsonl (curves.c), shared
 * by the grok and language-model figures; internal to the library. */
#ifndef FORGETLAB_REPORT_CURVES_H
#define FORGETLAB_REPORT_CURVES_H

#include "forgetlab/report/plot.h"

/* Named numeric columns of DIR/metrics.jsonl, one row per line; NaN where
 * a line lacks the field. */
typedef struct {
    int n, ncols;
    double **col; /* [ncols][n] */
} fl_curves;
/* -1 with the error set when the file is missing or holds no line. */
int fl_curves_read(const char *dir, const char *const *names, int ncols, fl_curves *t);
void fl_curves_free(fl_curves *t);

/* A figure of columns cols[0..ncols) against column xcol, DIR/name.png and
 * .svg; series with no finite row are left out (no file when all are).
 * ymin/ymax NaN: automatic. */
typedef struct {
    const char *name, *title, *xlabel, *ylabel, *note;
    int xcol, logx, logy;
    const int *cols;
    const char *const *labels;
    int ncols;
    double ymin, ymax;
} fl_curves_fig;
int fl_curves_plot(const char *dir, const fl_curves *t, const fl_curves_fig *f);

/* fl_plot_save to DIR/name. */
int fl_figure_save_in(const fl_plot *pl, const char *dir, const char *name);

#endif
