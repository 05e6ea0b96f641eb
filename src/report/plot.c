/* plot.c: x-y figures (scatter, lines, fitted curves) with axes, a legend
 * placed where it hides the least data, and an optional note, drawn once
 * per surface by fl_render_both into PNG and SVG. */
#include "forgetlab/report/plot.h"

#include "figure.h"
#include "forgetlab/core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Okabe & Ito's palette, reordered so the first colours are the most
 * distinct on white, with brown, olive, purple, dark red and navy added so
 * eleven series (a language-model study's methods) get eleven hues before
 * black (fits), grey (baselines) and yellow (hard to see on white). */
#define NPALETTE 14
static const double PALETTE[NPALETTE][3] = {
    {0.000, 0.447, 0.698}, /* blue */
    {0.835, 0.369, 0.000}, /* vermillion */
    {0.000, 0.620, 0.451}, /* bluish green */
    {0.902, 0.624, 0.000}, /* orange */
    {0.800, 0.475, 0.655}, /* reddish purple */
    {0.337, 0.706, 0.914}, /* sky blue */
    {0.549, 0.337, 0.294}, /* brown */
    {0.502, 0.502, 0.000}, /* olive */
    {0.416, 0.239, 0.604}, /* purple */
    {0.600, 0.000, 0.100}, /* dark red */
    {0.000, 0.180, 0.420}, /* navy */
    {0.000, 0.000, 0.000}, /* black */
    {0.500, 0.500, 0.500}, /* grey */
    {0.941, 0.894, 0.259}, /* yellow */
};

#define PAD 10.0      /* figure edge to text */
#define POINT_R 3.0
#define POINT_ALPHA 0.7
#define LINE_W 1.75
#define BOX_PAD 6.0   /* inside legend and note boxes */
#define SWATCH_W 22.0
#define MAX_ENTRIES 64
#define MAX_SIDE 8000 /* nominal px; the PNG is twice that */

typedef struct {
    const char *label;
    int color, line, points, band;
} entry;

#define BAND_ALPHA 0.2

typedef struct {
    const fl_plot *p;
    int W, H;
    fl_scale sx, sy;
    int *color; /* resolved palette index per series */
    entry ent[MAX_ENTRIES];
    int nent;
} plot_ctx;

/* Legend position: a corner of the plot area, a row above it, or a column
 * to its right (the last two when every corner would hide data). */
enum { LEG_NONE, LEG_INSIDE, LEG_TOP, LEG_RIGHT };

typedef struct {
    fl_axes ax;
    int leg_mode;
    fl_rect leg, note;
} layout;

static void set_rgb(cairo_t *cr, int color, double shade, double alpha) {
    const double *c = PALETTE[color % NPALETTE];
    cairo_set_source_rgba(cr, c[0] * shade, c[1] * shade, c[2] * shade, alpha);
}

static int has_text(const char *s) { return s && *s; }

static int point_ok(const plot_ctx *c, const fl_series *s, int i) {
    return fl_scale_ok(&c->sx, s->x[i]) && fl_scale_ok(&c->sy, s->y[i]);
}

static int inside(const fl_rect *r, double x, double y) {
    return x >= r->x && x <= r->x + r->w && y >= r->y && y <= r->y + r->h;
}

/* Liang-Barsky: clips the segment to r in place; 0 when nothing is left.
 * Keeps coordinates handed to cairo small when explicit bounds cut off
 * data far outside them (cairo's fixed point overflows near 2^23). */
static int clip_segment(const fl_rect *r, double *x0, double *y0, double *x1, double *y1) {
    double dx = *x1 - *x0, dy = *y1 - *y0, t0 = 0, t1 = 1;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {*x0 - r->x, r->x + r->w - *x0, *y0 - r->y, r->y + r->h - *y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0 && t > t0) t0 = t;
        if (p[i] > 0 && t < t1) t1 = t;
    }
    if (t0 > t1) return 0;
    *x1 = *x0 + t1 * dx;
    *y1 = *y0 + t1 * dy;
    *x0 += t0 * dx;
    *y0 += t0 * dy;
    return 1;
}

