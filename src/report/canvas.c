/* canvas.c: what every figure needs from cairo: one font set up the same
 * way on every surface, text placed by its box rather than its baseline,
 * and one drawing written to both PNG (at 2x) and SVG, atomically. */
#include "figure.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <cairo-svg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the UTF-8 sequence at s, or 0 if it is not one cairo
 * accepts (overlong, surrogate, beyond U+10FFFF, or a non-character). */
static size_t utf8_len(const unsigned char *s) {
    static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n <= 1) return n;
    unsigned long cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
        (cp & 0xfffe) == 0xfffe)
        return 0;
    return n;
}

/* cairo refuses a string that is not UTF-8 by putting the whole drawing
 * into an error state; a label read from a Latin-1 file should cost one
 * '?' per bad byte, not the figure. Returns s, or a repaired copy in buf. */
static const char *valid_text(const char *s, char *buf, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, len;
    while (u[i] && (len = utf8_len(u + i)) > 0) i += len;
    if (!u[i]) return s;
    size_t o = 0;
    for (i = 0; u[i] && o + 5 < n;) {
        len = utf8_len(u + i);
        if (len == 0) {
            buf[o++] = '?';
            i++;
        } else {
            memcpy(buf + o, u + i, len);
            o += len;
            i += len;
        }
    }
    buf[o] = '\0';
    return buf;
}

double fl_text_width(cairo_t *cr, const char *s, double size) {
    char buf[512];
    cairo_text_extents_t te;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, valid_text(s, buf, sizeof buf), &te);
    return te.x_advance;
}

double fl_line_height(cairo_t *cr, double size) {
    cairo_font_extents_t fe;
    cairo_set_font_size(cr, size);
    cairo_font_extents(cr, &fe);
    return fe.ascent + fe.descent;
}

/* The baseline for a line box whose va fraction sits at y. */
static double baseline_at(cairo_t *cr, double y, double size, double va) {
    cairo_font_extents_t fe;
    cairo_set_font_size(cr, size);
    cairo_font_extents(cr, &fe);
    return y - va * (fe.ascent + fe.descent) + fe.ascent;
}

void fl_draw_text(cairo_t *cr, const char *s, double x, double y, double size, double ha, double va) {
    char buf[512];
    s = valid_text(s, buf, sizeof buf);
    double w = fl_text_width(cr, s, size);
    cairo_move_to(cr, x - ha * w, baseline_at(cr, y, size, va));
    cairo_show_text(cr, s);
    /* show_text leaves a current point, which the next arc would join. */
    cairo_new_path(cr);
}

#define SUP_SCALE 0.72
#define SUP_RISE 0.42

double fl_tick_width(cairo_t *cr, const fl_tick *t, double size) {
    double w = fl_text_width(cr, t->text, size);
    if (t->sup[0]) w += fl_text_width(cr, t->sup, size * SUP_SCALE);
    return w;
}

void fl_draw_tick(cairo_t *cr, const fl_tick *t, double x, double y, double size, double ha, double va) {
    double x0 = x - ha * fl_tick_width(cr, t, size);
    double base = baseline_at(cr, y, size, va);
    cairo_set_font_size(cr, size);
    cairo_move_to(cr, x0, base);
    cairo_show_text(cr, t->text);
    if (t->sup[0]) {
        double adv = fl_text_width(cr, t->text, size);
        cairo_set_font_size(cr, size * SUP_SCALE);
        cairo_move_to(cr, x0 + adv, base - SUP_RISE * size);
        cairo_show_text(cr, t->sup);
    }
    cairo_new_path(cr);
}

