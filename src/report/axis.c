/* axis.c: axes: ranges, "nice" tick positions and their labels (also used
 * by the heatmap's colour bar), and drawing grid, spines, ticks and tick
 * labels of x-y figures. */
#include "figure.h"

#include "forgetlab/core/error.h"
#include "forgetlab/report/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Relative tolerance for deciding that a tick computed in floating point
 * lies on the range's edge rather than just outside it. */
#define EDGE_EPS 1e-9

int fl_nice_ticks(double lo, double hi, int max_ticks, double *ticks) {
    if (!isfinite(lo) || !isfinite(hi) || max_ticks < 1) return 0;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double span = hi - lo;
    if (!isfinite(span)) {
        /* Beyond what a double can subdivide: show the ends. */
        ticks[0] = lo;
        if (max_ticks > 1) ticks[1] = hi;
        return max_ticks > 1 ? 2 : 1;
    }
    /* A span lost in the rounding of its ends cannot be subdivided. */
    if (span <= 1e-12 * fmax(fabs(lo), fabs(hi))) {
        ticks[0] = lo;
        return 1;
    }
    /* Walk the 1-2-5 ladder upwards from well below span / max_ticks and
     * keep the step giving the most ticks that still fit; among equal
     * counts the larger (rounder) step wins. */
    static const double mult[3] = {1, 2, 5};
    double best_step = 0, best_first = 0;
    long long best_n = 0;
    int e0 = (int)floor(log10(span / max_ticks)) - 1;
    for (int e = e0; e <= e0 + 24; e++) {
        double p = pow(10, e);
        int past_span = 0;
        for (int i = 0; i < 3; i++) {
            double step = mult[i] * p;
            /* Ticks may sit a hair outside the range (rounding), no more. */
            double eps = EDGE_EPS * span / step;
            double first = ceil(lo / step - eps), last = floor(hi / step + eps);
            long long n = (long long)(last - first) + 1;
            if (n < 0) n = 0;
            if (n <= max_ticks && n >= best_n) {
                best_n = n;
                best_step = step;
                best_first = first;
            }
            if (step > 10 * span) past_span = 1;
        }
        if (past_span) break;
    }
    if (best_n == 0) {
        ticks[0] = lo;
        return 1;
    }
    for (long long i = 0; i < best_n; i++) {
        double t = (best_first + (double)i) * best_step;
        /* ceil() of a tiny negative gives -0, which would print as "-0". */
        if (fabs(t) < best_step * 1e-6) t = 0;
        ticks[i] = t;
    }
    return (int)best_n;
}

/* "1.50e+06" -> "1.5e6": the shortest spelling a tick label can take. */
static void compact_sci(const char *in, char *buf, size_t n) {
    char mant[40];
    const char *e = strchr(in, 'e');
    size_t ml = e ? (size_t)(e - in) : strlen(in);
    if (ml >= sizeof mant) ml = sizeof mant - 1;
    memcpy(mant, in, ml);
    mant[ml] = '\0';
    if (strchr(mant, '.')) {
        char *end = mant + strlen(mant) - 1;
        while (*end == '0') *end-- = '\0';
        if (*end == '.') *end = '\0';
    }
    if (e)
        snprintf(buf, n, "%se%d", mant, atoi(e + 1));
    else
        snprintf(buf, n, "%s", mant);
}

