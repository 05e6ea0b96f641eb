/* safetensors.c: F32 tensors in the Hugging Face safetensors format, the
 * weights file a PyTorch user loads with safetensors.torch.load_file().
 *
 * The reader trusts nothing in the file: it checks the header against the
 * file size and every tensor's offsets against its shape and the other
 * tensors before it allocates anything, so a truncated or hostile file costs
 * an error message, not memory. Tensor bytes are copied as host floats, which
 * the format requires to be little-endian; forgetlab only builds on
 * little-endian hosts. */
#include "forgetlab/io/safetensors.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies host floats as little-endian F32"
#endif

/* The reference implementation's limit on the header. */
#define ST_MAX_HEADER 100000000ull
#define META_KEY "__metadata__"

/* Integers go into the JSON as raw text: cJSON would print large ones as
 * doubles in exponent form, which strict parsers reject. */
static cJSON *json_int(int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return cJSON_CreateRaw(buf);
}

static int check_tensor_for_write(const char *path, const fl_st_tensor *ts, int i,
                                  int64_t *numel) {
    const fl_st_tensor *t = &ts[i];
    if (!t->name || !*t->name) return fl_error_set("%s: tensor %d has no name", path, i);
    if (strcmp(t->name, META_KEY) == 0)
        return fl_error_set("%s: '%s' is reserved and cannot name a tensor", path, META_KEY);
    for (int j = 0; j < i; j++)
        if (strcmp(ts[j].name, t->name) == 0)
            return fl_error_set("%s: tensor name '%s' is used twice", path, t->name);
    if (t->ndim < 0 || t->ndim > FL_ST_MAX_DIMS)
        return fl_error_set("%s: tensor '%s' has %d dimensions (0 to %d)", path, t->name, t->ndim,
                            FL_ST_MAX_DIMS);
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        int64_t s = t->shape[d];
        if (s < 0 || (s != 0 && n > INT64_MAX / 4 / s))
            return fl_error_set("%s: tensor '%s' has an invalid shape", path, t->name);
        n *= s;
    }
    /* numel is optional for writers (0 = take it from the shape), but a
     * stated one that disagrees means the caller mixed up its tensors. */
    if (t->numel != 0 && t->numel != n)
        return fl_error_set("%s: tensor '%s' has numel %lld but its shape holds %lld", path,
                            t->name, (long long)t->numel, (long long)n);
    if (n > 0 && !t->data) return fl_error_set("%s: tensor '%s' has no data", path, t->name);
    *numel = n;
    return 0;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes so the data
 * that follows is aligned, as the reference writer does. */
static char *build_header(const char *path, const fl_st_tensor *ts, int nt,
                          const char *const *keys, const char *const *vals, int nmeta,
                          size_t *len) {
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && nmeta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, META_KEY);
        ok = meta != NULL;
        for (int i = 0; ok && i < nmeta; i++) {
            if (!keys[i] || !vals[i]) {
                cJSON_Delete(root);
                fl_error_set("%s: metadata entry %d is missing its key or value", path, i);
                return NULL;
            }
            if (cJSON_GetObjectItemCaseSensitive(meta, keys[i])) {
                cJSON_Delete(root);
                fl_error_set("%s: metadata key '%s' is used twice", path, keys[i]);
                return NULL;
            }
            ok = cJSON_AddStringToObject(meta, keys[i], vals[i]) != NULL;
        }
    }
    int64_t offset = 0;
    for (int i = 0; ok && i < nt; i++) {
        int64_t numel = 0;
        if (check_tensor_for_write(path, ts, i, &numel)) {
            cJSON_Delete(root);
            return NULL;
        }
        if (offset > INT64_MAX - numel * 4) {
            cJSON_Delete(root);
            fl_error_set("%s: tensors too large for one file", path);
            return NULL;
        }
        cJSON *o = cJSON_AddObjectToObject(root, ts[i].name);
        ok = o && cJSON_AddStringToObject(o, "dtype", "F32");
        cJSON *shape = ok ? cJSON_AddArrayToObject(o, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(o, "data_offsets") : NULL;
        ok = offs != NULL;
        for (int d = 0; ok && d < ts[i].ndim; d++) ok = cJSON_AddItemToArray(shape, json_int(ts[i].shape[d]));
        if (ok) ok = cJSON_AddItemToArray(offs, json_int(offset));
        offset += numel * 4;
        if (ok) ok = cJSON_AddItemToArray(offs, json_int(offset));
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        fl_error_set("%s: out of memory building the header", path);
        return NULL;
    }
    size_t n = strlen(text), padded = (n + 7) / 8 * 8;
    char *out = realloc(text, padded + 1);
    if (!out) {
        free(text);
        fl_error_set("%s: out of memory building the header", path);
        return NULL;
    }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *len = padded;
    return out;
}

