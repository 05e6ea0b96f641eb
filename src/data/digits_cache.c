/* digits_cache.c: the digits.cache file beside the MNIST JSON. Parsing the
 * 20 MB of JSON takes about a second; reading this file takes milliseconds.
 *
 * Layout, in the machine's byte order (a byte-order mark makes a cache from
 * another machine look stale, and it is then rebuilt):
 *   "FLDIGITS", u32 byte-order mark, u32 version, u32 n, u32 rows, u32 cols,
 *   u32 CRC-32 of the payload, then per source file u64 size, i64 mtime
 *   seconds, i64 mtime nanoseconds;
 *   payload: n int32 labels, then n*rows*cols float32 pixels. */
#include "digits_cache.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CACHE_MAGIC "FLDIGITS"
#define CACHE_BOM 0x01020304u
#define CACHE_VERSION 1u
#define CACHE_SIDE 28u
#define CACHE_MAX_N 10000000u
#define CACHE_SOURCE_BYTES 24
#define CACHE_HEADER_BYTES (8 + 6 * 4 + FL_DIGITS_FILES * CACHE_SOURCE_BYTES)

_Static_assert(sizeof(int) == 4 && sizeof(float) == 4, "the cache stores int32 and float32");

int fl_digits_source_stat(const char *path, fl_digits_source *src) {
    struct stat st;
    if (stat(path, &st) != 0) return fl_error_set("%s: cannot open: %s", path, strerror(errno));
    src->size = (uint64_t)st.st_size;
    src->mtime_sec = (int64_t)st.st_mtim.tv_sec;
    src->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
    return 0;
}

typedef struct {
    uint32_t bom, version, n, rows, cols, crc;
    fl_digits_source src[FL_DIGITS_FILES];
} cache_header;

static void encode_header(const cache_header *h, unsigned char *b) {
    unsigned char *p = b;
    memcpy(p, CACHE_MAGIC, 8), p += 8;
    const uint32_t u[6] = {h->bom, h->version, h->n, h->rows, h->cols, h->crc};
    memcpy(p, u, sizeof u), p += sizeof u;
    for (int i = 0; i < FL_DIGITS_FILES; i++) {
        memcpy(p, &h->src[i].size, 8);
        memcpy(p + 8, &h->src[i].mtime_sec, 8);
        memcpy(p + 16, &h->src[i].mtime_nsec, 8);
        p += CACHE_SOURCE_BYTES;
    }
}

/* Returns -1 when b is not a cache header at all. */
static int decode_header(const unsigned char *b, cache_header *h) {
    if (memcmp(b, CACHE_MAGIC, 8) != 0) return -1;
    const unsigned char *p = b + 8;
    uint32_t u[6];
    memcpy(u, p, sizeof u), p += sizeof u;
    h->bom = u[0], h->version = u[1], h->n = u[2], h->rows = u[3], h->cols = u[4], h->crc = u[5];
    for (int i = 0; i < FL_DIGITS_FILES; i++) {
        memcpy(&h->src[i].size, p, 8);
        memcpy(&h->src[i].mtime_sec, p + 8, 8);
        memcpy(&h->src[i].mtime_nsec, p + 16, 8);
        p += CACHE_SOURCE_BYTES;
    }
    return 0;
}

static int same_sources(const fl_digits_source *a, const fl_digits_source *b) {
    for (int i = 0; i < FL_DIGITS_FILES; i++)
        if (a[i].size != b[i].size || a[i].mtime_sec != b[i].mtime_sec ||
            a[i].mtime_nsec != b[i].mtime_nsec)
            return 0;
    return 1;
}

static uint32_t payload_crc(const fl_images *im) {
    size_t npx = (size_t)im->n * (size_t)im->rows * (size_t)im->cols;
    uLong c = crc32_z(0L, Z_NULL, 0);
    c = crc32_z(c, (const Bytef *)im->label, (size_t)im->n * sizeof(int));
    c = crc32_z(c, (const Bytef *)im->x, npx * sizeof(float));
    return (uint32_t)c;
}

/* The header is checked against the file's real size before anything is
 * allocated, so a damaged count cannot request gigabytes. */
static int read_payload(FILE *fp, const cache_header *h, fl_images *out) {
    struct stat st;
    size_t npx = (size_t)h->n * CACHE_SIDE * CACHE_SIDE;
    size_t want = CACHE_HEADER_BYTES + (size_t)h->n * sizeof(int) + npx * sizeof(float);
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != want)
        return -1;
    out->n = (int)h->n;
    out->rows = out->cols = CACHE_SIDE;
    out->label = malloc((size_t)h->n * sizeof(int));
    out->x = malloc(npx * sizeof(float));
    if (!out->label || !out->x) return -1;
    fl_advise_huge(out->x, npx * sizeof(float));
    if (fread(out->label, sizeof(int), h->n, fp) != h->n) return -1;
    if (fread(out->x, sizeof(float), npx, fp) != npx) return -1;
    if (fgetc(fp) != EOF) return -1;
    if (payload_crc(out) != h->crc) return -1;
    /* Labels are written in file order, one digit file after another. */
    for (int i = 0; i < out->n; i++)
        if (out->label[i] < 0 || out->label[i] > 9 || (i && out->label[i] < out->label[i - 1]))
            return -1;
    return 0;
}

int fl_digits_cache_read(const char *path, const fl_digits_source src[FL_DIGITS_FILES],
                         fl_images *out) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    unsigned char b[CACHE_HEADER_BYTES];
    cache_header h;
    int rc = -1;
    if (fread(b, 1, sizeof b, fp) == sizeof b && decode_header(b, &h) == 0 &&
        h.bom == CACHE_BOM && h.version == CACHE_VERSION && h.rows == CACHE_SIDE &&
        h.cols == CACHE_SIDE && h.n > 0 && h.n <= CACHE_MAX_N && same_sources(h.src, src))
        rc = read_payload(fp, &h, out);
    fclose(fp);
    if (rc) fl_images_free(out);
    return rc;
}

int fl_digits_cache_write(const char *path, const fl_digits_source src[FL_DIGITS_FILES],
                          const fl_images *im) {
    if (im->n <= 0 || (unsigned)im->n > CACHE_MAX_N || im->rows != (int)CACHE_SIDE ||
        im->cols != (int)CACHE_SIDE)
        return fl_error_set("%s: cannot cache %d images of %dx%d", path, im->n, im->rows, im->cols);
    cache_header h = {CACHE_BOM, CACHE_VERSION, (uint32_t)im->n, CACHE_SIDE, CACHE_SIDE,
                      payload_crc(im), {{0}}};
    memcpy(h.src, src, sizeof h.src);
    unsigned char b[CACHE_HEADER_BYTES];
    encode_header(&h, b);
    size_t npx = (size_t)im->n * CACHE_SIDE * CACHE_SIDE;
    fl_afile f;
    if (fl_afile_open(&f, path)) return -1;
    if (fl_afile_write(&f, b, sizeof b) ||
        fl_afile_write(&f, im->label, (size_t)im->n * sizeof(int)) ||
        fl_afile_write(&f, im->x, npx * sizeof(float))) {
        fl_afile_abort(&f);
        return -1;
    }
    return fl_afile_commit(&f);
}
