/* progress.h: progress of long work on stderr.
 *
 * On a terminal, a one-line bar redrawn at most ten times a second;
 * otherwise (stderr to a file or a pipe) a plain line at every tenth of the
 * work or every 30 s, whichever comes first, and one at the end. Nothing
 * at all after fl_progress_set_quiet(1) (the commands' --quiet). */
#ifndef FORGETLAB_PROGRESS_H
#define FORGETLAB_PROGRESS_H

typedef struct {
    const char *label;
    long total;
    double start, last_draw;
    int last_tenth;
    int enabled, tty;
} fl_progress;

void fl_progress_set_quiet(int quiet);
int fl_progress_quiet(void);

void fl_progress_start(fl_progress *p, const char *label, long total);
/* done out of total; extra is a short status (e.g. "loss 0.412") or NULL. */
void fl_progress_update(fl_progress *p, long done, const char *extra);
void fl_progress_finish(fl_progress *p);

#endif
