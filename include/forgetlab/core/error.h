/* error.h: how forgetlab reports failure.
 *
 * Every fallible function returns 0 on success and -1 on failure, after
 * recording one human-readable line (naming the file, flag or value at fault)
 * with fl_error_set(). The CLI prints that line on stderr and exits 1. The
 * message lives in thread-local storage, so concurrent runs do not clobber
 * each other's errors. */
#ifndef FORGETLAB_ERROR_H
#define FORGETLAB_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define FL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FL_PRINTF(a, b)
#endif

/* Returned instead of -1 (message set alike) where what failed is the
 * request itself, not the data or the machine: a subtask too small for the
 * corruption asked for, say. The CLI reports it as a usage error (exit 2). */
#define FL_BAD_REQUEST (-2)

/* Records the message (printf-style) and returns -1, so a failing path can
 * read `return fl_error_set("...: %s", path);`. */
int fl_error_set(const char *fmt, ...) FL_PRINTF(1, 2);

/* Prepends "prefix: " to the current message (adds context on the way up). */
int fl_error_wrap(const char *fmt, ...) FL_PRINTF(1, 2);

/* The last message set on this thread ("" if none). */
const char *fl_error_msg(void);

void fl_error_clear(void);

/* malloc/calloc that record "out of memory (N bytes for WHAT)" on failure. */
void *fl_malloc(size_t n, const char *what);
void *fl_calloc(size_t count, size_t size, const char *what);

/* Asks the kernel to back [p, p + n) with transparent huge pages before it
 * is first written (a no-op below a few megabytes, or where the kernel
 * declines). A dataset of 60,000 images as floats is 188 MB: 46,000 page
 * faults of 4 KB, which cost a second in a virtual machine, against 94 of
 * 2 MB. Never fails: the advice only changes speed. */
void fl_advise_huge(void *p, size_t n);

#endif
