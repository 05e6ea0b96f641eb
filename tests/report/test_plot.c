/* test_plot.c: tick placement and labels, and that every kind of figure
 * (linear and log axes, NaNs and values a log axis cannot show, a single
 * point, no data, heatmaps) comes out as a decodable PNG at twice the
 * nominal size plus a complete SVG, with no temporary file left behind and
 * a clear error for a path that cannot be written; and, read back from the
 * PNG, that lines, points and bars land where their data say. */
#include "testutil.h"

#include "forgetlab/report/plot.h"
#include "report/figure.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>

/* fontconfig (2.14) loses a few hundred bytes while parsing its
 * configuration, once per process, when cairo first looks up a font. That
 * is not ours to fix. The leak checker of the sanitizer build is told to
 * ignore blocks fontconfig itself allocated (the library is built without
 * frame pointers, so the stack it records stops there), and still reports
 * any cairo object the plotting code fails to release. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }


/* ---- ticks --------------------------------------------------------------- */

static void assert_ticks(double lo, double hi, int max, const double *want, int nwant) {
    double t[64];
    int n = fl_nice_ticks(lo, hi, max, t);
    if (n != nwant) fail_msg("[%g, %g] max %d: %d ticks, want %d", lo, hi, max, n, nwant);
    for (int i = 0; i < n; i++)
        if (fabs(t[i] - want[i]) > 1e-12 * fmax(1, fabs(want[i])))
            fail_msg("[%g, %g] max %d: tick %d is %.17g, want %g", lo, hi, max, i, t[i], want[i]);
}

static void test_nice_ticks(void **state) {
    (void)state;
    assert_ticks(0, 1, 6, (double[]){0, 0.2, 0.4, 0.6, 0.8, 1}, 6);
    assert_ticks(0, 10, 5, (double[]){0, 5, 10}, 3);
    assert_ticks(10, 0, 5, (double[]){0, 5, 10}, 3); /* reversed bounds */
    assert_ticks(0, 10, 11, (double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 11);
    /* Zero comes out as exactly 0, not 1e-17. */
    assert_ticks(-0.3, 0.7, 6, (double[]){-0.2, 0, 0.2, 0.4, 0.6}, 5);
    assert_ticks(1e-6, 5e-6, 5, (double[]){1e-6, 2e-6, 3e-6, 4e-6, 5e-6}, 5);
    assert_ticks(0, 1e9, 6, (double[]){0, 2e8, 4e8, 6e8, 8e8, 1e9}, 6);
    assert_ticks(-1, 1, 5, (double[]){-1, -0.5, 0, 0.5, 1}, 5);
    assert_ticks(0.1, 0.9, 2, (double[]){0.5}, 1);
    assert_ticks(3, 3, 5, (double[]){3}, 1);
    assert_ticks(997, 1003, 4, (double[]){998, 1000, 1002}, 3);
    double t[8];
    assert_int_equal(fl_nice_ticks(NAN, 1, 5, t), 0);
    assert_int_equal(fl_nice_ticks(0, INFINITY, 5, t), 0);
    assert_int_equal(fl_nice_ticks(0, 1, 0, t), 0);
}

/* Over many ranges: at least one tick, never more than asked, all inside,
 * evenly spaced by a 1-2-5 step. */
static void test_nice_ticks_sweep(void **state) {
    (void)state;
    unsigned s = 12345;
    for (int it = 0; it < 20000; it++) {
        s = s * 1103515245u + 12345u;
        double lo = ((double)(s >> 8) / (1 << 24) - 0.5) * pow(10, (int)(s % 13) - 6);
        s = s * 1103515245u + 12345u;
        double hi = lo + (double)(s >> 8) / (1 << 24) * pow(10, (int)(s % 15) - 7) + 1e-9;
        int max = 2 + (int)(s % 9);
        double t[16];
        int n = fl_nice_ticks(lo, hi, max, t);
        if (n < 1 || n > max) fail_msg("[%.17g, %.17g] max %d: %d ticks", lo, hi, max, n);
        for (int i = 0; i < n; i++) {
            double tol = 1e-9 * (hi - lo);
            if (t[i] < lo - tol || t[i] > hi + tol) fail_msg("[%g, %g]: tick %g outside", lo, hi, t[i]);
        }
        if (n >= 2) {
            /* Differences of large ticks carry their rounding error. */
            double step = t[1] - t[0], tol = 1e-9 + 1e-15 * fmax(fabs(lo), fabs(hi)) / step;
            double m = step / pow(10, floor(log10(step) + 1e-9));
            if (fabs(m - 1) > tol && fabs(m - 2) > 2 * tol && fabs(m - 5) > 5 * tol && fabs(m - 10) > 10 * tol)
                fail_msg("[%.17g, %.17g]: step %.17g is not 1, 2 or 5 x 10^k", lo, hi, step);
            for (int i = 2; i < n; i++) assert_true(fabs(t[i] - t[i - 1] - step) <= 2 * tol * step);
        }
    }
}

static void assert_label(double v, double step, const char *want) {
    char buf[32];
    fl_format_tick(v, step, buf, sizeof buf);
    if (strcmp(buf, want) != 0) fail_msg("tick %g (step %g): '%s', want '%s'", v, step, buf, want);
}

/* An integer axis (tasks learnt 1..5) has its ticks on whole numbers,
 * labelled as such, where the plain axis would put them every 0.5. */
static void test_integer_ticks(void **state) {
    (void)state;
    fl_tick t[FL_MAX_TICKS];
    fl_scale s = {0.8, 5.2, 0, 0};
    int n = fl_axis_ticks(&s, 10, t), half = 0;
    for (int i = 0; i < n; i++) half |= fabs(t[i].v - 1.5) < 1e-9;
    assert_true(half);
    s.integer = 1;
    n = fl_axis_ticks(&s, 10, t);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d", i + 1);
        assert_true(t[i].v == i + 1 && t[i].major);
        assert_string_equal(t[i].text, want);
    }
    s = (fl_scale){0, 1000, 0, 1}; /* a wide range keeps its nice steps */
    n = fl_axis_ticks(&s, 6, t);
    assert_true(n >= 3 && n <= 6 && t[1].v - t[0].v >= 100);
}