/* cairo's stream callback, writing into a temporary file. */
static cairo_status_t write_afile(void *closure, const unsigned char *data, unsigned int n) {
    return fl_afile_write(closure, data, n) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* A context with the figure's font set up. Hinting is off so text measures
 * the same on the PNG and the SVG surface and both get the same layout. */
static cairo_t *start(cairo_surface_t *surf, double scale) {
    cairo_t *cr = cairo_create(surf);
    cairo_scale(cr, scale, scale);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    return cr;
}

cairo_t *fl_measure_context(void) {
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = start(surf, 1.0);
    cairo_surface_destroy(surf); /* cr holds the last reference */
    return cr;
}

/* Draws into surf and finishes it, so a stream surface has written all of
 * its output. Returns 0, or -1 with the problem recorded against path. */
static int draw_into(cairo_surface_t *surf, double scale, fl_draw_fn draw, const void *ctx, const char *path) {
    cairo_t *cr = start(surf, scale);
    if (draw(cr, ctx) != 0) {
        cairo_destroy(cr);
        return fl_error_wrap("%s", path);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st != CAIRO_STATUS_SUCCESS) return fl_error_set("%s: cannot draw: %s", path, cairo_status_to_string(st));
    cairo_surface_flush(surf);
    st = cairo_surface_status(surf);
    if (st != CAIRO_STATUS_SUCCESS) return fl_error_set("%s: cannot draw: %s", path, cairo_status_to_string(st));
    return 0;
}

static int render_png(fl_afile *f, const char *path, int w, int h, fl_draw_fn draw, const void *ctx) {
    /* RGB24: the figure is opaque, and the PNG needs no alpha channel. */
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 2 * w, 2 * h);
    int rc = draw_into(surf, 2.0, draw, ctx, path);
    if (rc == 0) {
        cairo_status_t st = cairo_surface_write_to_png_stream(surf, write_afile, f);
        /* fl_afile_write has the precise message for a failed write. */
        if (st != CAIRO_STATUS_SUCCESS && !f->failed)
            rc = fl_error_set("%s: cannot encode PNG: %s", path, cairo_status_to_string(st));
        else if (st != CAIRO_STATUS_SUCCESS)
            rc = -1;
    }
    cairo_surface_destroy(surf);
    return rc;
}

static int render_svg(fl_afile *f, const char *path, int w, int h, fl_draw_fn draw, const void *ctx) {
    cairo_surface_t *surf = cairo_svg_surface_create_for_stream(write_afile, f, w, h);
    /* Sized in px like the PNG's nominal size (cairo's default is pt,
     * which would show the SVG a third larger in a browser). */
    cairo_svg_surface_set_document_unit(surf, CAIRO_SVG_UNIT_PX);
    int rc = draw_into(surf, 1.0, draw, ctx, path);
    cairo_surface_finish(surf);
    cairo_status_t st = cairo_surface_status(surf);
    if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
        rc = f->failed ? -1 : fl_error_set("%s: cannot write SVG: %s", path, cairo_status_to_string(st));
    cairo_surface_destroy(surf);
    return rc;
}

int fl_render_both(const char *base, int w, int h, fl_draw_fn draw, const void *ctx) {
    if (!base || !*base) return fl_error_set("(empty path): a figure needs a file name");
    size_t n = strlen(base);
    char *png = malloc(n + 5), *svg = malloc(n + 5);
    if (!png || !svg) {
        free(png);
        free(svg);
        return fl_error_set("%s: out of memory", base);
    }
    snprintf(png, n + 5, "%s.png", base);
    snprintf(svg, n + 5, "%s.svg", base);
    fl_afile fp, fs;
    int rc = -1;
    if (fl_afile_open(&fp, png) != 0) goto out;
    if (fl_afile_open(&fs, svg) != 0) {
        fl_afile_abort(&fp);
        goto out;
    }
    /* Both files are drawn before either is renamed into place, so a
     * failure leaves the previous pair (or nothing) rather than a PNG that
     * no longer matches its SVG. */
    if (render_png(&fp, png, w, h, draw, ctx) != 0 || render_svg(&fs, svg, w, h, draw, ctx) != 0) {
        fl_afile_abort(&fp);
        fl_afile_abort(&fs);
        goto out;
    }
    if (fl_afile_commit(&fp) != 0) {
        fl_afile_abort(&fs);
        goto out;
    }
    rc = fl_afile_commit(&fs);
out:
    free(png);
    free(svg);
    return rc;
}
