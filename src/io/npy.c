/* npy.c: NumPy .npy files of float32 ('<f4', C order), so arrays written
 * here open with numpy.load() and arrays from NumPy can be read back.
 *
 * The data is written and read as raw host floats: the format asks for
 * little-endian, and forgetlab only builds on little-endian hosts. */
#include "forgetlab/io/npy.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c writes host floats as little-endian '<f4'"
#endif

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
/* Version 2/3 headers may exceed 64 KiB; nothing sane needs more than this. */
#define NPY_MAX_HEADER (1u << 20)

/* Product of the dimensions, or -1 if a dimension is negative or the product
 * overflows int64. */
static int64_t numel_of(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return -1;
        if (shape[d] != 0 && n > INT64_MAX / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

/* A 4-byte element array of dtype descr ('<f4', '<i4'). */
static int write_array(const char *path, const void *data, const char *descr, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > FL_NPY_MAX_DIMS)
        return fl_error_set("%s: cannot write a %d-dimensional array (0 to %d)", path, ndim,
                            FL_NPY_MAX_DIMS);
    int64_t numel = numel_of(ndim, shape);
    if (numel < 0 || (uint64_t)numel > SIZE_MAX / sizeof(float))
        return fl_error_set("%s: invalid array shape", path);
    if (numel > 0 && !data) return fl_error_set("%s: no data to write", path);

    /* Preamble (10 bytes) + dict + padding + '\n', a multiple of 64 bytes so
     * the data that follows is aligned for memory mapping. */
    char hdr[512];
    int len = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < ndim; d++)
        len += snprintf(hdr + 10 + len, sizeof hdr - 10 - (size_t)len, "%lld,%s",
                        (long long)shape[d], ndim == 1 ? "" : " ");
    if (ndim > 1) len -= 2; /* Python writes (2, 3), but (3,) for one dimension */
    len += snprintf(hdr + 10 + len, sizeof hdr - 10 - (size_t)len, "), }");
    size_t total = 10 + (size_t)len + 1;
    total = (total + 63) / 64 * 64;
    memset(hdr + 10 + len, ' ', total - 10 - (size_t)len);
    hdr[total - 1] = '\n';
    memcpy(hdr, MAGIC, 6);
    hdr[6] = 1;
    hdr[7] = 0;
    size_t hlen = total - 10;
    hdr[8] = (char)(hlen & 0xff);
    hdr[9] = (char)(hlen >> 8);

    fl_afile f;
    if (fl_afile_open(&f, path)) return -1;
    if (fl_afile_write(&f, hdr, total) ||
        fl_afile_write(&f, data, (size_t)numel * sizeof(float))) {
        fl_afile_abort(&f);
        return -1;
    }
    return fl_afile_commit(&f);
}

int fl_npy_write(const char *path, const float *data, int ndim, const int64_t *shape) {
    return write_array(path, data, "<f4", ndim, shape);
}

int fl_npy_write_ints(const char *path, const int32_t *data, int64_t n) {
    return write_array(path, data, "<i4", 1, &n);
}

/* ---- reading: a parser for the one Python dict literal .npy headers use */

typedef struct {
    const char *s, *end;
    const char *path;
} cursor;

static void skip_ws(cursor *c) {
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
        c->s++;
}

static int expect(cursor *c, char ch) {
    skip_ws(c);
    if (c->s >= c->end || *c->s != ch)
        return fl_error_set("%s: malformed header: expected '%c'", c->path, ch);
    c->s++;
    return 0;
}

/* A '...' or "..." literal without escapes (none of the keys or dtypes we
 * accept contain any), copied into out. */
static int parse_string(cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"'))
        return fl_error_set("%s: malformed header: expected a string", c->path);
    char q = *c->s++;
    size_t n = 0;
    while (c->s < c->end && *c->s != q) {
        if (*c->s == '\\' || n + 1 >= cap)
            return fl_error_set("%s: malformed header: unexpected string", c->path);
        out[n++] = *c->s++;
    }
    if (c->s >= c->end) return fl_error_set("%s: malformed header: unterminated string", c->path);
    c->s++;
    out[n] = '\0';
    return 0;
}

static int parse_bool(cursor *c, int *out) {
    skip_ws(c);
    size_t left = (size_t)(c->end - c->s);
    if (left >= 4 && memcmp(c->s, "True", 4) == 0) {
        c->s += 4;
        *out = 1;
        return 0;
    }
    if (left >= 5 && memcmp(c->s, "False", 5) == 0) {
        c->s += 5;
        *out = 0;
        return 0;
    }
    return fl_error_set("%s: malformed header: fortran_order must be True or False", c->path);
}