static void test_format_tick(void **state) {
    (void)state;
    assert_label(0.25, 0.05, "0.25");
    assert_label(0.4, 0.2, "0.4");
    assert_label(0, 0.5, "0.0");
    assert_label(1e-17, 0.1, "0.0"); /* rounding noise at zero */
    assert_label(-0.3, 0.1, "-0.3");
    assert_label(3, 1, "3");
    assert_label(1000, 500, "1000");
    assert_label(0.001, 0.001, "0.001");
    assert_label(1e-5, 1e-5, "1e-5");
    assert_label(1.5e-4, 5e-5, "1.5e-4");
    assert_label(0, 1e-5, "0");
    assert_label(2.5e6, 5e5, "2.5e6");
    assert_label(2e6, 5e5, "2e6");
    assert_label(-1e6, 5e5, "-1e6");
    assert_label(0.02, 0, "0.02"); /* no step: from the value */
    assert_label(NAN, 1, "nan");
    assert_label(-INFINITY, 1, "-inf");
    char small[4];
    fl_format_tick(123456.0, 1, small, sizeof small);
    assert_int_equal(strlen(small), 3);
}

/* ---- files ---------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* name.svg is a complete SVG of w x h nominal px and name.png a decodable
 * PNG of twice that, with a white corner. w and h 0: any size within
 * max_w x max_h, the same for both. */
