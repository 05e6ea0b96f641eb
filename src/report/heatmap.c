/* heatmap.c: small matrices (e.g. Spearman correlations between
 * predictors) as coloured cells with their values printed in them, on a
 * diverging colour scale with a colour bar, in PNG and SVG. With intervals
 * the cells widen to hold "value" over "[lo, hi]": a claim read off a
 * heatmap then carries its uncertainty where it is read. */
#include "forgetlab/report/plot.h"

#include "figure.h"
#include "forgetlab/core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HM_W 640
#define HM_H 540
#define PAD 10.0
#define CB_W 14.0   /* colour bar width */
#define CB_GAP 16.0 /* grid to colour bar */
#define MAX_VALUES 12
#define MAX_CELLS 1000000
#define MAX_LABEL_W 180.0
#define MAX_CELL 80.0 /* px: a 2 x 2 matrix need not fill a page */
#define CI_FS (FL_FS_TICK * 0.8) /* an interval's text, under its value */
#define CI_MAX_ROWS 40           /* beyond these, intervals are left out */
#define CI_MAX_COLS 20

/* ColorBrewer RdBu (11 classes), blue for low: colour-blind safe, and
 * near-white in the middle so values near the centre (no correlation)
 * recede and strong ones stand out. */
static const double RDBU[11][3] = {
    {0.020, 0.188, 0.380}, {0.129, 0.400, 0.675}, {0.263, 0.576, 0.765}, {0.573, 0.773, 0.871},
    {0.820, 0.898, 0.941}, {0.969, 0.969, 0.969}, {0.992, 0.859, 0.780}, {0.957, 0.647, 0.510},
    {0.839, 0.376, 0.302}, {0.698, 0.094, 0.169}, {0.404, 0.000, 0.122},
};

typedef struct {
    const char *title;
    const double *m, *lo, *hi; /* lo, hi: NULL without intervals */
    int rows, cols;
    const char *const *rl, *const *cl;
    double vmin, vmax;
} heat_ctx;

static void colormap(double t, double rgb[3]) {
    if (!(t > 0)) t = 0; /* also NaN: callers handle NaN cells before this */
    if (t > 1) t = 1;
    double f = t * 10;
    int i = (int)f;
    if (i > 9) i = 9;
    f -= i;
    for (int k = 0; k < 3; k++) rgb[k] = RDBU[i][k] * (1 - f) + RDBU[i + 1][k] * f;
}

static void label_of(const char *const *labels, int i, char *buf, size_t n) {
    if (labels && labels[i])
        snprintf(buf, n, "%s", labels[i]);
    else
        snprintf(buf, n, "%d", i);
}

/* Font size for a row or column label: the tick size, smaller for the
 * rare label longer than MAX_LABEL_W so it cannot crowd out the grid. */
static double label_size(cairo_t *cr, const char *s) {
    double w = fl_text_width(cr, s, FL_FS_TICK);
    return w > MAX_LABEL_W ? FL_FS_TICK * MAX_LABEL_W / w : FL_FS_TICK;
}

/* Every how many rows or columns a label fits, for cells smaller than a
 * line of text. */
static int label_stride(double cell, double lh) { return cell >= lh ? 1 : (int)ceil(lh / cell); }

static void format_value(const heat_ctx *h, double v, char *buf, size_t n) {
    char tmp[32];
    if (fmax(fabs(h->vmin), fabs(h->vmax)) < 100)
        snprintf(tmp, sizeof tmp, "%.2f", v);
    else
        snprintf(tmp, sizeof tmp, "%.3g", v);
    /* "-0.00" would suggest a sign the value does not have. */
    if (strcmp(tmp, "-0.00") == 0) snprintf(tmp, sizeof tmp, "0.00");
    fl_with_minus(buf, n, tmp);
}

/* "[lo, hi]" of cell k, or "" when either end is not finite. */
static void format_interval(const heat_ctx *h, size_t k, char *buf, size_t n) {
    char a[32], b[32];
    buf[0] = 0;
    if (!isfinite(h->lo[k]) || !isfinite(h->hi[k])) return;
    format_value(h, h->lo[k], a, sizeof a);
    format_value(h, h->hi[k], b, sizeof b);
    snprintf(buf, n, "[%s, %s]", a, b);
}

