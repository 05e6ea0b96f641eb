/* progress.h: a one-line progress bar on stderr for long work.
 *
 * Drawn only when stderr is a terminal, so logs and CI output stay clean;
 * redrawn at most ten times a second. */
#ifndef FORGETLAB_PROGRESS_H
#define FORGETLAB_PROGRESS_H

typedef struct {
    const char *label;
    long total;
    double start, last_draw;
    int enabled;
} fl_progress;

void fl_progress_start(fl_progress *p, const char *label, long total);
/* done out of total; extra is a short status (e.g. "loss 0.412") or NULL. */
void fl_progress_update(fl_progress *p, long done, const char *extra);
void fl_progress_finish(fl_progress *p);

#endif
