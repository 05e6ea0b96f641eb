/* log.h: the library's one voice for what is not a result.
 *
 * The library does not write to stderr by itself: its notices (a run
 * resumed, threads capped, a study resumed by another build) go through
 * fl_log to one sink. The default sink writes the line to stderr as the
 * CLI wants it; a host installs its own (the Python package routes lines
 * to its `logging`), so that an embedding program decides what is shown.
 * Progress bars have their own interface (progress.h); results are
 * returned or written to files. */
#ifndef FORGETLAB_LOG_H
#define FORGETLAB_LOG_H

#include "forgetlab/core/error.h" /* FL_PRINTF */

enum { FL_LOG_INFO = 0, FL_LOG_WARN = 1 };

/* A sink receives each line whole, with its trailing newline. */
typedef void (*fl_log_fn)(int level, const char *line, void *ctx);

/* Installs fn (NULL: the default, stderr) for every later fl_log. */
void fl_log_set_sink(fl_log_fn fn, void *ctx);

/* Formats one line (printf-style, ending in "\n" as written) and hands it
 * to the sink. */
void fl_log(int level, const char *fmt, ...) FL_PRINTF(2, 3);

#endif