static void assert_figure_within(const char *name, int w, int h, int max_w, int max_h) {
    char png_name[256], svg_name[256];
    snprintf(png_name, sizeof png_name, "%s.png", name);
    snprintf(svg_name, sizeof svg_name, "%s.svg", name);
    char *png = tu_scratch(png_name), *svg = tu_scratch(svg_name);
    char *data;
    size_t n;
    assert_int_equal(fl_read_file(svg, &data, &n), 0);
    assert_int_equal(strncmp(data, "<?xml", 5), 0);
    assert_non_null(strstr(data, "<svg"));
    assert_non_null(strstr(data, "</svg>"));
    const char *vb = strstr(data, "viewBox=\"0 0 ");
    assert_non_null(vb);
    int sw = 0, sh = 0;
    assert_int_equal(sscanf(vb, "viewBox=\"0 0 %d %d\"", &sw, &sh), 2);
    free(data);
    if (w > 0) {
        assert_int_equal(sw, w);
        assert_int_equal(sh, h);
    } else {
        assert_true(sw >= 100 && sw <= max_w);
        assert_true(sh >= 80 && sh <= max_h);
    }

    assert_int_equal(fl_read_file(png, &data, &n), 0);
    assert_true(n > 33);
    assert_memory_equal(data, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(data + 12, "IHDR", 4);
    assert_int_equal(be32((unsigned char *)data + 16), (uint32_t)(2 * sw));
    assert_int_equal(be32((unsigned char *)data + 20), (uint32_t)(2 * sh));
    free(data);
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(img), 2 * sw);
    cairo_surface_flush(img);
    uint32_t corner = *(const uint32_t *)cairo_image_surface_get_data(img);
    assert_int_equal(corner & 0xffffff, 0xffffff);
    cairo_surface_destroy(img);
    free(png);
    free(svg);
}

static void assert_figure(const char *name, int w, int h) { assert_figure_within(name, w, h, w, h); }

/* A heatmap is cropped to its content, at most 640 x 540. */
static void assert_heatmap(const char *name) { assert_figure_within(name, 0, 0, 640, 540); }

/* The scratch directory holds exactly name.png and name.svg. */
static void assert_only_figure(const char *name) {
    char want[256];
    assert_int_equal(tu_count_entries(tu_dir, ""), 2);
    snprintf(want, sizeof want, "%s.png", name);
    assert_int_equal(tu_count_entries(tu_dir, want), 1);
    snprintf(want, sizeof want, "%s.svg", name);
    assert_int_equal(tu_count_entries(tu_dir, want), 1);
}

static int save(const fl_plot *p, const char *name) {
    char *base = tu_scratch(name);
    int rc = fl_plot_save(p, base);
    if (rc != 0) print_error("fl_plot_save: %s\n", fl_error_msg());
    free(base);
    return rc;
}

static double xs[100], ys[3][100], fit[3][100];

static void fill_data(void) {
    unsigned s = 7;
    for (int i = 0; i < 100; i++) {
        xs[i] = pow(10, -3 + 3.0 * i / 99);
        for (int k = 0; k < 3; k++) {
            s = s * 1103515245u + 12345u;
            fit[k][i] = 0.1 * (k + 1) * (log10(xs[i]) + 3);
            ys[k][i] = fit[k][i] + 0.05 * ((double)(s >> 8) / (1 << 24) - 0.5);
        }
    }
}

static void test_plot_linear(void **state) {
    (void)state;
    fill_data();
    fl_series s[6];
    const char *names[3] = {"SGD", "EWC", "RL"};
    for (int k = 0; k < 3; k++) {
        s[2 * k] = (fl_series){names[k], xs, ys[k], 100, FL_MARK_POINTS, FL_COLOR_NEXT, NULL};
        s[2 * k + 1] = (fl_series){NULL, xs, fit[k], 100, FL_MARK_LINE, FL_COLOR_SAME, NULL};
    }
    fl_plot p = {.title = "Forgetting vs KL", .xlabel = "KL", .ylabel = "forgetting", .series = s, .nseries = 6,
                 .note = "R\xc2\xb2 = 0.96\nn = 300"};
    assert_int_equal(save(&p, "lin"), 0);
    assert_figure("lin", 640, 480);
    assert_only_figure("lin");
    /* Saving again replaces the pair, still without leftovers. */
    p.width = 400;
    p.height = 300;
    p.title = NULL;
    assert_int_equal(save(&p, "lin"), 0);
    assert_figure("lin", 400, 300);
    assert_only_figure("lin");
}