/* A cell with an interval: wide enough for the widest value and interval
 * text, two lines tall. */
static void ci_cell(cairo_t *cr, const heat_ctx *h, double *w, double *ht) {
    char buf[96];
    double tw = 0;
    for (size_t k = 0; k < (size_t)h->rows * h->cols; k++) {
        format_value(h, h->m[k], buf, sizeof buf);
        tw = fmax(tw, fl_text_width(cr, buf, FL_FS_TICK));
        format_interval(h, k, buf, sizeof buf);
        tw = fmax(tw, fl_text_width(cr, buf, CI_FS));
    }
    *w = ceil(tw + 12);
    *ht = ceil(fl_line_height(cr, FL_FS_TICK) + fl_line_height(cr, CI_FS) + 8);
}

/* Where everything goes. The figure is cropped to its content, at most
 * HM_W x HM_H: a paper wants no empty margins around a figure. */
typedef struct {
    double W, H, lh, cw, ch, gx, gy, gw, gh; /* cw x ch: a cell */
    int rotated;
    fl_tick ct[FL_MAX_TICKS];
    int nct;
} heat_layout;

static void layout_heatmap(cairo_t *cr, const heat_ctx *h, heat_layout *L) {
    char buf[256];
    double rw = 0, cw = 0;
    L->lh = fl_line_height(cr, FL_FS_TICK);
    for (int i = 0; i < h->rows; i++) {
        label_of(h->rl, i, buf, sizeof buf);
        rw = fmax(rw, fmin(MAX_LABEL_W, fl_text_width(cr, buf, FL_FS_TICK)));
    }
    for (int j = 0; j < h->cols; j++) {
        label_of(h->cl, j, buf, sizeof buf);
        cw = fmax(cw, fmin(MAX_LABEL_W, fl_text_width(cr, buf, FL_FS_TICK)));
    }
    fl_scale cs = {.lo = h->vmin, .hi = h->vmax};
    L->nct = fl_axis_ticks(&cs, 7, L->ct);
    double tw = 0;
    for (int i = 0; i < L->nct; i++) tw = fmax(tw, fl_tick_width(cr, &L->ct[i], FL_FS_TICK));
    int titled = h->title && *h->title;
    double top = PAD + (titled ? fl_line_height(cr, FL_FS_TITLE) + 12 : L->lh / 2);
    double left = PAD + rw + 6, right = CB_GAP + CB_W + 7 + tw + PAD;
    double bottom = 6 + L->lh + PAD;
    L->rotated = 0;
    /* Column labels run horizontally while they fit under their cells,
     * else at 45 degrees, which may also need room on the left. */
    if (h->lo) ci_cell(cr, h, &L->cw, &L->ch); /* fixed by its text */
    for (int pass = 0; pass < 3; pass++) {
        if (!h->lo) {
            L->cw = fmin(MAX_CELL, fmin((HM_W - left - right) / h->cols, (HM_H - top - bottom) / h->rows));
            L->ch = L->cw = fmax(L->cw, 0.25);
        }
        if (!L->rotated && cw + 6 <= L->cw * label_stride(L->cw, L->lh)) break;
        L->rotated = 1;
        bottom = 6 + (cw + L->lh) * 0.70710678 + PAD;
        left = fmax(left, PAD + (cw + L->lh / 2) * 0.70710678 - L->cw / 2);
    }
    L->gw = L->cw * h->cols;
    L->gh = L->ch * h->rows;
    L->W = ceil(left + L->gw + right);
    L->H = ceil(top + L->gh + bottom);
    L->gx = left;
    L->gy = top;
    if (titled) {
        /* A title wider than the grid widens the figure (up to HM_W), with
         * the grid centred under it. */
        double want = ceil(fl_text_width(cr, h->title, FL_FS_TITLE) + 2 * PAD);
        if (want > L->W) {
            double W = fmax(L->W, fmin(want, HM_W));
            L->gx += (W - L->W) / 2;
            L->W = W;
        }
    }
}

