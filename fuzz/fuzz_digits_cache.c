/* fuzz_digits_cache.c: digits.cache is a binary file that forgetlab writes
 * itself but reads back on trust of nothing but its checks (a disk error, an
 * interrupted copy, a cache from another build). The reader is only
 * reached for a cache whose recorded source sizes and mtimes match the JSON
 * files, so the harness takes those records from the input itself: the
 * fuzzer then exercises the payload checks, not just the staleness test. */
#include "fuzz_util.h"

#include "data/digits_cache.h"

/* Layout (digits_cache.c): 8-byte magic, six u32, then per source file u64
 * size, i64 mtime seconds, i64 mtime nanoseconds. */
#define SOURCES_AT 32
#define SOURCE_BYTES 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = fz_path("digits.cache");
    fz_write(path, data, size);
    fl_digits_source src[FL_DIGITS_FILES];
    memset(src, 0, sizeof src);
    for (int i = 0; i < FL_DIGITS_FILES; i++) {
        size_t at = SOURCES_AT + (size_t)i * SOURCE_BYTES;
        if (at + SOURCE_BYTES > size) break;
        memcpy(&src[i].size, data + at, 8);
        memcpy(&src[i].mtime_sec, data + at + 8, 8);
        memcpy(&src[i].mtime_nsec, data + at + 16, 8);
    }
    fl_images im;
    if (fl_digits_cache_read(path, src, &im) != 0) {
        if (im.x || im.label || im.n) abort(); /* a refusal hands nothing back */
        return 0;
    }
    if (im.n < 1 || im.rows != 28 || im.cols != 28) abort();
    for (int i = 0; i < im.n; i++)
        if (im.label[i] < 0 || im.label[i] > 9) abort();
    volatile float last = im.x[(size_t)im.n * 28 * 28 - 1];
    (void)last;
    fl_images_free(&im);
    return 0;
}