static void test_plot_log_and_bad_values(void **state) {
    (void)state;
    fill_data();
    double x[8] = {1e-4, NAN, 0, -1, 1e-2, INFINITY, 1, 10};
    double y[8] = {1, 2, 3, 4, NAN, 5, -INFINITY, 1e3};
    fl_series s[3] = {{"points", x, y, 8, FL_MARK_POINTS, 2, NULL},
                      {"line", x, y, 8, FL_MARK_LINE_POINTS, FL_COLOR_NEXT, NULL},
                      {"fit", xs, ys[0], 100, FL_MARK_LINE, FL_COLOR_NEXT, NULL}};
    fl_plot p = {.title = "log-log", .xlabel = "x", .ylabel = "y", .logx = 1, .logy = 1, .series = s, .nseries = 3};
    assert_int_equal(save(&p, "log"), 0);
    assert_figure("log", 640, 480);
    assert_only_figure("log");
    /* Explicit bounds that cut data off, one axis log, the other not. */
    p.logy = 0;
    p.xmin = 1e-3;
    p.xmax = NAN;
    p.ymin = -1;
    p.ymax = 2;
    assert_int_equal(save(&p, "log"), 0);
    assert_figure("log", 640, 480);
    /* Data wholly beyond a given bound still gives a usable range. */
    p.xmin = 1e6;
    assert_int_equal(save(&p, "log"), 0);
    assert_only_figure("log");
}

static void test_plot_degenerate(void **state) {
    (void)state;
    double one_x = 5, one_y = 0.3;
    fl_series s = {"one", &one_x, &one_y, 1, FL_MARK_LINE_POINTS, FL_COLOR_NEXT, NULL};
    fl_plot p = {.xlabel = "x", .ylabel = "y", .series = &s, .nseries = 1};
    assert_int_equal(save(&p, "one"), 0);
    assert_figure("one", 640, 480);
    p.logx = p.logy = 1;
    assert_int_equal(save(&p, "one"), 0);
    assert_figure("one", 640, 480);
    /* All x equal (0: no magnitude to go by), y varying. */
    double zx[3] = {0, 0, 0}, zy[3] = {1, 2, 3};
    fl_series z = {"vertical", zx, zy, 3, FL_MARK_POINTS, FL_COLOR_NEXT, NULL};
    fl_plot pz = {.title = "all x equal", .series = &z, .nseries = 1};
    assert_int_equal(save(&pz, "one"), 0);
    /* Empty series, no series, and only values a log axis must skip. */
    fl_series e[2] = {{"empty", NULL, NULL, 0, FL_MARK_POINTS, FL_COLOR_NEXT, NULL},
                      {"none", zx, zy, 3, FL_MARK_LINE, FL_COLOR_NEXT, NULL}};
    fl_plot pe = {.title = "empty", .logx = 1, .series = e, .nseries = 2};
    assert_int_equal(save(&pe, "one"), 0);
    assert_figure("one", 640, 480);
    fl_plot nothing = {0};
    assert_int_equal(save(&nothing, "one"), 0);
    assert_figure("one", 640, 480);
    assert_only_figure("one");
}

/* Text that is not valid UTF-8 (a Latin-1 label, a cut sequence, a
 * surrogate) is drawn with '?' for the bad bytes instead of failing. */
static void test_bad_text(void **state) {
    (void)state;
    double x[2] = {1, 2};
    fl_series s[2] = {{"caf\xe9", x, x, 2, FL_MARK_POINTS, FL_COLOR_NEXT, NULL},
                      {"\xed\xa0\x80 surrogate", x, x, 2, FL_MARK_LINE, FL_COLOR_NEXT, NULL}};
    fl_plot p = {.title = "cut \xcf", .xlabel = "\xff\xfe", .ylabel = "ok \xc2\xb2", .series = s, .nseries = 2,
                 .note = "\xc0\xaf overlong"};
    assert_int_equal(save(&p, "text"), 0);
    assert_figure("text", 640, 480);
    const char *lab[2] = {"\xe9t\xe9", "fine"};
    double m[4] = {1, 0, 0, 1};
    char *base = tu_scratch("text");
    assert_int_equal(fl_heatmap_save("\x80", m, 2, 2, lab, lab, -1, 1, base), 0);
    free(base);
    assert_only_figure("text");
}