int fl_safetensors_write(const char *path, const fl_st_tensor *tensors, int ntensors,
                         const char *const *meta_keys, const char *const *meta_values,
                         int nmeta) {
    if (ntensors < 0 || nmeta < 0 || (ntensors > 0 && !tensors) ||
        (nmeta > 0 && (!meta_keys || !meta_values)))
        return fl_error_set("%s: invalid arguments to the safetensors writer", path);
    size_t hlen;
    char *header = build_header(path, tensors, ntensors, meta_keys, meta_values, nmeta, &hlen);
    if (!header) return -1;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    fl_afile f;
    int rc = fl_afile_open(&f, path);
    if (rc == 0) rc = fl_afile_write(&f, len8, 8);
    if (rc == 0) rc = fl_afile_write(&f, header, hlen);
    for (int i = 0; rc == 0 && i < ntensors; i++) {
        int64_t n = 1;
        for (int d = 0; d < tensors[i].ndim; d++) n *= tensors[i].shape[d];
        rc = fl_afile_write(&f, tensors[i].data, (size_t)n * sizeof(float));
    }
    free(header);
    if (rc != 0) {
        if (f.fp) fl_afile_abort(&f);
        return -1;
    }
    return fl_afile_commit(&f);
}

/* ---- reading */

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[FL_ST_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end;
} entry;

/* A JSON number that is an exact integer in [0, 2^53]. */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > 9007199254740992.0 || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_entry(const char *path, const cJSON *item, uint64_t data_len, entry *e) {
    const char *name = item->string;
    e->name = name;
    if (!cJSON_IsObject(item)) return fl_error_set("%s: tensor '%s' is not a JSON object", path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype))
        return fl_error_set("%s: tensor '%s' has no dtype", path, name);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return fl_error_set("%s: tensor '%s' has dtype %s; only F32 is supported", path, name,
                            dtype->valuestring);
    if (!cJSON_IsArray(shape))
        return fl_error_set("%s: tensor '%s' has no shape array", path, name);
    int nd = cJSON_GetArraySize(shape);
    if (nd > FL_ST_MAX_DIMS)
        return fl_error_set("%s: tensor '%s' has %d dimensions (at most %d)", path, name, nd,
                            FL_ST_MAX_DIMS);
    e->ndim = nd;
    /* The product saturates just above what the data section can hold, so
     * a hostile shape cannot overflow it; any zero dimension still wins. */
    uint64_t numel = 1, max = data_len / 4;
    int d = 0, zero = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t s;
        if (json_uint(dim, &s))
            return fl_error_set("%s: tensor '%s' has a shape entry that is not a non-negative integer",
                                path, name);
        e->shape[d++] = (int64_t)s;
        if (s == 0) zero = 1;
        else numel = numel > max / s ? max + 1 : numel * s;
    }
    if (zero) numel = 0;
    uint64_t b, en;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        json_uint(cJSON_GetArrayItem(offs, 0), &b) || json_uint(cJSON_GetArrayItem(offs, 1), &en))
        return fl_error_set("%s: tensor '%s' needs data_offsets [begin, end] of non-negative integers",
                            path, name);
    if (b > en)
        return fl_error_set("%s: tensor '%s' has data_offsets [%llu, %llu] with begin after end", path,
                            name, (unsigned long long)b, (unsigned long long)en);
    if (en > data_len)
        return fl_error_set("%s: tensor '%s' ends at byte %llu but the data section has %llu bytes "
                            "(truncated file?)",
                            path, name, (unsigned long long)en, (unsigned long long)data_len);
    if (numel > max || en - b != numel * 4)
        return fl_error_set("%s: tensor '%s' has data_offsets [%llu, %llu] (%llu bytes) that do not "
                            "match its shape",
                            path, name, (unsigned long long)b, (unsigned long long)en,
                            (unsigned long long)(en - b));
    e->numel = (int64_t)numel;
    e->begin = b;
    e->end = en;
    return 0;
}