/* A tuple of non-negative integers: (), (n,), (n, m), ... */
static int parse_shape(cursor *c, int *ndim, int64_t *shape) {
    if (expect(c, '(')) return -1;
    *ndim = 0;
    for (;;) {
        skip_ws(c);
        if (c->s < c->end && *c->s == ')') break;
        if (c->s >= c->end || *c->s < '0' || *c->s > '9')
            return fl_error_set("%s: malformed header: shape must be a tuple of non-negative integers",
                                c->path);
        int64_t v = 0;
        while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
            int digit = *c->s++ - '0';
            if (v > (INT64_MAX - digit) / 10)
                return fl_error_set("%s: shape dimension too large", c->path);
            v = v * 10 + digit;
        }
        if (c->s < c->end && *c->s == 'L') c->s++; /* Python 2 long literal */
        if (*ndim >= FL_NPY_MAX_DIMS)
            return fl_error_set("%s: array has more than %d dimensions", c->path, FL_NPY_MAX_DIMS);
        shape[(*ndim)++] = v;
        skip_ws(c);
        if (c->s < c->end && *c->s == ',') {
            c->s++;
            continue;
        }
        skip_ws(c);
        if (c->s >= c->end || *c->s != ')')
            return fl_error_set("%s: malformed header: bad shape tuple", c->path);
        /* (n) is not a tuple in Python: a one-element tuple needs its comma. */
        if (*ndim == 1) return fl_error_set("%s: malformed header: bad shape tuple", c->path);
        break;
    }
    c->s++;
    return 0;
}

static int parse_header(const char *path, const char *h, size_t n, int *ndim, int64_t *shape, char *dtype) {
    cursor c = {h, h + n, path};
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    char descr[32];
    if (expect(&c, '{')) return -1;
    for (;;) {
        skip_ws(&c);
        if (c.s < c.end && *c.s == '}') break;
        char key[32];
        if (parse_string(&c, key, sizeof key) || expect(&c, ':')) return -1;
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (parse_string(&c, descr, sizeof descr))
                return fl_error_set("%s: unsupported dtype (only '<f4' is read)", path);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if (parse_bool(&c, &fortran)) return -1;
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (parse_shape(&c, ndim, shape)) return -1;
            have_shape = 1;
        } else {
            return fl_error_set("%s: malformed header: unexpected or repeated key '%s'", path, key);
        }
        skip_ws(&c);
        if (c.s < c.end && *c.s == ',') {
            c.s++;
            continue;
        }
        if (c.s >= c.end || *c.s != '}')
            return fl_error_set("%s: malformed header: expected ',' or '}'", path);
        break;
    }
    c.s++;
    skip_ws(&c);
    if (c.s != c.end) return fl_error_set("%s: malformed header: text after the dict", path);
    if (!have_descr || !have_order || !have_shape)
        return fl_error_set("%s: malformed header: needs 'descr', 'fortran_order' and 'shape'", path);
    snprintf(dtype, 32, "%s", descr);
    if (fortran)
        return fl_error_set("%s: Fortran-order arrays are not supported (save with C order)", path);
    return 0;
}

/* The size of an element of the dtypes read: '<f4', and for integer
 * arrays '<i4' and '<i8'; 0 for any other. */
static size_t dtype_size(const char *d) {
    return strcmp(d, "<f4") == 0 || strcmp(d, "<i4") == 0 ? 4 : strcmp(d, "<i8") == 0 ? 8 : 0;
}

/* The preamble of fp (size bytes): the magic, the format version and the
 * header's length (*hlen), which must fit the file; *start: where the
 * header begins. */
static int read_preamble(const char *path, FILE *fp, uint64_t size, uint64_t *hlen, uint64_t *start) {
    unsigned char pre[12];
    if (size < 10 || fread(pre, 1, 10, fp) != 10)
        return fl_error_set("%s: truncated (%llu bytes, too short for a .npy preamble)", path, (unsigned long long)size);
    if (memcmp(pre, MAGIC, 6) != 0) return fl_error_set("%s: not a .npy file (bad magic)", path);
    if (pre[6] == 1 && pre[7] == 0) {
        *hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
        *start = 10;
    } else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0) {
        if (size < 12 || fread(pre + 10, 1, 2, fp) != 2) return fl_error_set("%s: truncated .npy preamble", path);
        *hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        *start = 12;
    } else {
        return fl_error_set("%s: unsupported .npy format version %d.%d", path, pre[6], pre[7]);
    }
    if (*hlen > size - *start)
        return fl_error_set("%s: header length %llu exceeds file size %llu", path, (unsigned long long)*hlen,
                            (unsigned long long)size);
    if (*hlen > NPY_MAX_HEADER)
        return fl_error_set("%s: header length %llu is implausibly large", path, (unsigned long long)*hlen);
    return 0;
}