/* Ranges at the edges of what a double holds. */
static void test_plot_extremes(void **state) {
    (void)state;
    double x[4] = {1e-300, 1e-100, 1e100, 1e300}, y[4] = {1, 2, 3, 4};
    fl_series s = {"wide", x, y, 4, FL_MARK_LINE_POINTS, FL_COLOR_NEXT, NULL};
    fl_plot p = {.logx = 1, .series = &s, .nseries = 1};
    assert_int_equal(save(&p, "ext"), 0);
    assert_figure("ext", 640, 480);
    /* A line to points far beyond explicit bounds is cut at the edge. */
    p.logx = 0;
    p.xmin = 0;
    p.xmax = 1;
    assert_int_equal(save(&p, "ext"), 0);
    double close[3] = {1, 1 + 1e-13, 1 + 2e-13};
    fl_series sc = {"close", close, close, 3, FL_MARK_POINTS, FL_COLOR_NEXT, NULL};
    fl_plot pc = {.series = &sc, .nseries = 1};
    assert_int_equal(save(&pc, "ext"), 0);
    assert_only_figure("ext");
    /* Padding 5% around +-DBL_MAX overflows: refused, not drawn wrong. */
    double big[2] = {-1.7e308, 1.7e308};
    fl_series sb = {"big", big, y, 2, FL_MARK_POINTS, FL_COLOR_NEXT, NULL};
    fl_plot pb = {.series = &sb, .nseries = 1};
    char *base = tu_scratch("ext");
    assert_int_equal(fl_plot_save(&pb, base), -1);
    tu_assert_error_mentions(base, "x values");
    free(base);
    assert_only_figure("ext");
}

static void test_heatmap(void **state) {
    (void)state;
    double m[36];
    const char *lab[6] = {"forward KL", "reverse KL", "weight L2", "feature drift", "CKA", "grad norm"};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) m[i * 6 + j] = i == j ? 1 : cos(i * j + i + j);
    m[7] = NAN;
    char *base = tu_scratch("heat");
    assert_int_equal(fl_heatmap_save("Spearman", m, 6, 6, lab, lab, -1, 1, base), 0);
    assert_heatmap("heat");
    assert_only_figure("heat");
    /* Automatic bounds, no labels, too many cells for values, 1 x 1. */
    double big[15 * 20];
    for (int i = 0; i < 15 * 20; i++) big[i] = sin(i) * 3 + 1;
    assert_int_equal(fl_heatmap_save(NULL, big, 15, 20, NULL, NULL, NAN, NAN, base), 0);
    assert_heatmap("heat");
    double single = 0.5;
    assert_int_equal(fl_heatmap_save("one cell", &single, 1, 1, NULL, NULL, NAN, NAN, base), 0);
    assert_heatmap("heat");
    /* Cells far smaller than a line of text, labels far wider than one. */
    enum { K = 300 };
    double *huge = malloc(sizeof(double) * K * K);
    assert_non_null(huge);
    for (int i = 0; i < K * K; i++) huge[i] = (i % 7) - 3.0;
    assert_int_equal(fl_heatmap_save("300 x 300", huge, K, K, NULL, NULL, NAN, NAN, base), 0);
    assert_heatmap("heat");
    free(huge);
    const char *longer[2] = {"a label much longer than any sensible heatmap row label would ever be",
                             "short"};
    assert_int_equal(fl_heatmap_save("long labels", m, 2, 2, longer, longer, -1, 1, base), 0);
    assert_heatmap("heat");
    double nans[4] = {NAN, NAN, NAN, NAN};
    assert_int_equal(fl_heatmap_save("no values", nans, 2, 2, NULL, NULL, NAN, NAN, base), 0);
    assert_only_figure("heat");
    free(base);
}

/* ---- what is drawn, read back from the PNG ------------------------------ */

typedef struct {
    cairo_surface_t *img;
    const uint8_t *px;
    int w, h, stride;
} png_image;

static void png_open(const char *name, png_image *im) {
    char *base = tu_scratch(name), png[512];
    snprintf(png, sizeof png, "%s.png", base);
    free(base);
    im->img = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(im->img), CAIRO_STATUS_SUCCESS);
    cairo_surface_flush(im->img);
    im->px = cairo_image_surface_get_data(im->img);
    im->w = cairo_image_surface_get_width(im->img);
    im->h = cairo_image_surface_get_height(im->img);
    im->stride = cairo_image_surface_get_stride(im->img);
}