/* How much of the data a box at r would hide: points inside it, plus
 * samples every 3 px along lines crossing it. */
static int occupancy(const plot_ctx *c, const fl_axes *ax, fl_rect r) {
    r.x -= POINT_R;
    r.y -= POINT_R;
    r.w += 2 * POINT_R;
    r.h += 2 * POINT_R;
    int n = 0;
    for (int k = 0; k < c->p->nseries; k++) {
        const fl_series *s = &c->p->series[k];
        int prev = 0;
        double px = 0, py = 0;
        for (int i = 0; i < s->n; i++) {
            if (!point_ok(c, s, i)) {
                prev = 0;
                continue;
            }
            double x = fl_axes_x(ax, s->x[i]), y = fl_axes_y(ax, s->y[i]);
            if (s->mark != FL_MARK_LINE) n += inside(&r, x, y);
            if (s->mark != FL_MARK_POINTS && prev) {
                double x0 = px, y0 = py, x1 = x, y1 = y;
                if (clip_segment(&r, &x0, &y0, &x1, &y1)) n += 1 + (int)(hypot(x1 - x0, y1 - y0) / 3);
            }
            prev = 1;
            px = x;
            py = y;
        }
    }
    return n;
}

/* Shrinks a font so s fits in width w (long titles, narrow figures). */
static double fit_size(cairo_t *cr, const char *s, double size, double w) {
    double tw = fl_text_width(cr, s, size);
    return tw > w && tw > 0 ? size * w / tw : size;
}

/* Places the plot area and its ticks given extra room reserved above it
 * and to its right (for a legend outside it). */
static void layout_axes(cairo_t *cr, const plot_ctx *c, double top_extra, double right_extra, layout *L) {
    const fl_plot *p = c->p;
    fl_axes *ax = &L->ax;
    double lh_tick = fl_line_height(cr, FL_FS_TICK), lh_label = fl_line_height(cr, FL_FS_LABEL);
    double top = PAD + (has_text(p->title) ? fl_line_height(cr, FL_FS_TITLE) + 8 : lh_tick / 2) + top_extra;
    double bottom = PAD + (has_text(p->xlabel) ? lh_label + 4 : 0) + lh_tick + FL_TICK_LEN + 4;
    double h = c->H - top - bottom;
    ax->sx = c->sx;
    ax->sy = c->sy;
    ax->nyt = fl_axis_ticks(&ax->sy, (int)(h / 40), ax->yt);
    double yw = 0;
    for (int i = 0; i < ax->nyt; i++)
        if (ax->yt[i].major) yw = fmax(yw, fl_tick_width(cr, &ax->yt[i], FL_FS_TICK));
    double left = PAD + (has_text(p->ylabel) ? lh_label + 6 : 0) + yw + FL_TICK_LEN + 4;
    double right = PAD + right_extra;
    /* The last x label is centred on its tick and may stick out past the
     * plot area: measure, then widen the margin if it would be clipped. */
    for (int pass = 0; pass < 2; pass++) {
        ax->area = (fl_rect){left, top, c->W - left - right, h};
        fl_axes_xticks(cr, ax);
        double over = 0;
        for (int i = 0; i < ax->nxt; i++)
            if (ax->xt[i].major)
                over = fl_axes_x(ax, ax->xt[i].v) + fl_tick_width(cr, &ax->xt[i], FL_FS_TICK) / 2 - (c->W - 3);
        if (over <= 0) break;
        right += over;
    }
}

static double entry_height(cairo_t *cr) { return fl_line_height(cr, FL_FS_LEGEND) + 3; }

/* Calls line(cr, text, i, arg) for each '\n'-separated line of s. */
static void each_line(cairo_t *cr, const char *s, void (*line)(cairo_t *, const char *, int, void *), void *arg) {
    for (int i = 0; *s; i++) {
        size_t n = strcspn(s, "\n");
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < 255 ? n : 255), s);
        line(cr, buf, i, arg);
        s += n;
        if (*s) s++;
    }
}

static void widest_line(cairo_t *cr, const char *text, int i, void *arg) {
    double *wh = arg;
    wh[0] = fmax(wh[0], fl_text_width(cr, text, FL_FS_LEGEND));
    wh[1] = i + 1;
}

