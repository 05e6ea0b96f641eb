/* progress.c: the terminal progress bar (elapsed time, rate and ETA). */
#include "forgetlab/progress.h"

#include "forgetlab/threads.h"

#include <stdio.h>
#include <unistd.h>

void fl_progress_start(fl_progress *p, const char *label, long total) {
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->start = fl_now();
    p->last_draw = 0.0;
    p->enabled = isatty(STDERR_FILENO);
}

static void draw(fl_progress *p, long done, const char *extra) {
    enum { WIDTH = 30 };
    double elapsed = fl_now() - p->start;
    double frac = (double)done / (double)p->total;
    double eta = done > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
    int fill = (int)(frac * WIDTH + 0.5);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %ld/%ld %5.1fs eta %5.1fs %s\033[K", p->label, bar, done,
            p->total, elapsed, eta, extra ? extra : "");
    fflush(stderr);
}

void fl_progress_update(fl_progress *p, long done, const char *extra) {
    if (!p->enabled) return;
    double now = fl_now();
    if (done < p->total && now - p->last_draw < 0.1) return;
    p->last_draw = now;
    draw(p, done, extra);
}

void fl_progress_finish(fl_progress *p) {
    if (!p->enabled) return;
    draw(p, p->total, NULL);
    fputc('\n', stderr);
}