/* Whether pixel (x, y) is close to the opaque colour rgb (0xRRGGBB). */
static int near(const png_image *im, int x, int y, uint32_t rgb) {
    const uint32_t v = *(const uint32_t *)(im->px + (size_t)y * im->stride + 4 * (size_t)x);
    int d = 0;
    for (int k = 0; k < 3; k++) d += abs((int)((v >> (8 * k)) & 255) - (int)((rgb >> (8 * k)) & 255));
    return d < 40;
}

/* Mean row of the pixels of colour rgb in column x (NaN: none). */
static double row_of(const png_image *im, int x, uint32_t rgb) {
    double s = 0;
    int n = 0;
    for (int y = 0; y < im->h; y++)
        if (near(im, x, y, rgb)) s += y, n++;
    return n ? s / n : NAN;
}

/* Columns of row y that hold colour rgb: the first and the last. */
static void extent_of(const png_image *im, int y, uint32_t rgb, int *first, int *last) {
    *first = -1, *last = -1;
    for (int x = 0; x < im->w; x++)
        if (near(im, x, y, rgb)) {
            if (*first < 0) *first = x;
            *last = x;
        }
}

/* The palette's first three colours, as drawn (blue, vermillion, green). */
#define BLUE 0x0072b2u
#define VERMILLION 0xd55e00u
#define GREEN 0x009e73u
#define BAR 0x2687beu /* the bars' blue at alpha 0.85 over white */

/* The extent (columns, rows) of colour rgb through the image's centre. */
static void cell_extent(const png_image *im, uint32_t rgb, int *w, int *h) {
    int first, last, top = -1, bottom = -1;
    extent_of(im, im->h / 2, rgb, &first, &last);
    const int x = (first + last) / 2;
    for (int y = 0; y < im->h; y++)
        if (near(im, x, y, rgb)) {
            if (top < 0) top = y;
            bottom = y;
        }
    *w = last - first, *h = bottom - top;
}

/* The cell extent of the figure saved as name (dark red cells). */
static void saved_cell(const char *name, int *w, int *h) {
    png_image im;
    png_open(name, &im);
    cell_extent(&im, 0x67001fu, w, h);
    cairo_surface_destroy(im.img);
}

/* Intervals under the values: one dark red cell (value 1 on [-1, 1]) turns
 * from a square into a cell wider than tall; an interval with a NaN end,
 * or too many rows to read, leaves the values alone; one end alone is
 * refused. */
static void test_heatmap_intervals(void **state) {
    (void)state;
    double one = 1, lo = 0.25, hi = 0.5, nan_ = NAN;
    char *base = tu_scratch("ci");
    int w, h;
    assert_int_equal(fl_heatmap_save("square", &one, 1, 1, NULL, NULL, -1, 1, base), 0);
    saved_cell("ci", &w, &h);
    assert_true(w > 20 && abs(w - h) <= 2);
    assert_int_equal(fl_heatmap_ci_save("interval", &one, &lo, &hi, 1, 1, NULL, NULL, -1, 1, base), 0);
    saved_cell("ci", &w, &h);
    assert_true(w > 20 && w > 3 * h / 2);
    assert_int_equal(fl_heatmap_ci_save("no interval", &one, &nan_, &hi, 1, 1, NULL, NULL, -1, 1, base), 0);
    assert_only_figure("ci");
    enum { R = 41 };
    double m[R], l[R], u[R];
    for (int i = 0; i < R; i++) m[i] = 1, l[i] = 0.5, u[i] = 1;
    assert_int_equal(fl_heatmap_ci_save("41 rows", m, l, u, R, 1, NULL, NULL, -1, 1, base), 0);
    saved_cell("ci", &w, &h);
    assert_true(w < h); /* one column of square cells */
    assert_int_equal(fl_heatmap_ci_save("one end", &one, &lo, NULL, 1, 1, NULL, NULL, -1, 1, base), -1);
    tu_assert_error_mentions(base, "both ends");
    free(base);
}

