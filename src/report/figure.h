/* figure.h: the pieces plot.c and heatmap.c share, internal to the library:
 * axes (axis.c: ranges, tick placement and labels, grid and spines) and the
 * canvas (canvas.c: text placement with the toy font API, and writing one
 * drawing to both PNG and SVG atomically). */
#ifndef FORGETLAB_REPORT_FIGURE_H
#define FORGETLAB_REPORT_FIGURE_H

#include <cairo.h>
#include <stddef.h>

/* M_PI is not in strict C11 or plain POSIX. */
#define FL_PI 3.14159265358979323846

/* Font sizes in nominal px, chosen so a 640 x 480 figure reads like
 * matplotlib's paper defaults once scaled to a column. */
#define FL_FS_TITLE 15.0
#define FL_FS_LABEL 13.5
#define FL_FS_TICK 11.5
#define FL_FS_LEGEND 11.5

#define FL_TICK_LEN 4.0

/* ---- axis.c ---------------------------------------------------------------- */

/* One axis' visible range; for a log axis lo > 0 and positions are taken
 * in log10 space. */
typedef struct {
    double lo, hi;
    int log;
    int integer; /* linear ticks on whole numbers only (counts, task indices) */
} fl_scale;

/* Where v falls in the range: 0 at lo, 1 at hi (outside for values beyond). */
double fl_scale_frac(const fl_scale *s, double v);

/* Whether v can be placed on the axis at all (finite, and > 0 on a log one). */
int fl_scale_ok(const fl_scale *s, double v);

/* The range to show for data extent [dlo, dhi] (NaN when there is no data):
 * padded 5% in scale space, widened when degenerate, then overridden by the
 * caller's bounds (NaN = automatic; min == max: both automatic). Returns -1
 * with a message naming what (e.g. "x") when the bounds cannot be used. */
int fl_scale_resolve(fl_scale *s, int log, double dlo, double dhi, double want_lo, double want_hi,
                     const char *what);

#define FL_MAX_TICKS 96
#define FL_TICK_TEXT 32

typedef struct {
    double v;
    int major;               /* minor ticks are shorter and unlabelled */
    char text[FL_TICK_TEXT]; /* label of a major tick */
    char sup[8];             /* non-empty: the label is text with sup raised
                                as an exponent ("10" and "-3") */
} fl_tick;

/* Ticks for the scale with at most max_major labelled ones (plus minor
 * ticks on log axes), ascending, into out (room for FL_MAX_TICKS).
 * Returns the count. */
int fl_axis_ticks(const fl_scale *s, int max_major, fl_tick *out);

/* Copies src to dst (n bytes), each '-' replaced with the typographic
 * minus (U+2212), which lines up with the digits the way printed figures
 * expect. Truncates rather than overflows. */
void fl_with_minus(char *dst, size_t n, const char *src);

typedef struct {
    double x, y, w, h;
} fl_rect;

/* A plot area with its two scales and their ticks. */
typedef struct {
    fl_rect area;
    fl_scale sx, sy;
    fl_tick xt[FL_MAX_TICKS], yt[FL_MAX_TICKS];
    int nxt, nyt;
} fl_axes;

/* Screen position of a value. Values far outside the range (even ones
 * whose distance from it overflows) stay finite, so clipping can be done
 * in double precision before anything reaches cairo. */
double fl_axes_x(const fl_axes *ax, double v);
double fl_axes_y(const fl_axes *ax, double v);

/* Picks the x ticks for the area's width: as many as fit (at most 10)
 * with their labels at least 10 px apart. */
void fl_axes_xticks(cairo_t *cr, fl_axes *ax);

/* Light grid lines at the labelled ticks, to draw under the data. */
void fl_axes_grid(cairo_t *cr, const fl_axes *ax);

/* Left and bottom spines, outward tick marks and tick labels. */
void fl_axes_draw(cairo_t *cr, const fl_axes *ax);

/* ---- canvas.c -------------------------------------------------------------- */

/* Text in the current font face at size px, anchored at (x, y): ha is the
 * horizontal fraction of the width (0 left, 0.5 centre, 1 right), va the
 * vertical fraction of the line box (0 top, 0.5 middle, 1 bottom). */
double fl_text_width(cairo_t *cr, const char *s, double size);
double fl_line_height(cairo_t *cr, double size);
void fl_draw_text(cairo_t *cr, const char *s, double x, double y, double size, double ha, double va);

/* The same for a tick label, which may carry an exponent. */
double fl_tick_width(cairo_t *cr, const fl_tick *t, double size);
void fl_draw_tick(cairo_t *cr, const fl_tick *t, double x, double y, double size, double ha, double va);

/* A context on a scratch surface with the figures' font set up, for
 * measuring text before a figure's size is decided; cairo_destroy() it. */
cairo_t *fl_measure_context(void);

/* Renders draw(cr, ctx) into base.png (at 2x) and base.svg, each through
 * a temporary file renamed into place only when both drawings succeeded.
 * The surface is w x h nominal px; draw must paint its own background.
 * draw returns 0, or -1 after fl_error_set(). */
typedef int (*fl_draw_fn)(cairo_t *cr, const void *ctx);
int fl_render_both(const char *base, int w, int h, fl_draw_fn draw, const void *ctx);

#endif