/* Size of a boxed text (a legend, a note): entries of width w, n lines. */
static fl_rect box_size(cairo_t *cr, double w, int n) {
    return (fl_rect){0, 0, 2 * BOX_PAD + w, 2 * BOX_PAD + n * entry_height(cr) - 3};
}

/* The corner of the area (upper right, upper left, lower right, lower
 * left: the order breaks ties) where box r hides the least data, skipping
 * corner `skip`. Moves r there and returns the corner; *score gets its
 * occupancy. */
static int best_corner(const plot_ctx *c, const fl_axes *ax, fl_rect *r, int skip, int *score) {
    const fl_rect *a = &ax->area;
    int best = -1;
    fl_rect best_r = *r;
    for (int k = 0; k < 4; k++) {
        if (k == skip) continue;
        fl_rect t = *r;
        t.x = (k == 0 || k == 2) ? a->x + a->w - t.w - 6 : a->x + 6;
        t.y = k < 2 ? a->y + 6 : a->y + a->h - t.h - 6;
        int s = occupancy(c, ax, t);
        if (best < 0 || s < *score) {
            best = k;
            *score = s;
            best_r = t;
        }
    }
    *r = best_r;
    return best;
}

static void layout_plot(cairo_t *cr, const plot_ctx *c, layout *L) {
    layout_axes(cr, c, 0, 0, L);
    L->leg_mode = LEG_NONE;
    int corner = -1, score = 0;
    if (c->nent > 0) {
        double tw = 0, row = 0, eh = entry_height(cr);
        for (int i = 0; i < c->nent; i++) {
            double w = fl_text_width(cr, c->ent[i].label, FL_FS_LEGEND);
            tw = fmax(tw, w);
            row += SWATCH_W + 6 + w + 16;
        }
        L->leg = box_size(cr, SWATCH_W + 6 + tw, c->nent);
        corner = best_corner(c, &L->ax, &L->leg, -1, &score);
        L->leg_mode = LEG_INSIDE;
        if (score > 0) {
            /* Every corner hides data: a single row above the plot if it
             * fits, else a column to its right. */
            corner = -1;
            row -= 16;
            if (row <= L->ax.area.w) {
                L->leg_mode = LEG_TOP;
                layout_axes(cr, c, eh + 4, 0, L);
                const fl_rect *a = &L->ax.area;
                L->leg = (fl_rect){a->x + (a->w - row) / 2, a->y - eh - 6, row, eh};
            } else {
                L->leg_mode = LEG_RIGHT;
                layout_axes(cr, c, 0, L->leg.w + 8, L);
                L->leg.x = L->ax.area.x + L->ax.area.w + 12;
                L->leg.y = L->ax.area.y;
            }
        }
    }
    if (has_text(c->p->note)) {
        double wh[2] = {0, 0};
        each_line(cr, c->p->note, widest_line, wh);
        L->note = box_size(cr, wh[0], (int)wh[1]);
        best_corner(c, &L->ax, &L->note, corner, &score);
    }
}

static void draw_swatch(cairo_t *cr, const entry *e, double x, double y) {
    cairo_new_path(cr);
    if (e->band) {
        cairo_rectangle(cr, x, y - 5, SWATCH_W, 10);
        set_rgb(cr, e->color, 1, BAND_ALPHA);
        cairo_fill(cr);
    }
    if (e->line) {
        set_rgb(cr, e->color, 1, 1);
        cairo_set_line_width(cr, LINE_W);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + SWATCH_W, y);
        cairo_stroke(cr);
    }
    if (e->points) {
        cairo_arc(cr, x + SWATCH_W / 2, y, POINT_R + 0.5, 0, 2 * FL_PI);
        set_rgb(cr, e->color, 1, e->line ? 1 : POINT_ALPHA);
        cairo_fill_preserve(cr);
        set_rgb(cr, e->color, 0.6, 1);
        cairo_set_line_width(cr, 0.6);
        cairo_stroke(cr);
    }
}

