/* progress.c: progress of long work on stderr: a redrawn bar on a
 * terminal; elsewhere (a log file, SLURM, nohup, CI) plain lines every 10%
 * or 30 s, so a log shows life; nothing with --quiet. */
#include "forgetlab/core/clock.h"
#include "forgetlab/core/progress.h"


#include <stdio.h>
#include <unistd.h>

static int g_quiet;

void fl_progress_set_quiet(int quiet) { g_quiet = quiet; }
int fl_progress_quiet(void) { return g_quiet; }

void fl_progress_start(fl_progress *p, const char *label, long total) {
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->start = fl_now();
    p->last_draw = p->start;
    p->last_tenth = 0;
    p->enabled = !g_quiet;
    p->tty = isatty(STDERR_FILENO);
}

static void times(const fl_progress *p, long done, double *elapsed, double *eta) {
    *elapsed = fl_now() - p->start;
    const double frac = (double)done / (double)p->total;
    *eta = done > 0 ? *elapsed * (1.0 - frac) / frac : 0.0;
}

static void draw(fl_progress *p, long done, const char *extra) {
    enum { WIDTH = 30 };
    double elapsed, eta;
    times(p, done, &elapsed, &eta);
    int fill = (int)((double)done / (double)p->total * WIDTH + 0.5);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %ld/%ld %5.1fs eta %5.1fs %s\033[K", p->label, bar, done,
            p->total, elapsed, eta, extra ? extra : "");
    fflush(stderr);
}

/* One plain line, for logs. */
static void line(const fl_progress *p, long done, const char *extra) {
    double elapsed, eta;
    times(p, done, &elapsed, &eta);
    fprintf(stderr, "%s: %ld/%ld (%.0f%%) %.1fs elapsed, eta %.1fs%s%s\n", p->label, done, p->total,
            100.0 * (double)done / (double)p->total, elapsed, eta, extra ? "  " : "", extra ? extra : "");
    fflush(stderr);
}

void fl_progress_update(fl_progress *p, long done, const char *extra) {
    if (!p->enabled) return;
    const double now = fl_now();
    if (p->tty) {
        if (done < p->total && now - p->last_draw < 0.1) return;
        p->last_draw = now;
        draw(p, done, extra);
        return;
    }
    const int tenth = (int)(10 * done / p->total);
    if (done >= p->total || (tenth <= p->last_tenth && now - p->last_draw < 30.0)) return;
    p->last_tenth = tenth > p->last_tenth ? tenth : p->last_tenth;
    p->last_draw = now;
    line(p, done, extra);
}

void fl_progress_finish(fl_progress *p) {
    if (!p->enabled) return;
    if (!p->tty) {
        line(p, p->total, NULL);
        return;
    }
    draw(p, p->total, NULL);
    fputc('\n', stderr);
}
