/* digits_cache.h: the binary cache of the parsed MNIST JSON (internal to
 * src/data). It records the size and modification time of each source file,
 * so it is trusted only while the sources are unchanged, and a CRC of its
 * payload, so a damaged cache is noticed and rebuilt rather than used. */
#ifndef FORGETLAB_DIGITS_CACHE_H
#define FORGETLAB_DIGITS_CACHE_H

#include "forgetlab/data/data.h"

#include <stdint.h>

#define FL_DIGITS_FILES 10

/* What the cache remembers of one source file. */
typedef struct {
    uint64_t size;
    int64_t mtime_sec, mtime_nsec;
} fl_digits_source;

/* Stats path into *src (an error naming path if it cannot). */
int fl_digits_source_stat(const char *path, fl_digits_source *src);

/* Fills out from the cache at path if it exists, matches src and verifies;
 * returns -1 otherwise, which callers treat as "parse the sources". */
int fl_digits_cache_read(const char *path, const fl_digits_source src[FL_DIGITS_FILES],
                         fl_images *out);

/* Writes the cache atomically; on failure nothing is left behind. */
int fl_digits_cache_write(const char *path, const fl_digits_source src[FL_DIGITS_FILES],
                          const fl_images *im);

#endif
