/* log.c: the sink behind fl_log (log.h), and its default: stderr, one of
 * the library's two places that write to a terminal (the other is
 * progress.c's bar). */
#include "forgetlab/core/log.h"

#include <stdarg.h>
#include <stdio.h>

static fl_log_fn g_sink;
static void *g_ctx;

void fl_log_set_sink(fl_log_fn fn, void *ctx) {
    g_sink = fn;
    g_ctx = ctx;
}

void fl_log(int level, const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g_sink) g_sink(level, line, g_ctx);
    else fputs(line, stderr);
}