static int by_offset(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* The tensors must tile the data section exactly, as the format requires:
 * no overlap (two tensors sharing bytes) and no holes. Sorts es. */
static int check_layout(const char *path, entry *es, int n, uint64_t data_len) {
    qsort(es, (size_t)n, sizeof *es, by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(es[i - 1].name, es[i].name) == 0)
            return fl_error_set("%s: tensor '%s' appears twice in the header", path, es[i].name);
    qsort(es, (size_t)n, sizeof *es, by_offset);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (es[i].begin < at)
            return fl_error_set("%s: tensors '%s' and '%s' overlap (bytes %llu to %llu)", path,
                                es[i - 1].name, es[i].name, (unsigned long long)es[i].begin,
                                (unsigned long long)at);
        if (es[i].begin > at)
            return fl_error_set("%s: data section has a hole at bytes %llu to %llu", path,
                                (unsigned long long)at, (unsigned long long)es[i].begin);
        at = es[i].end;
    }
    if (at != data_len)
        return fl_error_set("%s: data section has %llu bytes after the last tensor", path,
                            (unsigned long long)(data_len - at));
    return 0;
}

static int read_metadata(const char *path, const cJSON *meta, fl_safetensors *st) {
    if (!cJSON_IsObject(meta)) return fl_error_set("%s: %s is not a JSON object", path, META_KEY);
    int n = cJSON_GetArraySize(meta);
    st->meta_keys = fl_calloc((size_t)n, sizeof(char *), "safetensors metadata");
    st->meta_values = fl_calloc((size_t)n, sizeof(char *), "safetensors metadata");
    if (!st->meta_keys || !st->meta_values) return -1;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, meta) {
        if (!cJSON_IsString(kv))
            return fl_error_set("%s: %s entry '%s' is not a string", path, META_KEY, kv->string);
        st->meta_keys[st->nmeta] = strdup(kv->string);
        st->meta_values[st->nmeta] = strdup(kv->valuestring);
        st->nmeta++;
        if (!st->meta_keys[st->nmeta - 1] || !st->meta_values[st->nmeta - 1])
            return fl_error_set("%s: out of memory reading metadata", path);
    }
    return 0;
}