/* Three horizontal lines at y = 0.25, 0.5 and 0.75 on fixed axes: in the
 * middle column the middle one lies half way between the others, and 0.75
 * above 0.25 (y grows upwards). On a log axis, y = 1, 10, 100 are evenly
 * spaced too. A point at (0.5, 0.5) sits on the middle line. */
static void test_plot_positions(void **state) {
    (void)state;
    for (int logy = 0; logy < 2; logy++) {
        double x[2] = {0, 1}, y[3][2], px[1] = {0.5}, py[1];
        const double levels[2][3] = {{0.25, 0.5, 0.75}, {1, 10, 100}};
        for (int k = 0; k < 3; k++) y[k][0] = y[k][1] = levels[logy][k];
        py[0] = logy ? sqrt(10.0) : 0.375; /* half way between the low and middle lines */
        /* No labels: no legend to share the columns with. */
        fl_series s[4] = {{NULL, x, y[0], 2, FL_MARK_LINE, 0, NULL},
                          {NULL, x, y[1], 2, FL_MARK_LINE, 1, NULL},
                          {NULL, x, y[2], 2, FL_MARK_LINE, 2, NULL},
                          {NULL, px, py, 1, FL_MARK_POINTS, 0, NULL}};
        fl_plot p = {.series = s, .nseries = 3, .logy = logy, .xmin = 0, .xmax = 1,
                     .ymin = logy ? 0.5 : 0, .ymax = logy ? 200 : 1};
        assert_int_equal(save(&p, "pos"), 0);
        png_image im;
        png_open("pos", &im);
        /* A column a third of the way in: inside the plot, clear of any legend. */
        int first, last;
        const int mid_row = (int)lround(row_of(&im, im.w / 2, VERMILLION));
        extent_of(&im, mid_row, VERMILLION, &first, &last);
        assert_true(last - first > im.w / 3); /* a line across the plot */
        const int col = first + (last - first) / 3;
        const double r0 = row_of(&im, col, BLUE), r1 = row_of(&im, col, VERMILLION), r2 = row_of(&im, col, GREEN);
        assert_false(isnan(r0) || isnan(r1) || isnan(r2));
        assert_true(r2 < r1 && r1 < r0);
        assert_true(fabs((r0 + r2) / 2 - r1) < 1.5);
        /* The point (translucent, so bluish rather than blue): at x = 0.5,
         * half way along the lines, and half way between two of them. */
        cairo_surface_destroy(im.img);
        p.nseries = 4;
        s[0].n = 0;
        assert_int_equal(save(&p, "pos"), 0);
        png_open("pos", &im);
        double sx = 0, sy = 0;
        int n = 0;
        for (int yy = (int)r1 + 3; yy < (int)r0 - 3; yy++)
            for (int xx = first; xx <= last; xx++) {
                const uint32_t v = *(const uint32_t *)(im.px + (size_t)yy * im.stride + 4 * (size_t)xx);
                const int r = (v >> 16) & 255, b = v & 255;
                if (b - r > 60) sx += xx, sy += yy, n++;
            }
        assert_true(n > 10);
        assert_true(fabs(sx / n - (first + last) / 2.0) < 2.0);
        assert_true(fabs(sy / n - (r0 + r1) / 2) < 2.0);
        cairo_surface_destroy(im.img);
    }
}

/* Bars of 0.25, 0.5 and 1 on [0, 1]: their drawn lengths are 1 : 2 : 4,
 * top to bottom in the given order. */