void fl_format_tick(double v, double step, char *buf, size_t n) {
    if (n == 0) return;
    if (!isfinite(v)) {
        snprintf(buf, n, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    if (!(step > 0) || !isfinite(step)) step = v != 0 ? pow(10, floor(log10(fabs(v)))) : 1;
    if (fabs(v) < step * 1e-6) v = 0;
    int e_step = (int)floor(log10(step) + EDGE_EPS);
    int sci = e_step >= 5 || e_step <= -4;
    if (v == 0 && sci) {
        snprintf(buf, n, "0");
        return;
    }
    if (sci) {
        int e_v = (int)floor(log10(fabs(v)) + EDGE_EPS);
        int digits = e_v - e_step;
        if (digits < 0) digits = 0;
        if (digits > 15) digits = 15;
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.*e", digits, v);
        compact_sci(tmp, buf, n);
    } else {
        snprintf(buf, n, "%.*f", e_step < 0 ? -e_step : 0, v);
    }
}

double fl_scale_frac(const fl_scale *s, double v) {
    if (s->log) return (log10(v) - log10(s->lo)) / (log10(s->hi) - log10(s->lo));
    return (v - s->lo) / (s->hi - s->lo);
}

int fl_scale_ok(const fl_scale *s, double v) { return isfinite(v) && (!s->log || v > 0); }

int fl_scale_resolve(fl_scale *s, int log, double dlo, double dhi, double want_lo, double want_hi,
                     const char *what) {
    s->log = log;
    if (want_lo == want_hi) want_lo = want_hi = NAN;
    if (!isnan(want_lo) && !isnan(want_hi) && want_lo > want_hi)
        return fl_error_set("%smin %g is above %smax %g", what, want_lo, what, want_hi);
    if (log && ((!isnan(want_lo) && !(want_lo > 0)) || (!isnan(want_hi) && !(want_hi > 0))))
        return fl_error_set("log %s axis needs positive bounds", what);
    if ((!isnan(want_lo) && !isfinite(want_lo)) || (!isnan(want_hi) && !isfinite(want_hi)))
        return fl_error_set("%s bounds must be finite", what);
    /* Work in scale space (log10 for a log axis) so the padding looks even. */
    double a, b;
    if (isnan(dlo) || isnan(dhi)) {
        a = 0;
        b = 1;
    } else {
        a = log ? log10(dlo) : dlo;
        b = log ? log10(dhi) : dhi;
        if (b - a <= 1e-12 * fmax(fabs(a), fabs(b))) {
            /* All values equal: centre them in a range that still shows
             * their order of magnitude. */
            double d = log ? 0.5 : (a != 0 ? 0.1 * fabs(a) : 1);
            a -= d;
            b += d;
        } else {
            double pad = 0.05 * (b - a);
            a -= pad;
            b += pad;
        }
    }
    if (log) {
        /* Padding must not take a log axis past what a double holds. */
        a = fmax(a, -307);
        b = fmin(b, 308);
    }
    double lo = log ? pow(10, a) : a, hi = log ? pow(10, b) : b;
    if (!isnan(want_lo)) lo = want_lo;
    if (!isnan(want_hi)) hi = want_hi;
    if (lo >= hi) {
        /* One bound was given and the data lies entirely beyond it: show
         * one unit (a decade on a log axis) on the free side. */
        if (isnan(want_hi))
            hi = log ? lo * 10 : lo + fmax(1, fabs(lo) * 0.1);
        else
            lo = log ? hi / 10 : hi - fmax(1, fabs(hi) * 0.1);
    }
    if (!isfinite(hi - lo) || (log && !(lo > 0)) || !(lo < hi))
        return fl_error_set("%s values span more than the axis can show", what);
    s->lo = lo;
    s->hi = hi;
    return 0;
}

void fl_with_minus(char *dst, size_t n, const char *src) {
    if (n == 0) return;
    size_t o = 0;
    for (; *src; src++) {
        size_t len = *src == '-' ? 3 : 1;
        if (o + len >= n) break;
        memcpy(dst + o, *src == '-' ? "\xe2\x88\x92" : src, len);
        o += len;
    }
    dst[o] = '\0';
}

static int add_tick(fl_tick *out, int n, double v, int major, const char *text, const char *sup) {
    if (n >= FL_MAX_TICKS) return n;
    out[n].v = v;
    out[n].major = major;
    fl_with_minus(out[n].text, sizeof out[n].text, major && text ? text : "");
    fl_with_minus(out[n].sup, sizeof out[n].sup, major && sup ? sup : "");
    return n + 1;
}

static int cmp_tick(const void *pa, const void *pb) {
    double a = ((const fl_tick *)pa)->v, b = ((const fl_tick *)pb)->v;
    return (a > b) - (a < b);
}

static int linear_ticks(double lo, double hi, int max_major, int integer, fl_tick *out) {
    double t[FL_MAX_TICKS];
    int n = fl_nice_ticks(lo, hi, max_major < FL_MAX_TICKS ? max_major : FL_MAX_TICKS, t);
    double step = n >= 2 ? t[1] - t[0] : 0;
    /* Whole numbers only: a step below 1 becomes 1 (the nice steps are
     * 1, 2 or 5 x 10^k, so a step of 1 or more already lands on them). */
    if (integer && step < 1) {
        n = 0;
        for (double v = ceil(lo - 1e-9); v <= hi + 1e-9 && n < FL_MAX_TICKS; v++) t[n++] = v;
        step = 1;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        char buf[FL_TICK_TEXT];
        fl_format_tick(t[i], step, buf, sizeof buf);
        k = add_tick(out, k, t[i], 1, buf, NULL);
    }
    return k;
}

static int in_log_range(const fl_scale *s, double v) {
    return v >= s->lo * (1 - EDGE_EPS) && v <= s->hi * (1 + EDGE_EPS);
}

/* Log axes: decades labelled 10^k when at least two fit, else 1-2-5
 * values labelled as plain numbers, else linear ticks; the unlabelled
 * integer multiples in between are minor ticks while there is room. */
static int log_ticks(const fl_scale *s, int max_major, fl_tick *out) {
    double a = log10(s->lo), b = log10(s->hi);
    int k0 = (int)ceil(a - EDGE_EPS), k1 = (int)floor(b + EDGE_EPS);
    int n = 0;
    if (k1 - k0 + 1 >= 2) {
        /* Label every m-th decade, m a round number. */
        static const int steps[] = {1, 2, 3, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500};
        int m = 1;
        for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
            m = steps[i];
            int count = 0;
            for (int k = k0; k <= k1; k++) count += k % m == 0;
            if (count <= max_major) break;
        }
        /* Unlabelled decades get minor ticks unless there are so many
         * that they would crowd out the labelled ones. */
        int all = k1 - k0 + 1 <= FL_MAX_TICKS / 2;
        for (int k = k0; k <= k1; k++) {
            char e[12];
            snprintf(e, sizeof e, "%d", k);
            if (k % m == 0 || all) n = add_tick(out, n, pow(10, k), k % m == 0, "10", e);
        }
        if (m == 1 && b - a <= 8)
            for (int k = (int)floor(a); k <= k1; k++)
                for (int d = 2; d <= 9; d++) {
                    double v = d * pow(10, k);
                    if (in_log_range(s, v)) n = add_tick(out, n, v, 0, NULL, NULL);
                }
    } else {
        int kl = (int)floor(a), kh = (int)ceil(b), count = 0;
        for (int k = kl; k <= kh; k++)
            for (int d = 1; d <= 5; d++) count += (d == 1 || d == 2 || d == 5) && in_log_range(s, d * pow(10, k));
        if (count < 2 || count > max_major) return linear_ticks(s->lo, s->hi, max_major, 0, out);
        for (int k = kl; k <= kh; k++)
            for (int d = 1; d <= 9; d++) {
                double v = d * pow(10, k);
                if (!in_log_range(s, v)) continue;
                char buf[FL_TICK_TEXT];
                fl_format_tick(v, pow(10, k), buf, sizeof buf);
                n = add_tick(out, n, v, d == 1 || d == 2 || d == 5, buf, NULL);
            }
    }
    qsort(out, (size_t)n, sizeof *out, cmp_tick);
    return n;
}

int fl_axis_ticks(const fl_scale *s, int max_major, fl_tick *out) {
    if (max_major < 2) max_major = 2;
    return s->log ? log_ticks(s, max_major, out) : linear_ticks(s->lo, s->hi, max_major, s->integer, out);
}

/* Values beyond a million plot widths are pulled in: far enough to leave
 * every visible segment's direction unchanged, near enough to stay finite. */
static double clamp_frac(double f) { return fmin(fmax(f, -1e6), 1e6); }

double fl_axes_x(const fl_axes *ax, double v) {
    return ax->area.x + clamp_frac(fl_scale_frac(&ax->sx, v)) * ax->area.w;
}

double fl_axes_y(const fl_axes *ax, double v) {
    return ax->area.y + ax->area.h - clamp_frac(fl_scale_frac(&ax->sy, v)) * ax->area.h;
}

static int xlabels_clash(cairo_t *cr, const fl_axes *ax) {
    double last_right = -INFINITY;
    for (int i = 0; i < ax->nxt; i++) {
        if (!ax->xt[i].major) continue;
        double w = fl_tick_width(cr, &ax->xt[i], FL_FS_TICK), x = fl_axes_x(ax, ax->xt[i].v);
        if (x - w / 2 < last_right + 10) return 1;
        last_right = x + w / 2;
    }
    return 0;
}

void fl_axes_xticks(cairo_t *cr, fl_axes *ax) {
    int want = (int)fmin(10, ax->area.w / 50);
    do {
        ax->nxt = fl_axis_ticks(&ax->sx, want, ax->xt);
    } while (xlabels_clash(cr, ax) && --want >= 2);
}

void fl_axes_grid(cairo_t *cr, const fl_axes *ax) {
    const fl_rect *a = &ax->area;
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    cairo_set_line_width(cr, 0.8);
    for (int i = 0; i < ax->nxt; i++)
        if (ax->xt[i].major) {
            double x = fl_axes_x(ax, ax->xt[i].v);
            cairo_move_to(cr, x, a->y);
            cairo_line_to(cr, x, a->y + a->h);
        }
    for (int i = 0; i < ax->nyt; i++)
        if (ax->yt[i].major) {
            double y = fl_axes_y(ax, ax->yt[i].v);
            cairo_move_to(cr, a->x, y);
            cairo_line_to(cr, a->x + a->w, y);
        }
    cairo_stroke(cr);
}

void fl_axes_draw(cairo_t *cr, const fl_axes *ax) {
    const fl_rect *a = &ax->area;
    /* Only the left and bottom spines: the open top and right keep the
     * eye on the data, as in most current papers. */
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1.0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    cairo_move_to(cr, a->x, a->y);
    cairo_line_to(cr, a->x, a->y + a->h);
    cairo_line_to(cr, a->x + a->w, a->y + a->h);
    cairo_stroke(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_set_line_width(cr, 0.8);
    for (int i = 0; i < ax->nxt; i++) {
        const fl_tick *t = &ax->xt[i];
        double x = fl_axes_x(ax, t->v), len = t->major ? FL_TICK_LEN : FL_TICK_LEN / 2;
        cairo_move_to(cr, x, a->y + a->h);
        cairo_line_to(cr, x, a->y + a->h + len);
        cairo_stroke(cr);
        if (t->major) fl_draw_tick(cr, t, x, a->y + a->h + FL_TICK_LEN + 3, FL_FS_TICK, 0.5, 0);
    }
    for (int i = 0; i < ax->nyt; i++) {
        const fl_tick *t = &ax->yt[i];
        double y = fl_axes_y(ax, t->v), len = t->major ? FL_TICK_LEN : FL_TICK_LEN / 2;
        cairo_move_to(cr, a->x, y);
        cairo_line_to(cr, a->x - len, y);
        cairo_stroke(cr);
        if (t->major) fl_draw_tick(cr, t, a->x - FL_TICK_LEN - 3, y, FL_FS_TICK, 1, 0.5);
    }
}