static void draw_box(cairo_t *cr, const fl_rect *r) {
    cairo_rectangle(cr, r->x, r->y, r->w, r->h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
}

static void draw_legend(cairo_t *cr, const plot_ctx *c, const layout *L) {
    double eh = entry_height(cr), x = L->leg.x, y = L->leg.y;
    if (L->leg_mode != LEG_TOP) {
        draw_box(cr, &L->leg);
        x += BOX_PAD;
        y += BOX_PAD;
    }
    for (int i = 0; i < c->nent; i++) {
        const entry *e = &c->ent[i];
        draw_swatch(cr, e, x, y + (eh - 3) / 2);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fl_draw_text(cr, e->label, x + SWATCH_W + 6, y + (eh - 3) / 2, FL_FS_LEGEND, 0, 0.5);
        if (L->leg_mode == LEG_TOP)
            x += SWATCH_W + 6 + fl_text_width(cr, e->label, FL_FS_LEGEND) + 16;
        else
            y += eh;
    }
}

static void note_line(cairo_t *cr, const char *text, int i, void *arg) {
    const fl_rect *r = arg;
    fl_draw_text(cr, text, r->x + BOX_PAD, r->y + BOX_PAD + i * entry_height(cr), FL_FS_LEGEND, 0, 0);
}

static void draw_note(cairo_t *cr, const char *note, const fl_rect *r) {
    draw_box(cr, r);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    fl_rect box = *r;
    each_line(cr, note, note_line, &box);
}

static void draw_points(cairo_t *cr, const plot_ctx *c, const fl_axes *ax, int k, double alpha) {
    const fl_series *s = &c->p->series[k];
    const fl_rect *a = &ax->area;
    cairo_set_line_width(cr, 0.6);
    for (int i = 0; i < s->n; i++) {
        if (!point_ok(c, s, i)) continue;
        double x = fl_axes_x(ax, s->x[i]), y = fl_axes_y(ax, s->y[i]);
        if (x < a->x - 10 || x > a->x + a->w + 10 || y < a->y - 10 || y > a->y + a->h + 10) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, POINT_R, 0, 2 * FL_PI);
        set_rgb(cr, c->color[k], 1, alpha);
        cairo_fill_preserve(cr);
        set_rgb(cr, c->color[k], 0.6, 0.9);
        cairo_stroke(cr);
    }
}

/* The area between a band's edges, one closed shape per run of points that
 * can be drawn (both edges finite). */
static void draw_band(cairo_t *cr, const plot_ctx *c, const fl_axes *ax, int k) {
    const fl_series *s = &c->p->series[k];
    if (!s->y_hi) return;
    for (int i = 0; i < s->n;) {
        int j = i;
        while (j < s->n && point_ok(c, s, j) && fl_scale_ok(&c->sy, s->y_hi[j])) j++;
        if (j - i >= 2) {
            cairo_new_path(cr);
            for (int t = i; t < j; t++) cairo_line_to(cr, fl_axes_x(ax, s->x[t]), fl_axes_y(ax, s->y[t]));
            for (int t = j - 1; t >= i; t--) cairo_line_to(cr, fl_axes_x(ax, s->x[t]), fl_axes_y(ax, s->y_hi[t]));
            cairo_close_path(cr);
            set_rgb(cr, c->color[k], 1, BAND_ALPHA);
            cairo_fill(cr);
        }
        i = j > i ? j : i + 1;
    }
}

/* A polyline, broken at points that cannot be drawn (NaN, <= 0 on a log
 * axis) and clipped to just outside the plot area. */
static void draw_line(cairo_t *cr, const plot_ctx *c, const fl_axes *ax, int k) {
    const fl_series *s = &c->p->series[k];
    const fl_rect *a = &ax->area;
    fl_rect big = {a->x - 5, a->y - 5, a->w + 10, a->h + 10};
    int prev = 0, pen = 0;
    double px = 0, py = 0, ex = 0, ey = 0;
    for (int i = 0; i < s->n; i++) {
        if (!point_ok(c, s, i)) {
            prev = pen = 0;
            continue;
        }
        double x = fl_axes_x(ax, s->x[i]), y = fl_axes_y(ax, s->y[i]);
        double x0 = px, y0 = py, x1 = x, y1 = y;
        if (prev && clip_segment(&big, &x0, &y0, &x1, &y1)) {
            if (!pen || x0 != ex || y0 != ey) cairo_move_to(cr, x0, y0);
            cairo_line_to(cr, x1, y1);
            pen = 1;
            ex = x1;
            ey = y1;
        }
        prev = 1;
        px = x;
        py = y;
    }
    set_rgb(cr, c->color[k], 1, 1);
    cairo_set_line_width(cr, LINE_W);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
}