static void test_bars_lengths(void **state) {
    (void)state;
    const char *labels[3] = {"a", "b", "c"};
    double v[3] = {0.25, 0.5, 1.0};
    fl_bars b = {"bars", "value", labels, v, NULL, NULL, NULL, NULL, 3, 0.0, 1.0};
    char *base = tu_scratch("bars");
    assert_int_equal(fl_bars_save(&b, base), 0);
    free(base);
    png_image im;
    png_open("bars", &im);
    /* The bars' rows: scan the column just right of where they start. */
    int len[3], nb = 0, y = 0;
    int start = -1;
    for (int x = 0; x < im.w && start < 0; x++)
        for (int yy = 0; yy < im.h && start < 0; yy++)
            if (near(&im, x, yy, BAR)) start = x;
    assert_true(start >= 0);
    while (nb < 3 && y < im.h) {
        while (y < im.h && !near(&im, start + 1, y, BAR)) y++;
        if (y >= im.h) break;
        const int top = y;
        while (y < im.h && near(&im, start + 1, y, BAR)) y++;
        int first, last;
        extent_of(&im, (top + y) / 2, BAR, &first, &last);
        len[nb++] = last - first + 1;
    }
    assert_int_equal(nb, 3);
    assert_true(fabs(len[1] / (double)len[0] - 2) < 0.05);
    assert_true(fabs(len[2] / (double)len[0] - 4) < 0.1);
    cairo_surface_destroy(im.img);
}

static void test_errors(void **state) {
    (void)state;
    double x[2] = {1, 2};
    fl_series s = {"s", x, x, 2, FL_MARK_POINTS, FL_COLOR_NEXT, NULL};
    fl_plot p = {.series = &s, .nseries = 1};
    /* A directory that does not exist: nothing can be written. */
    char *bad = tu_scratch("missing/fig");
    assert_int_equal(fl_plot_save(&p, bad), -1);
    tu_assert_error_mentions(bad, NULL);
    double m[4] = {0, 1, 2, 3};
    assert_int_equal(fl_heatmap_save("t", m, 2, 2, NULL, NULL, NAN, NAN, bad), -1);
    tu_assert_error_mentions(bad, NULL);
    free(bad);
    /* Inputs that cannot be drawn are refused before anything is written. */
    char *base = tu_scratch("fig");
    p.logx = 1;
    p.xmin = 0;
    p.xmax = 10;
    assert_int_equal(fl_plot_save(&p, base), -1);
    tu_assert_error_mentions(base, "log");
    p.logx = 0;
    p.xmin = 5;
    p.xmax = 1;
    assert_int_equal(fl_plot_save(&p, base), -1);
    tu_assert_error_mentions(base, "xmin");
    fl_series broken = {"broken", NULL, x, 2, FL_MARK_LINE, FL_COLOR_NEXT, NULL};
    fl_plot pb = {.series = &broken, .nseries = 1};
    assert_int_equal(fl_plot_save(&pb, base), -1);
    tu_assert_error_mentions(base, "broken");
    fl_plot huge = {.width = 100000};
    assert_int_equal(fl_plot_save(&huge, base), -1);
    tu_assert_error_mentions(base, "size");
    assert_int_equal(fl_heatmap_save("t", m, 0, 2, NULL, NULL, NAN, NAN, base), -1);
    tu_assert_error_mentions(base, NULL);
    assert_int_equal(fl_heatmap_save("t", m, 2, 2, NULL, NULL, 1, -1, base), -1);
    tu_assert_error_mentions(base, "vmin");
    assert_int_equal(tu_count_entries(tu_dir, ""), 0);
    free(base);
}

/* cairo keeps font and pattern caches for the process' lifetime: released
 * after the last test, so the leak checker sees only what the tests lose. */
static int reset_cairo(void **state) {
    (void)state;
    cairo_debug_reset_static_data();
    return 0;
}

TU_MAIN_WITH(NULL, reset_cairo, cmocka_unit_test(test_integer_ticks),
             cmocka_unit_test(test_nice_ticks), cmocka_unit_test(test_nice_ticks_sweep),
             cmocka_unit_test(test_format_tick), TU_SCRATCH_TEST(test_plot_linear),
             TU_SCRATCH_TEST(test_heatmap_intervals),
             TU_SCRATCH_TEST(test_plot_log_and_bad_values), TU_SCRATCH_TEST(test_plot_degenerate),
             TU_SCRATCH_TEST(test_bad_text), TU_SCRATCH_TEST(test_plot_extremes), TU_SCRATCH_TEST(test_heatmap),
             TU_SCRATCH_TEST(test_plot_positions), TU_SCRATCH_TEST(test_bars_lengths), TU_SCRATCH_TEST(test_errors))