/* The cells, each coloured by its value and, where they fit, labelled. */
static void draw_cells(cairo_t *cr, const heat_ctx *h, const heat_layout *L) {
    const double cell = L->cw, ch = L->ch;
    char buf[256];
    /* Value labels: as large as the cells allow, up to the tick size. */
    double fs = h->lo ? FL_FS_TICK : fmin(FL_FS_TICK, cell * 0.32);
    /* With an interval the value sits half its line above the centre. */
    const double up = h->lo ? fl_line_height(cr, CI_FS) / 2 : 0;
    int show = h->lo || (h->rows <= MAX_VALUES && h->cols <= MAX_VALUES);
    if (show && !h->lo) {
        char wide[32];
        format_value(h, -fmax(fabs(h->vmin), fabs(h->vmax)), wide, sizeof wide);
        double w = fl_text_width(cr, wide, fs);
        if (w > cell - 4) fs *= (cell - 4) / w;
        show = fs >= 5;
    }
    for (int i = 0; i < h->rows; i++)
        for (int j = 0; j < h->cols; j++) {
            const size_t k = (size_t)i * h->cols + j;
            double v = h->m[k], rgb[3] = {0.85, 0.85, 0.85};
            if (!isnan(v)) colormap((v - h->vmin) / (h->vmax - h->vmin), rgb);
            /* A hairline of white between cells keeps them apart. */
            double x = L->gx + j * cell, y = L->gy + i * ch, gap = fmin(cell, ch) > 8 ? 0.5 : 0;
            cairo_rectangle(cr, x + gap, y + gap, cell - 2 * gap, ch - 2 * gap);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_fill(cr);
            if (!show || isnan(v)) continue;
            double lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
            if (lum < 0.5)
                cairo_set_source_rgb(cr, 1, 1, 1);
            else
                cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            format_value(h, v, buf, sizeof buf);
            fl_draw_text(cr, buf, x + cell / 2, y + ch / 2 - up, fs, 0.5, 0.5);
            if (!h->lo) continue;
            format_interval(h, k, buf, sizeof buf);
            fl_draw_text(cr, buf, x + cell / 2, y + ch / 2 + up + fl_line_height(cr, FL_FS_TICK) / 2 - 1, CI_FS, 0.5,
                         0.5);
        }
}

/* Row and column labels (every stride-th where they would crowd; the
 * columns' turned 45 degrees when wide) and the title. */
static void draw_labels(cairo_t *cr, const heat_ctx *h, const heat_layout *L) {
    const double cell = L->cw, gx = L->gx, gy = L->gy;
    char buf[256];
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int i = 0, stride = label_stride(L->ch, L->lh); i < h->rows; i += stride) {
        label_of(h->rl, i, buf, sizeof buf);
        fl_draw_text(cr, buf, gx - 6, gy + (i + 0.5) * L->ch, label_size(cr, buf), 1, 0.5);
    }
    for (int j = 0, stride = label_stride(cell, L->lh); j < h->cols; j += stride) {
        label_of(h->cl, j, buf, sizeof buf);
        double x = gx + (j + 0.5) * cell;
        if (!L->rotated) {
            fl_draw_text(cr, buf, x, gy + L->gh + 6, label_size(cr, buf), 0.5, 0);
            continue;
        }
        cairo_save(cr);
        cairo_translate(cr, x, gy + L->gh + 6);
        cairo_rotate(cr, -FL_PI / 4);
        fl_draw_text(cr, buf, 0, 0, label_size(cr, buf), 1, 0.5);
        cairo_restore(cr);
    }
    if (h->title && *h->title) {
        double fs_t = FL_FS_TITLE, w = fl_text_width(cr, h->title, fs_t);
        if (w > L->W - 2 * PAD) fs_t *= (L->W - 2 * PAD) / w;
        w = fl_text_width(cr, h->title, fs_t);
        double x = fmin(fmax(gx + L->gw / 2, PAD + w / 2), L->W - PAD - w / 2);
        fl_draw_text(cr, h->title, x, PAD, fs_t, 0.5, 0);
    }
}