static void draw_labels(cairo_t *cr, const plot_ctx *c, const fl_rect *a) {
    const fl_plot *p = c->p;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (has_text(p->xlabel)) {
        double fs = fit_size(cr, p->xlabel, FL_FS_LABEL, c->W - 2 * PAD);
        fl_draw_text(cr, p->xlabel, a->x + a->w / 2, c->H - PAD, fs, 0.5, 1);
    }
    if (has_text(p->ylabel)) {
        double fs = fit_size(cr, p->ylabel, FL_FS_LABEL, c->H - 2 * PAD);
        cairo_save(cr);
        cairo_translate(cr, PAD, a->y + a->h / 2);
        cairo_rotate(cr, -FL_PI / 2);
        fl_draw_text(cr, p->ylabel, 0, 0, fs, 0.5, 0);
        cairo_restore(cr);
    }
    if (has_text(p->title)) {
        double fs = fit_size(cr, p->title, FL_FS_TITLE, c->W - 2 * PAD);
        double w = fl_text_width(cr, p->title, fs), x = a->x + a->w / 2;
        /* Centred over the plot area unless that pushes it off the figure. */
        x = fmin(fmax(x, PAD + w / 2), c->W - PAD - w / 2);
        fl_draw_text(cr, p->title, x, PAD, fs, 0.5, 0);
    }
}

static int draw_plot(cairo_t *cr, const void *ctx) {
    const plot_ctx *c = ctx;
    const fl_plot *p = c->p;
    layout L;
    layout_plot(cr, c, &L);
    const fl_rect *a = &L.ax.area;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    fl_axes_grid(cr, &L.ax);
    cairo_save(cr);
    cairo_rectangle(cr, a->x, a->y, a->w, a->h);
    cairo_clip(cr);
    /* Scatter first, lines over it (a fit stays visible through its
     * points), markers of line-with-points series on top. */
    for (int k = 0; k < p->nseries; k++)
        if (p->series[k].mark == FL_MARK_BAND) draw_band(cr, c, &L.ax, k);
    for (int k = 0; k < p->nseries; k++)
        if (p->series[k].mark == FL_MARK_POINTS) draw_points(cr, c, &L.ax, k, POINT_ALPHA);
    for (int k = 0; k < p->nseries; k++)
        if (p->series[k].mark == FL_MARK_LINE || p->series[k].mark == FL_MARK_LINE_POINTS) draw_line(cr, c, &L.ax, k);
    for (int k = 0; k < p->nseries; k++)
        if (p->series[k].mark == FL_MARK_LINE_POINTS) draw_points(cr, c, &L.ax, k, 1);
    cairo_restore(cr);
    fl_axes_draw(cr, &L.ax);
    draw_labels(cr, c, a);
    if (L.leg_mode != LEG_NONE) draw_legend(cr, c, &L);
    if (has_text(p->note)) draw_note(cr, p->note, &L.note);
    return 0;
}

static void add_marks(entry *e, fl_mark mark) {
    e->band |= mark == FL_MARK_BAND;
    e->line |= mark == FL_MARK_LINE || mark == FL_MARK_LINE_POINTS;
    e->points |= mark == FL_MARK_POINTS || mark == FL_MARK_LINE_POINTS;
}

/* Series colours, and legend entries: one per distinct label, showing the
 * marks of every series with that label, plus those of unlabelled series
 * of the same colour (a fit drawn over its scatter). */
