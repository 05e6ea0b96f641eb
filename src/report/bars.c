/* bars.c: horizontal bars with interval whiskers, one labelled row per
 * category (e.g. R^2 of each predictor with its bootstrap interval), with
 * optional reference marks (e.g. a paper's values), in PNG and SVG. */
#include "forgetlab/report/plot.h"

#include "figure.h"
#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>

#define BAR_W 640
#define ROW_H 22.0
#define PAD 12.0

typedef struct {
    const fl_bars *b;
    double label_w, top, W, H;
} bars_ctx;

/* The reference mark: a hollow diamond of half-width r centred at (x, y). */
static void diamond(cairo_t *cr, double x, double y, double r) {
    cairo_move_to(cr, x, y - r);
    cairo_line_to(cr, x + r, y);
    cairo_line_to(cr, x, y + r);
    cairo_line_to(cr, x - r, y);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.835, 0.369, 0.0); /* Okabe-Ito vermillion */
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
}

static int draw_bars(cairo_t *cr, const void *vctx) {
    const bars_ctx *c = vctx;
    const fl_bars *b = c->b;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (b->title) fl_draw_text(cr, b->title, c->W / 2, PAD, FL_FS_TITLE, 0.5, 0);
    fl_axes ax = {0};
    ax.area = (fl_rect){PAD + c->label_w + 8, c->top, c->W - (PAD + c->label_w + 8) - 2 * PAD, b->n * ROW_H};
    double dlo = INFINITY, dhi = -INFINITY;
    for (int i = 0; i < b->n; i++) {
        const double vs[4] = {b->value[i], b->lo ? b->lo[i] : NAN, b->hi ? b->hi[i] : NAN, b->ref ? b->ref[i] : NAN};
        for (int k = 0; k < 4; k++)
            if (isfinite(vs[k])) {
                dlo = fmin(dlo, vs[k]);
                dhi = fmax(dhi, vs[k]);
            }
    }
    if (dlo > dhi) dlo = dhi = NAN;
    if (isfinite(dlo)) dlo = fmin(dlo, 0); /* bars grow from zero */
    if (fl_scale_resolve(&ax.sx, 0, dlo, dhi, b->xmin, b->xmax, "x")) return -1;
    ax.sy = (fl_scale){.lo = 0, .hi = b->n};
    fl_axes_xticks(cr, &ax);
    fl_axes_grid(cr, &ax);
    const double x0 = fl_axes_x(&ax, fmax(0, ax.sx.lo));
    int any_ref = 0;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int i = 0; i < b->n; i++)
        fl_draw_text(cr, b->labels[i], ax.area.x - 8, ax.area.y + (i + 0.5) * ROW_H, FL_FS_TICK, 1, 0.5);
    /* Fixed bounds may cut a bar or a whisker: it runs to the edge, and
     * its missing cap says it goes on (a reference mark is drawn whole). */
    cairo_save(cr);
    cairo_rectangle(cr, ax.area.x, ax.area.y, ax.area.w, ax.area.h);
    cairo_clip(cr);
    for (int i = 0; i < b->n; i++) {
        double yc = ax.area.y + (i + 0.5) * ROW_H;
        if (isfinite(b->value[i])) {
            double x1 = fl_axes_x(&ax, b->value[i]);
            cairo_rectangle(cr, fmin(x0, x1), yc - ROW_H * 0.32, fabs(x1 - x0), ROW_H * 0.64);
            cairo_set_source_rgba(cr, 0.0, 0.447, 0.698, 0.85); /* Okabe-Ito blue */
            cairo_fill(cr);
        }
        if (b->lo && b->hi && isfinite(b->lo[i]) && isfinite(b->hi[i])) {
            double a = fl_axes_x(&ax, b->lo[i]), z = fl_axes_x(&ax, b->hi[i]), cap = ROW_H * 0.2;
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_set_line_width(cr, 1.2);
            cairo_move_to(cr, a, yc);
            cairo_line_to(cr, z, yc);
            cairo_move_to(cr, a, yc - cap);
            cairo_line_to(cr, a, yc + cap);
            cairo_move_to(cr, z, yc - cap);
            cairo_line_to(cr, z, yc + cap);
            cairo_stroke(cr);
        }
    }
    cairo_restore(cr);
    /* The reference marks whole, over the bars. */
    for (int i = 0; b->ref && i < b->n; i++)
        if (isfinite(b->ref[i])) {
            diamond(cr, fl_axes_x(&ax, b->ref[i]), ax.area.y + (i + 0.5) * ROW_H, ROW_H * 0.28);
            any_ref = 1;
        }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    fl_axes_draw(cr, &ax);
    if (b->xlabel)
        fl_draw_text(cr, b->xlabel, ax.area.x + ax.area.w / 2, c->H - PAD, FL_FS_LABEL, 0.5, 1);
    if (any_ref && b->ref_label) {
        /* A one-entry legend, top right above the rows. */
        double r = ROW_H * 0.28, w = fl_text_width(cr, b->ref_label, FL_FS_LEGEND);
        double x = ax.area.x + ax.area.w - w - 2 * r - 6, y = c->top - ROW_H * 0.6;
        diamond(cr, x, y, r);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fl_draw_text(cr, b->ref_label, x + r + 6, y, FL_FS_LEGEND, 0, 0.5);
    }
    return 0;
}

int fl_bars_save(const fl_bars *b, const char *path) {
    const char *name = path ? path : "(null)";
    if (!b || b->n < 1 || b->n > 200 || !b->labels || !b->value)
        return fl_error_set("%s: a bar chart needs 1..200 labelled values", name);
    bars_ctx c = {.b = b, .W = BAR_W};
    cairo_t *cr = fl_measure_context();
    for (int i = 0; i < b->n; i++) c.label_w = fmax(c.label_w, fl_text_width(cr, b->labels[i], FL_FS_TICK));
    double lh = fl_line_height(cr, FL_FS_TITLE);
    cairo_destroy(cr);
    c.top = PAD + lh + 10 + ROW_H;
    c.H = c.top + b->n * ROW_H + 60;
    return fl_render_both(path, (int)c.W, (int)ceil(c.H), draw_bars, &c);
}
