/* error.c: the thread-local "last error" line behind error.h, and the
 * allocation helpers that set it. */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "forgetlab/core/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FL_ERROR_MAX 1024

static _Thread_local char g_msg[FL_ERROR_MAX];

int fl_error_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return -1;
}

int fl_error_wrap(const char *fmt, ...) {
    char prefix[FL_ERROR_MAX], old[FL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    /* Truncation is fine here: the message is for a human. */
    size_t np = strnlen(prefix, sizeof prefix - 1);
    memcpy(g_msg, prefix, np);
    size_t at = np;
    if (at + 2 < sizeof g_msg) {
        g_msg[at++] = ':';
        g_msg[at++] = ' ';
    }
    size_t no = strnlen(old, sizeof g_msg - at - 1);
    memcpy(g_msg + at, old, no);
    g_msg[at + no] = '\0';
    return -1;
}

const char *fl_error_msg(void) { return g_msg; }

void fl_error_clear(void) { g_msg[0] = '\0'; }

void *fl_malloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) fl_error_set("out of memory (%zu bytes for %s)", n, what);
    return p;
}

void fl_advise_huge(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    const uintptr_t page = 4096, start = ((uintptr_t)p + page - 1) & ~(page - 1),
                    end = ((uintptr_t)p + n) & ~(page - 1);
    if (!p || n < ((size_t)4 << 20) || end <= start) return;
    (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p, (void)n;
#endif
}

void *fl_calloc(size_t count, size_t size, const char *what) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) fl_error_set("out of memory (%zu x %zu bytes for %s)", count, size, what);
    return p;
}
