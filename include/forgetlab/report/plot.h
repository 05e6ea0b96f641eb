/* plot.h: paper-ready figures (scatter and line plots, heatmaps), each
 * written as PATH.png (at twice the nominal size, so it stays crisp when
 * scaled) and PATH.svg from the same drawing code.
 *
 * Both files are written atomically (temporary file beside the destination,
 * then rename), so a reader never sees half a figure. Functions return 0 on
 * success, or -1 with "<path>: <problem>" in fl_error_msg(). */
#ifndef FORGETLAB_PLOT_H
#define FORGETLAB_PLOT_H

#include <stddef.h>

typedef enum {
    FL_MARK_POINTS,      /* small filled circles, translucent so overlaps show */
    FL_MARK_LINE,        /* a polyline through the points in the given order */
    FL_MARK_LINE_POINTS, /* both */
    FL_MARK_BAND         /* a translucent area from y (lower edge) to y_hi
                            (upper edge), e.g. a baseline's interval */
} fl_mark;

/* Colours come from the Okabe-Ito palette (colour-blind safe) with brown,
 * olive, purple, dark red and navy added: an index >= 0 picks
 * palette[index % 14] (blue, vermillion, green, orange, reddish purple, sky
 * blue, brown, olive, purple, dark red, navy, black, grey, yellow): eleven
 * distinct hues for series, then FL_COLOR_BLACK for fits and FL_COLOR_GREY
 * for baselines. Note that 0 is the first colour, not
 * "automatic": use FL_COLOR_NEXT for that. */
#define FL_COLOR_BLACK 11
#define FL_COLOR_GREY 12
#define FL_COLOR_NEXT (-1) /* one past the previous series' colour (0 first) */
#define FL_COLOR_SAME (-2) /* the previous series' colour: a fit over its scatter */

typedef struct {
    const char *label;   /* legend entry; NULL or "" keeps it out of the legend */
    const double *x, *y; /* n values each; non-finite points are skipped (and
                            break a line), as are values <= 0 on a log axis */
    int n;
    fl_mark mark;
    int color;           /* palette index, FL_COLOR_NEXT or FL_COLOR_SAME */
    const double *y_hi;  /* FL_MARK_BAND: the upper edge (n values) */
} fl_series;

/* An x-y plot. A zero-initialised struct is a valid empty plot: for each
 * axis, a NaN bound is chosen from the data (its range padded 5%), and
 * min == max (e.g. both 0) makes both bounds automatic. Bands are drawn
 * first, then points, then lines, so a fitted curve stays visible over its
 * scatter. */
typedef struct {
    const char *title, *xlabel, *ylabel; /* NULL or "" to leave out */
    int logx, logy;                      /* non-zero: logarithmic axis */
    int xinteger;                        /* non-zero: x ticks on whole numbers only */
    double xmin, xmax, ymin, ymax;
    const fl_series *series;
    int nseries;
    int width, height;                   /* nominal size in px (SVG units),
                                            100..8000 x 80..8000; 0: 640 x 480.
                                            The PNG is twice that. */
    const char *note;                    /* optional text ('\n' breaks lines),
                                            boxed in the emptiest free corner,
                                            e.g. "R² = 0.96" */
} fl_plot;

/* Draws p into PATH.png and PATH.svg (path_without_extension + ".png" /
 * ".svg"). The legend (one entry per distinct label; an unlabelled series
 * adds its marks to the entry of its colour) goes into a corner of the plot
 * area that hides no data; when every corner would, into one row above the
 * plot, or a column to its right if the row does not fit. Text that is not
 * valid UTF-8 is drawn with '?' for the bad bytes. */
int fl_plot_save(const fl_plot *p, const char *path_without_extension);

/* A rows x cols matrix m (row-major) as coloured cells on a diverging
 * blue-white-red scale from vmin (blue) to vmax (red), white half way, with
 * a colour bar. Each cell shows its value when rows and cols are both <= 12.
 * NaN cells are grey. vmin/vmax NaN: taken from the data, symmetric about 0
 * when the data has both signs. Labels may be NULL (then indices are shown);
 * column labels turn 45 degrees when they do not fit under their cells.
 * Cells are square (at most 80 px); the figure is cropped to its content,
 * at most 640 x 540 px nominal (1280 x 1080 PNG). */
int fl_heatmap_save(const char *title, const double *m, int rows, int cols,
                    const char *const *row_labels, const char *const *col_labels,
                    double vmin, double vmax, const char *path_without_extension);

/* As fl_heatmap_save, with each cell's interval [lo, hi] written under its
 * value (a NaN end: the value alone). The cells are as wide as the widest
 * text and two lines tall, the figure as large as they make it; beyond 40
 * rows or 20 columns the intervals are left out. lo and hi come together. */
int fl_heatmap_ci_save(const char *title, const double *m, const double *lo, const double *hi, int rows,
                       int cols, const char *const *row_labels, const char *const *col_labels, double vmin,
                       double vmax, const char *path_without_extension);

/* Horizontal bars, one labelled row per category from top to bottom, each
 * from 0 to value[i], with a whisker over [lo[i], hi[i]] (lo/hi may be NULL;
 * NaN: no whisker) and an optional reference mark ref[i] (a hollow diamond,
 * named ref_label in a one-entry legend; ref may be NULL). xmin/xmax NaN:
 * from the data (bars always include 0); a bar or whisker beyond a fixed
 * bound runs to the plot's edge, without the cap at its cut end. The
 * figure is 640 px wide and as tall as its rows. */
typedef struct {
    const char *title, *xlabel;
    const char *const *labels;
    const double *value, *lo, *hi, *ref;
    const char *ref_label;
    int n;
    double xmin, xmax;
} fl_bars;
int fl_bars_save(const fl_bars *b, const char *path_without_extension);

/* Tick positions for a linear axis over [lo, hi]: the multiples of the
 * "nice" step (1, 2 or 5 x 10^k) that gives the most ticks inside the range
 * without exceeding max_ticks (ties go to the larger step), ascending,
 * written to ticks (room for max_ticks). Returns the count, at least 1 (lo
 * itself when lo == hi); 0 when lo or hi is not finite or max_ticks < 1.
 * lo > hi is treated as [hi, lo]. */
int fl_nice_ticks(double lo, double hi, int max_ticks, double *ticks);

/* The label of tick value v on a linear axis whose ticks are step apart
 * (step <= 0: taken from v's magnitude): as many decimals as the step
 * needs, zero included ("0.25", "0.0", "1000"), or compact scientific
 * notation when the step is below 0.001 or at least 1e5 ("1e-5", "2.5e6",
 * and then "0"). Non-finite values give "nan", "inf", "-inf". */
void fl_format_tick(double v, double step, char *buf, size_t n);

#endif
