/* data_fixtures.h: small datasets written on the fly for the data tests,
 * into the scratch directories of testutil.h: IDX files (plain or gzip) and
 * MNIST-style digit JSON files whose pixels encode which image they are, so
 * a test can tell where every loaded image came from. Header-only because
 * each test is its own executable; everything is static inline so unused
 * helpers do not warn. */
#ifndef FORGETLAB_TEST_DATA_FIXTURES_H
#define FORGETLAB_TEST_DATA_FIXTURES_H

#include "testutil.h"

#include <stdint.h>
#include <zlib.h>

/* dir/name, malloc'ed (the caller frees). */
static inline char *fx_path(const char *dir, const char *name) { return fl_path_join(dir, name); }

/* A gzip stream (as gzip(1) writes it) of data, malloc'ed. */
static inline unsigned char *fx_gzip(const void *data, size_t n, size_t *out_n) {
    *out_n = 0;
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&s, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    s.next_in = (Bytef *)data;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)cap;
    int rc = out ? deflate(&s, Z_FINISH) : Z_MEM_ERROR;
    *out_n = cap - s.avail_out;
    deflateEnd(&s);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* An IDX file in memory: big-endian magic, ndims sizes, then the bytes. */
static inline unsigned char *fx_idx_bytes(uint32_t magic, int ndims, const uint32_t *dims,
                                          const unsigned char *data, size_t ndata, size_t *out_n) {
    size_t n = 4 + 4 * (size_t)ndims + ndata;
    unsigned char *b = malloc(n ? n : 1);
    if (!b) return NULL;
    for (int i = 0; i <= ndims; i++) {
        uint32_t v = i == 0 ? magic : dims[i - 1];
        b[4 * i] = (unsigned char)(v >> 24);
        b[4 * i + 1] = (unsigned char)(v >> 16);
        b[4 * i + 2] = (unsigned char)(v >> 8);
        b[4 * i + 3] = (unsigned char)v;
    }
    if (ndata) memcpy(b + 4 + 4 * ndims, data, ndata);
    *out_n = n;
    return b;
}

/* Writes an IDX file, gzip-compressed when gz. */
static inline int fx_write_idx(const char *path, int gz, uint32_t magic, int ndims,
                               const uint32_t *dims, const unsigned char *data, size_t ndata) {
    size_t n, zn;
    unsigned char *b = fx_idx_bytes(magic, ndims, dims, data, ndata, &n);
    if (!b) return -1;
    int rc;
    if (gz) {
        unsigned char *z = fx_gzip(b, n, &zn);
        rc = z ? tu_write_file(path, z, zn) : -1;
        free(z);
    } else {
        rc = tu_write_file(path, b, n);
    }
    free(b);
    return rc;
}

/* Image i of a fixture set: byte p is (seed + 7 i + p) mod 256. */
static inline unsigned char fx_pixel_byte(int seed, int i, int p) {
    return (unsigned char)((seed + 7 * i + p) % 256);
}

/* DIR/fashion-mnist/PREFIX-{images-idx3,labels-idx1}-ubyte.gz with n gzip'ed
 * images of rows x cols (fx_pixel_byte with seed) and labels i % 10 (or
 * bad_label at index 0 when bad_label >= 0), nlabels of them. */
static inline int fx_fashion_split(const char *dir, const char *prefix, int n, int nlabels,
                                   int rows, int cols, int seed, int bad_label) {
    char name[128];
    char *sub = fx_path(dir, "fashion-mnist");
    int rc = fl_mkdirs(sub);
    size_t np = (size_t)n * rows * cols;
    unsigned char *px = malloc(np ? np : 1), *lab = malloc(nlabels ? (size_t)nlabels : 1);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < rows * cols; p++)
            px[(size_t)i * rows * cols + p] = fx_pixel_byte(seed, i, p);
    for (int i = 0; i < nlabels; i++) lab[i] = (unsigned char)(i % 10);
    if (bad_label >= 0 && nlabels > 0) lab[0] = (unsigned char)bad_label;
    uint32_t idims[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    uint32_t ldims[1] = {(uint32_t)nlabels};
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", prefix);
    char *ipath = fx_path(sub, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", prefix);
    char *lpath = fx_path(sub, name);
    if (rc == 0) rc = fx_write_idx(ipath, 1, 0x803, 3, idims, px, np);
    if (rc == 0) rc = fx_write_idx(lpath, 1, 0x801, 1, ldims, lab, (size_t)nlabels);
    free(ipath);
    free(lpath);
    free(px);
    free(lab);
    free(sub);
    return rc;
}

/* MNIST fixture pixel p of image i of digit d: dyadic fractions, exact in
 * float and in "%.17g", with pixel 0 = i/256 and pixel 1 = d/16 naming the
 * image. */
static inline float fx_digit_pixel(int d, int i, int p) {
    if (p == 0) return (float)i / 256.0f;
    if (p == 1) return (float)d / 16.0f;
    return (float)((d + 3 * i + p) % 9) / 8.0f;
}

/* Writes DIR/mnist/D.json holding n images of digit d. */
static inline int fx_digit_json(const char *dir, int d, int n) {
    char name[64];
    snprintf(name, sizeof name, "mnist/%d.json", d);
    char *path = fx_path(dir, name);
    FILE *fp = path ? fopen(path, "wb") : NULL;
    free(path);
    if (!fp) return -1;
    fputs("{ \"data\": [", fp);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 784; p++)
            fprintf(fp, "%s%.17g", i || p ? "," : "", (double)fx_digit_pixel(d, i, p));
    fputs("] }\n", fp);
    return fclose(fp) == 0 ? 0 : -1;
}

/* DIR/mnist/{0..9}.json with count[d] images of digit d. */
static inline int fx_mnist_dir(const char *dir, const int count[10]) {
    char *sub = fx_path(dir, "mnist");
    int rc = fl_mkdirs(sub);
    free(sub);
    for (int d = 0; d < 10 && rc == 0; d++) rc = fx_digit_json(dir, d, count[d]);
    return rc;
}

#endif