/* The colour bar: the same scale as a vertical gradient, vmin at the bottom. */
static void draw_colour_bar(cairo_t *cr, const heat_ctx *h, const heat_layout *L) {
    const double gy = L->gy, gh = L->gh, bx = L->gx + L->gw + CB_GAP;
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, gy + gh, 0, gy);
    for (int k = 0; k < 11; k++) cairo_pattern_add_color_stop_rgb(grad, k / 10.0, RDBU[k][0], RDBU[k][1], RDBU[k][2]);
    cairo_rectangle(cr, bx, gy, CB_W, gh);
    cairo_set_source(cr, grad);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(grad);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    fl_scale cs = {.lo = h->vmin, .hi = h->vmax};
    for (int i = 0; i < L->nct; i++) {
        double y = gy + gh - fl_scale_frac(&cs, L->ct[i].v) * gh;
        cairo_move_to(cr, bx + CB_W, y);
        cairo_line_to(cr, bx + CB_W + 4, y);
        cairo_stroke(cr);
        fl_draw_tick(cr, &L->ct[i], bx + CB_W + 7, y, FL_FS_TICK, 0, 0.5);
    }
}

static int draw_heatmap(cairo_t *cr, const void *ctx) {
    const heat_ctx *h = ctx;
    heat_layout L;
    layout_heatmap(cr, h, &L);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    draw_cells(cr, h, &L);
    draw_labels(cr, h, &L);
    draw_colour_bar(cr, h, &L);
    return 0;
}

int fl_heatmap_ci_save(const char *title, const double *m, const double *lo, const double *hi, int rows, int cols,
                       const char *const *row_labels, const char *const *col_labels, double vmin, double vmax,
                       const char *path) {
    const char *name = path ? path : "(null)";
    if (!m || rows < 1 || cols < 1 || (long long)rows * cols > MAX_CELLS)
        return fl_error_set("%s: heatmap needs a matrix of 1..%d cells, got %d x %d%s", name, MAX_CELLS, rows, cols,
                            m ? "" : " (no values)");
    if (!isnan(vmin) && !isnan(vmax) && vmin > vmax)
        return fl_error_set("%s: heatmap vmin %g is above vmax %g", name, vmin, vmax);
    if ((!isnan(vmin) && !isfinite(vmin)) || (!isnan(vmax) && !isfinite(vmax)))
        return fl_error_set("%s: heatmap bounds must be finite", name);
    double dlo = INFINITY, dhi = -INFINITY;
    for (long long i = 0; i < (long long)rows * cols; i++)
        if (isfinite(m[i])) {
            dlo = fmin(dlo, m[i]);
            dhi = fmax(dhi, m[i]);
        }
    if (dlo > dhi) dlo = dhi = 0; /* no finite value at all */
    if (isnan(vmin) && isnan(vmax) && dlo < 0 && dhi > 0) {
        /* Both signs: centre white on zero, so colour reads as sign. */
        dhi = fmax(-dlo, dhi);
        dlo = -dhi;
    }
    if (isnan(vmin)) vmin = isnan(vmax) ? dlo : fmin(dlo, vmax);
    if (isnan(vmax)) vmax = fmax(dhi, vmin);
    if (vmin == vmax) {
        double d = vmin != 0 ? fabs(vmin) * 0.1 : 1;
        vmin -= d;
        vmax += d;
    }
    if (!lo != !hi) return fl_error_set("%s: heatmap intervals need both ends", name);
    if (lo && (rows > CI_MAX_ROWS || cols > CI_MAX_COLS)) lo = hi = NULL; /* too many to read */
    heat_ctx h = {title, m, lo, hi, rows, cols, row_labels, col_labels, vmin, vmax};
    /* The size follows from the text, so measure before drawing. */
    cairo_t *cr = fl_measure_context();
    heat_layout L;
    layout_heatmap(cr, &h, &L);
    cairo_destroy(cr);
    return fl_render_both(path, (int)L.W, (int)L.H, draw_heatmap, &h);
}

int fl_heatmap_save(const char *title, const double *m, int rows, int cols, const char *const *row_labels,
                    const char *const *col_labels, double vmin, double vmax, const char *path) {
    return fl_heatmap_ci_save(title, m, NULL, NULL, rows, cols, row_labels, col_labels, vmin, vmax, path);
}