static int is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Header checks and the entry table; root and es are freed by the caller. */
static int read_header(const char *path, FILE *fp, uint64_t size, cJSON **root, entry **es,
                       int *nes, uint64_t *data_start) {
    unsigned char len8[8];
    if (size < 8 || fread(len8, 1, 8, fp) != 8)
        return fl_error_set("%s: file too short (%llu bytes) for a safetensors header", path,
                            (unsigned long long)size);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
    if (hlen > size - 8)
        return fl_error_set("%s: not a safetensors file: its first 8 bytes, read as the header's length, give "
                            "%llu, but the file has %llu bytes",
                            path, (unsigned long long)hlen, (unsigned long long)size);
    if (hlen > ST_MAX_HEADER)
        return fl_error_set("%s: header length %llu is larger than the %llu-byte limit", path,
                            (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen < 2) return fl_error_set("%s: header length %llu is too small", path, (unsigned long long)hlen);
    char *text = fl_malloc((size_t)hlen + 1, "safetensors header");
    if (!text) return -1;
    if (fread(text, 1, (size_t)hlen, fp) != hlen) {
        free(text);
        return fl_error_set("%s: truncated header", path);
    }
    text[hlen] = '\0'; /* a guard for the parser; the length still rules */
    if (text[0] != '{') {
        free(text);
        return fl_error_set("%s: not a safetensors file: the header after the 8-byte length does not start with "
                            "'{'", path);
    }
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(text, (size_t)hlen, &end, 0);
    int trailing = 0;
    if (*root)
        for (const char *p = end; p < text + hlen; p++) trailing |= !is_json_space(*p);
    free(text);
    if (!*root || trailing) return fl_error_set("%s: header is not valid JSON", path);
    if (!cJSON_IsObject(*root)) return fl_error_set("%s: header is not a JSON object", path);

    uint64_t data_len = size - 8 - hlen;
    *data_start = 8 + hlen;
    int n = cJSON_GetArraySize(*root);
    *es = fl_calloc((size_t)n, sizeof **es, "safetensors header");
    if (!*es) return -1;
    const cJSON *item;
    int seen_meta = 0;
    cJSON_ArrayForEach(item, *root) {
        if (strcmp(item->string, META_KEY) == 0) {
            if (seen_meta++) return fl_error_set("%s: %s appears twice", path, META_KEY);
            continue;
        }
        if (parse_entry(path, item, data_len, &(*es)[*nes])) return -1;
        (*nes)++;
    }
    return check_layout(path, *es, *nes, data_len);
}

int fl_safetensors_read(const char *path, fl_safetensors *st) {
    memset(st, 0, sizeof *st);
    FILE *fp = fopen(path, "rb");
    if (!fp) return fl_error_set("%s: cannot open: %s", path, strerror(errno));
    cJSON *root = NULL;
    const cJSON *meta = NULL;
    entry *es = NULL;
    int nes = 0, rc = -1;
    uint64_t data_start = 0;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fl_error_set("%s: not a regular file", path);
        goto out;
    }
    if (read_header(path, fp, (uint64_t)sb.st_size, &root, &es, &nes, &data_start)) goto out;
    meta = cJSON_GetObjectItemCaseSensitive(root, META_KEY);
    if (meta && read_metadata(path, meta, st)) goto out;

    /* Everything checks out: the allocations below total the data section,
     * which the file really holds. es is sorted by offset, so reading is one
     * sequential pass. */
    st->tensors = fl_calloc((size_t)nes, sizeof *st->tensors, "safetensors tensors");
    if (!st->tensors) goto out;
    if (fseek(fp, (long)data_start, SEEK_SET) != 0) {
        fl_error_set("%s: seek failed: %s", path, strerror(errno));
        goto out;
    }
    for (int i = 0; i < nes; i++) {
        fl_st_tensor *t = &st->tensors[i];
        st->ntensors++;
        t->name = strdup(es[i].name);
        t->ndim = es[i].ndim;
        memcpy(t->shape, es[i].shape, sizeof t->shape);
        t->numel = es[i].numel;
        size_t bytes = (size_t)(es[i].end - es[i].begin);
        t->data = fl_malloc(bytes, "tensor data");
        if (!t->name || !t->data) {
            fl_error_set("%s: out of memory for tensor '%s'", path, es[i].name);
            goto out;
        }
        if (fread(t->data, 1, bytes, fp) != bytes) {
            fl_error_set("%s: truncated data in tensor '%s' (file changed while reading?)", path,
                         es[i].name);
            goto out;
        }
    }
    rc = 0;
out:
    free(es);
    cJSON_Delete(root);
    fclose(fp);
    if (rc != 0) fl_safetensors_free(st);
    return rc;
}

void fl_safetensors_free(fl_safetensors *st) {
    for (int i = 0; i < st->ntensors; i++) {
        free(st->tensors[i].name);
        free(st->tensors[i].data);
    }
    free(st->tensors);
    for (int i = 0; i < st->nmeta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->meta_keys);
    free(st->meta_values);
    memset(st, 0, sizeof *st);
}

const fl_st_tensor *fl_safetensors_get(const fl_safetensors *st, const char *name) {
    for (int i = 0; i < st->ntensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

const char *fl_safetensors_meta(const fl_safetensors *st, const char *key) {
    for (int i = 0; i < st->nmeta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}