static void resolve_series(plot_ctx *c) {
    const fl_plot *p = c->p;
    int prev = -1;
    for (int k = 0; k < p->nseries; k++) {
        int col = p->series[k].color;
        if (col == FL_COLOR_SAME)
            col = prev < 0 ? 0 : prev;
        else if (col < 0)
            col = prev + 1;
        c->color[k] = prev = col % NPALETTE;
    }
    c->nent = 0;
    for (int k = 0; k < p->nseries; k++) {
        const fl_series *s = &p->series[k];
        if (!has_text(s->label)) continue;
        int i = 0;
        while (i < c->nent && strcmp(c->ent[i].label, s->label) != 0) i++;
        if (i == c->nent) {
            if (c->nent == MAX_ENTRIES) continue;
            c->ent[c->nent++] = (entry){s->label, c->color[k], 0, 0, 0};
        }
        add_marks(&c->ent[i], s->mark);
    }
    for (int k = 0; k < p->nseries; k++) {
        if (has_text(p->series[k].label)) continue;
        for (int i = 0; i < c->nent; i++)
            if (c->ent[i].color == c->color[k]) {
                add_marks(&c->ent[i], p->series[k].mark);
                break;
            }
    }
}

/* The data extent along one axis (NaN, NaN when nothing can be placed). */
static void extent(const fl_plot *p, int axis_y, double *lo, double *hi) {
    *lo = *hi = NAN;
    for (int k = 0; k < p->nseries; k++) {
        const fl_series *s = &p->series[k];
        for (int i = 0; i < s->n; i++) {
            double x = s->x[i], y = s->y[i], v = axis_y ? y : x;
            /* A point counts only if it can be drawn on both axes. */
            if (!isfinite(x) || !isfinite(y) || (p->logx && x <= 0) || (p->logy && y <= 0)) continue;
            if (isnan(*lo) || v < *lo) *lo = v;
            if (isnan(*hi) || v > *hi) *hi = v;
            const double u = s->mark == FL_MARK_BAND && s->y_hi && axis_y ? s->y_hi[i] : NAN;
            if (isfinite(u) && !(p->logy && u <= 0) && u > *hi) *hi = u;
        }
    }
}

int fl_plot_save(const fl_plot *p, const char *path) {
    const char *name = path ? path : "(null)";
    if (!p) return fl_error_set("%s: no plot given", name);
    if (p->nseries < 0 || (p->nseries > 0 && !p->series))
        return fl_error_set("%s: %d series but no series array", name, p->nseries);
    for (int k = 0; k < p->nseries; k++) {
        const fl_series *s = &p->series[k];
        if (s->n < 0 || (s->n > 0 && (!s->x || !s->y)))
            return fl_error_set("%s: series %d (%s) has %d points but no x or y values", name, k,
                                has_text(s->label) ? s->label : "unlabelled", s->n);
        if (s->mark == FL_MARK_BAND && s->n > 0 && !s->y_hi)
            return fl_error_set("%s: band %d (%s) has no upper edge (y_hi)", name, k,
                                has_text(s->label) ? s->label : "unlabelled");
    }
    plot_ctx c = {.p = p, .W = p->width > 0 ? p->width : 640, .H = p->height > 0 ? p->height : 480};
    if (p->width < 0 || p->height < 0 || c.W > MAX_SIDE || c.H > MAX_SIDE || c.W < 100 || c.H < 80)
        return fl_error_set("%s: figure size %d x %d out of range (100..%d x 80..%d)", name, c.W, c.H, MAX_SIDE,
                            MAX_SIDE);
    double lo, hi;
    extent(p, 0, &lo, &hi);
    if (fl_scale_resolve(&c.sx, p->logx, lo, hi, p->xmin, p->xmax, "x") != 0) return fl_error_wrap("%s", name);
    c.sx.integer = p->xinteger;
    extent(p, 1, &lo, &hi);
    if (fl_scale_resolve(&c.sy, p->logy, lo, hi, p->ymin, p->ymax, "y") != 0) return fl_error_wrap("%s", name);
    c.color = fl_calloc((size_t)p->nseries + 1, sizeof *c.color, "series colours");
    if (!c.color) return fl_error_wrap("%s", name);
    resolve_series(&c);
    int rc = fl_render_both(path, c.W, c.H, draw_plot, &c);
    free(c.color);
    return rc;
}
