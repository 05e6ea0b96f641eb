/* idx.c: the IDX format of (Fashion-)MNIST, read through zlib so gzip and
 * plain files both work. A file is accepted only if it is exactly what its
 * header promises: a truncated download or a concatenation of two files must
 * not turn into a silently smaller or shifted dataset. */
#include "forgetlab/data/data.h"

#include "forgetlab/core/error.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u /* unsigned bytes, 3 dimensions */
#define IDX_MAGIC_LABELS 0x00000801u /* unsigned bytes, 1 dimension */
#define IDX_MAX_SIDE 1024u
#define IDX_MAX_ITEMS 10000000u
/* Consumers index with int, so a file must fit in INT_MAX values. */
#define IDX_MAX_VALUES ((uint64_t)INT_MAX)
#define IDX_CHUNK ((size_t)1 << 16)

typedef struct {
    gzFile gz;
    const char *path;
} idx_file;

static int idx_open(idx_file *f, const char *path) {
    f->path = path;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return fl_error_set("%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(f->gz, 256 * 1024);
    return 0;
}

static void idx_close(idx_file *f) {
    if (f->gz) gzclose_r(f->gz);
    f->gz = NULL;
}

/* zlib's message, without the "path: " it puts in front. */
static const char *gz_message(idx_file *f, int *err) {
    const char *msg = gzerror(f->gz, err);
    size_t n = strlen(f->path);
    if (strncmp(msg, f->path, n) == 0 && strncmp(msg + n, ": ", 2) == 0) msg += n + 2;
    return msg;
}

/* After a short read, tells a damaged gzip stream apart from a file that
 * simply ends too early. */
static int idx_read_failed(idx_file *f, const char *what) {
    int err = Z_OK;
    const char *msg = gz_message(f, &err);
    if (err == Z_ERRNO) return fl_error_set("%s: read failed: %s", f->path, strerror(errno));
    if (err != Z_OK && err != Z_BUF_ERROR) return fl_error_set("%s: gzip error: %s", f->path, msg);
    if (err == Z_BUF_ERROR) return fl_error_set("%s: gzip stream cut short (%s)", f->path, what);
    return fl_error_set("%s: truncated (%s)", f->path, what);
}

/* Reads at most n bytes; *got tells how many came. Fails only on an error,
 * never on end of file. */
static int idx_read_some(idx_file *f, void *buf, size_t n, size_t *got, const char *what) {
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        if (want > IDX_CHUNK) want = IDX_CHUNK;
        int r = gzread(f->gz, (unsigned char *)buf + *got, (unsigned)want);
        if (r < 0) return idx_read_failed(f, what);
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 0;
}

static int idx_read_exact(idx_file *f, void *buf, size_t n, const char *what) {
    size_t got;
    if (idx_read_some(f, buf, n, &got, what)) return -1;
    return got == n ? 0 : idx_read_failed(f, what);
}

/* The last data byte is not the end of the file: the gzip trailer (CRC and
 * length) is only checked when the stream is read past it. */
static int idx_expect_end(idx_file *f) {
    unsigned char extra[64];
    int r = gzread(f->gz, extra, sizeof extra);
    if (r < 0) return idx_read_failed(f, "after the data");
    int err = Z_OK;
    const char *msg = gz_message(f, &err);
    if (err != Z_OK) return fl_error_set("%s: gzip error after the data: %s", f->path, msg);
    if (r > 0)
        return fl_error_set("%s: unexpected bytes after the data (more than its header's sizes)",
                            f->path);
    return 0;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Opens path and reads its header: the magic, then ndims big-endian sizes
 * (item count first, then rows and columns), which must be plausible before
 * anything is allocated for them. */
static int idx_open_header(idx_file *f, const char *path, uint32_t magic, const char *kind,
                           int ndims, uint32_t *dims, size_t *total) {
    if (idx_open(f, path)) return -1;
    /* The magic is checked before the sizes are read, so a file of the
     * other kind is named as such rather than as a short header. */
    unsigned char h[16];
    if (idx_read_exact(f, h, 4, "in the magic number")) goto fail;
    uint32_t m = be32(h);
    if (m != magic) {
        fl_error_set("%s: bad magic 0x%08x (expected 0x%08x, %s)", path, m, magic, kind);
        goto fail;
    }
    if (idx_read_exact(f, h + 4, 4 * (size_t)ndims, "in the header")) goto fail;
    static const char *names[3] = {"item count", "rows", "columns"};
    uint64_t values = 1;
    for (int i = 0; i < ndims; i++) {
        dims[i] = be32(h + 4 + 4 * i);
        uint32_t max = i == 0 ? IDX_MAX_ITEMS : IDX_MAX_SIDE;
        if (dims[i] == 0 || dims[i] > max) {
            fl_error_set("%s: implausible %s %u in the header (expected 1..%u)", path, names[i],
                         dims[i], max);
            goto fail;
        }
        values *= dims[i]; /* at most 1e7 * 1024 * 1024: no overflow */
    }
    if (values > IDX_MAX_VALUES) {
        fl_error_set("%s: too large (%llu values, at most %llu)", path, (unsigned long long)values,
                     (unsigned long long)IDX_MAX_VALUES);
        goto fail;
    }
    *total = (size_t)values;
    return 0;
fail:
    idx_close(f);
    return -1;
}

typedef void (*idx_convert)(void *dst, const unsigned char *src, size_t n);

static void to_pixels(void *dst, const unsigned char *src, size_t n) {
    float *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = (float)src[i] / 255.0f;
}

static void to_labels(void *dst, const unsigned char *src, size_t n) {
    int *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = src[i];
}

/* Reads the total bytes of data that follow the header into total elements
 * of elsize bytes (through conv), then insists the file ends there. The
 * bytes are read in blocks allocated as the data arrives, so a header that
 * claims a huge size cannot make us allocate it before the data proves it;
 * only then is the output allocated, once, and converted into. Blocks, not
 * a buffer grown by realloc: a realloc copies into fresh pages, and the
 * page faults of a 188 MB dataset cost more than reading it. */
static int idx_read_body(idx_file *f, size_t total, size_t elsize, idx_convert conv, void **out) {
    const size_t block = (size_t)8 << 20;
    const size_t nblocks = (total + block - 1) / block;
    unsigned char **blocks = fl_calloc(nblocks ? nblocks : 1, sizeof *blocks, f->path), *buf = NULL;
    size_t len = 0, k = 0; /* k: blocks read */
    int rc = -1;
    if (!blocks) return -1;
    for (; len < total; k++) {
        const size_t want = total - len < block ? total - len : block;
        size_t got;
        if (!(blocks[k] = fl_malloc(want, f->path))) goto out;
        fl_advise_huge(blocks[k], want);
        if (idx_read_some(f, blocks[k], want, &got, "in the data")) goto out;
        len += got;
        if (got < want) {
            char what[96];
            snprintf(what, sizeof what, "%zu of %zu data bytes", len, total);
            idx_read_failed(f, what);
            goto out;
        }
    }
    if (idx_expect_end(f) || !(buf = fl_malloc(total * elsize, f->path))) goto out;
    fl_advise_huge(buf, total * elsize);
    for (size_t i = 0; i < k; i++) conv(buf + i * block * elsize, blocks[i], i + 1 < k ? block : total - i * block);
    *out = buf;
    rc = 0;
out:
    for (size_t i = 0; i < nblocks; i++) free(blocks[i]);
    free(blocks);
    return rc;
}

/* A whole IDX file of the given magic: its ndims sizes into dims, its data
 * converted through conv into *out (malloc'ed, elsize bytes a value). */
static int idx_read_file(const char *path, uint32_t magic, const char *kind, int ndims, uint32_t *dims,
                         size_t elsize, idx_convert conv, void **out) {
    idx_file f;
    size_t total;
    if (idx_open_header(&f, path, magic, kind, ndims, dims, &total)) return -1;
    int rc = idx_read_body(&f, total, elsize, conv, out);
    idx_close(&f);
    return rc;
}

int fl_idx_read_images(const char *path, float **x, int *n, int *rows, int *cols) {
    *x = NULL;
    *n = *rows = *cols = 0;
    uint32_t dims[3];
    void *px = NULL;
    if (idx_read_file(path, IDX_MAGIC_IMAGES, "idx3 images", 3, dims, sizeof(float), to_pixels, &px)) return -1;
    *x = px;
    *n = (int)dims[0];
    *rows = (int)dims[1];
    *cols = (int)dims[2];
    return 0;
}

int fl_idx_read_labels(const char *path, int **labels, int *n) {
    *labels = NULL;
    *n = 0;
    uint32_t dims[1];
    void *lab = NULL;
    if (idx_read_file(path, IDX_MAGIC_LABELS, "idx1 labels", 1, dims, sizeof(int), to_labels, &lab)) return -1;
    *labels = lab;
    *n = (int)dims[0];
    return 0;
}