/* The header (hlen bytes at fp's position): its shape and dtype, which
 * must be one of `allowed` (a space-separated list). */
static int read_header(const char *path, FILE *fp, uint64_t hlen, const char *allowed, int *nd, int64_t *shp,
                       char *dtype) {
    char *hdr = fl_malloc((size_t)hlen, "npy header");
    if (!hdr) return -1;
    int rc = fread(hdr, 1, (size_t)hlen, fp) != hlen ? fl_error_set("%s: truncated header", path)
                                                     : parse_header(path, hdr, (size_t)hlen, nd, shp, dtype);
    free(hdr);
    if (rc) return -1;
    char want[64], key[40];
    snprintf(want, sizeof want, " %s ", allowed);
    snprintf(key, sizeof key, " %s ", dtype);
    if (!strstr(want, key)) return fl_error_set("%s: dtype '%s' is not supported (expected %s)", path, dtype, allowed);
    return 0;
}

/* Reads path's header and data (raw, dtype's elements) after checking the
 * dtype is one of `allowed` (a space-separated list). */
static int read_raw(const char *path, const char *allowed, void **data, int *ndim, int64_t *shape, char *dtype) {
    *data = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return fl_error_set("%s: cannot open: %s", path, strerror(errno));
    void *buf = NULL;
    int rc = -1, nd = 0;
    int64_t shp[FL_NPY_MAX_DIMS], numel;
    uint64_t size, hlen = 0, start = 0, have;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fl_error_set("%s: not a regular file", path);
        goto out;
    }
    size = (uint64_t)st.st_size;
    if (read_preamble(path, fp, size, &hlen, &start) || read_header(path, fp, hlen, allowed, &nd, shp, dtype)) goto out;
    const size_t es = dtype_size(dtype);
    numel = numel_of(nd, shp);
    if (numel < 0) {
        fl_error_set("%s: shape has too many elements", path);
        goto out;
    }
    have = size - start - hlen;
    if (have % es != 0 || have / es != (uint64_t)numel) {
        fl_error_set("%s: shape needs %lld %s but the file holds %llu data bytes", path, (long long)numel,
                     strcmp(dtype, "<f4") == 0 ? "floats" : "integers", (unsigned long long)have);
        goto out;
    }
    /* Only now is the size known to be backed by the file. */
    buf = fl_malloc(have ? (size_t)have : 1, "npy data");
    if (!buf) goto out;
    if (fread(buf, 1, (size_t)have, fp) != have) {
        free(buf);
        fl_error_set("%s: truncated data (file changed while reading?)", path);
        goto out;
    }
    *data = buf;
    *ndim = nd;
    for (int d = 0; d < nd; d++) shape[d] = shp[d];
    rc = 0;
out:
    fclose(fp);
    return rc;
}

int fl_npy_read(const char *path, float **data, int *ndim, int64_t *shape) {
    char dtype[32];
    return read_raw(path, "<f4", (void **)data, ndim, shape, dtype);
}

int fl_npy_read_ints(const char *path, int **data, int64_t *n) {
    void *raw = NULL;
    int ndim = 0;
    int64_t shape[FL_NPY_MAX_DIMS];
    char dtype[32];
    *data = NULL;
    if (read_raw(path, "<i8 <i4 <f4", &raw, &ndim, shape, dtype)) return -1;
    if (ndim != 1) {
        free(raw);
        return fl_error_set("%s: %d dimensions, expected one (a label per example)", path, ndim);
    }
    int *out = malloc(sizeof(int) * (size_t)(shape[0] > 0 ? shape[0] : 1));
    if (!out) {
        free(raw);
        return fl_error_set("%s: out of memory", path);
    }
    for (int64_t i = 0; i < shape[0]; i++) {
        double v = strcmp(dtype, "<i8") == 0   ? (double)((const int64_t *)raw)[i]
                   : strcmp(dtype, "<i4") == 0 ? (double)((const int32_t *)raw)[i]
                                               : (double)((const float *)raw)[i];
        if (!(v >= 0 && v <= 2147483647.0 && v == (double)(int64_t)v)) {
            free(raw), free(out);
            return fl_error_set("%s: element %lld is %g, not a label (a non-negative integer)", path, (long long)i, v);
        }
        out[i] = (int)v;
    }
    free(raw);
    *data = out, *n = shape[0];
    return 0;
}
