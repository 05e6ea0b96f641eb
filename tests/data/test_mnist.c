/* test_mnist.c: the MNIST JSON loader: images, labels and order; the fixed
 * stratified split (sizes, per-digit quotas, which images, determinism);
 * the digits.cache (written atomically, used while the JSON is unchanged,
 * rebuilt when stale or damaged, optional when it cannot be written); and
 * one clear message naming the file for every malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "data/data_fixtures.h"
#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <fcntl.h>
#include <sys/stat.h>

/* 77 images: round(20%) = 15.4 -> 15 test images, with remainders that make
 * the largest-remainder rule matter (ties included). */
static const int COUNT[10] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 14};
/* By hand: floors 0 0 1 1 1 1 1 2 2 2 (11); remainders 3 4 0 1 2 3 4 0 1 4;
 * the 4 extra go to digits 1, 6, 9 (remainder 4) and 0 (3, before 5). */
static const int QUOTA[10] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 3};
#define TOTAL 77
#define TEST_N 15

static char *mnist_path(const char *name) {
    char rel[64];
    snprintf(rel, sizeof rel, "mnist/%s", name);
    return tu_scratch(rel);
}

/* The running test's fixture directory (tu_dir/mnist) and the cache the
 * loader keeps in it, set by setup and freed by teardown. */
static char *g_mdir, *g_cache;

/* A fresh scratch directory holding the fixture's digit files. */
static int setup(void **state) {
    if (tu_setup(state) || fx_mnist_dir(tu_dir, COUNT)) return -1;
    g_mdir = tu_scratch("mnist");
    g_cache = mnist_path("digits.cache");
    return 0;
}

static int teardown(void **state) {
    free(g_mdir), free(g_cache);
    g_mdir = g_cache = NULL;
    return tu_scratch_teardown(state);
}

/* A test that runs in a fresh fixture directory (setup), removed afterwards. */
#define MNIST_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Image (digit d, index i in d.json) matches the fixture. */
static void assert_image(const float *x, int d, int i) {
    for (int p = 0; p < 784; p++)
        if (x[p] != fx_digit_pixel(d, i, p))
            fail_msg("digit %d image %d pixel %d: %g", d, i, p, x[p]);
}

/* The index of an image within its digit file, read back from pixel 0. */
static int image_index(const float *x) { return (int)(x[0] * 256.0f + 0.5f); }

static void load_all_ok(fl_images *im) {
    if (fl_mnist_load_all(tu_dir, im)) fail_msg("%s", fl_error_msg());
}

static void assert_same_images(const fl_images *a, const fl_images *b) {
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    assert_memory_equal(a->label, b->label, (size_t)a->n * sizeof(int));
    assert_memory_equal(a->x, b->x, (size_t)a->n * 784 * sizeof(float));
}

static void test_load_all(void **state) {
    (void)state;
    fl_images im;
    load_all_ok(&im);
    assert_int_equal(im.n, TOTAL);
    assert_int_equal(im.rows, 28);
    assert_int_equal(im.cols, 28);
    int k = 0;
    for (int d = 0; d < 10; d++)
        for (int i = 0; i < COUNT[d]; i++, k++) {
            assert_int_equal(im.label[k], d);
            assert_image(im.x + (size_t)k * 784, d, i);
        }
    fl_images_free(&im);
}

/* The split as data.h defines it, computed here independently. */
static void reference_test_set(unsigned char in_test[10][16]) {
    fl_rng rng;
    fl_rng_init(&rng, FL_SPLIT_SEED, FL_STREAM_SPLIT);
    memset(in_test, 0, 10 * 16);
    for (int d = 0; d < 10; d++) {
        int idx[16];
        for (int i = 0; i < COUNT[d]; i++) idx[i] = i;
        fl_rng_shuffle(&rng, idx, COUNT[d]);
        for (int j = 0; j < QUOTA[d]; j++) in_test[d][idx[j]] = 1;
    }
}

static void test_split(void **state) {
    (void)state;
    unsigned char want[10][16];
    reference_test_set(want);
    fl_images tr, te;
    assert_int_equal(fl_mnist_load(tu_dir, "train", &tr), 0);
    assert_int_equal(fl_mnist_load(tu_dir, "test", &te), 0);
    assert_int_equal(te.n, TEST_N);
    assert_int_equal(tr.n, TOTAL - TEST_N);
    int seen[10][16] = {{0}};
    for (int s = 0; s < 2; s++) {
        const fl_images *im = s ? &te : &tr;
        assert_int_equal(im->rows, 28);
        int prev_d = -1, prev_i = -1, count[10] = {0};
        for (int k = 0; k < im->n; k++) {
            const float *x = im->x + (size_t)k * 784;
            int d = im->label[k], i = image_index(x);
            assert_image(x, d, i);
            /* Ordered by digit, then by position in the file. */
            assert_true(d > prev_d || (d == prev_d && i > prev_i));
            prev_d = d, prev_i = i;
            assert_int_equal(want[d][i], s);
            seen[d][i]++;
            count[d]++;
        }
        for (int d = 0; d < 10; d++) assert_int_equal(count[d], s ? QUOTA[d] : COUNT[d] - QUOTA[d]);
    }
    for (int d = 0; d < 10; d++)
        for (int i = 0; i < COUNT[d]; i++) assert_int_equal(seen[d][i], 1);
    /* Deterministic, from the cache as from the JSON. */
    fl_images again;
    assert_int_equal(fl_mnist_load(tu_dir, "test", &again), 0);
    assert_same_images(&te, &again);
    fl_images_free(&again);
    fl_images_free(&tr);
    fl_images_free(&te);
    assert_int_equal(fl_mnist_load(tu_dir, "valid", &te), -1);
    assert_non_null(strstr(fl_error_msg(), "valid"));
}

/* Overwrites the first occurrence of from (same length as to) in path,
 * keeping the file's size and modification time. */
static void edit_in_place(const char *path, const char *from, const char *to) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char *text;
    size_t n;
    assert_int_equal(fl_read_file(path, &text, &n), 0);
    char *at = strstr(text, from);
    assert_non_null(at);
    memcpy(at, to, strlen(to));
    assert_int_equal(tu_write_file(path, text, n), 0);
    free(text);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void test_cache_used_while_sources_unchanged(void **state) {
    (void)state;
    char *three = mnist_path("3.json");
    fl_images first, second;
    assert_false(fl_file_exists(g_cache));
    load_all_ok(&first);
    assert_true(fl_file_exists(g_cache));
    /* The 10 sources and the cache: no temporary file left behind. */
    assert_int_equal(tu_count_entries(g_mdir, ""), 11);
    /* An edit the cache cannot see (same size and time) proves it is read:
     * image 0 of digit 3 starts with pixel values 0 and 0.1875. */
    edit_in_place(three, "[0,0.1875,", "[1,0.1875,");
    load_all_ok(&second);
    assert_same_images(&first, &second);
    fl_images_free(&second);
    /* Once the time stamp changes the edit shows. */
    struct timespec later[2] = {{0, UTIME_OMIT}, {1700000000, 5}};
    assert_int_equal(utimensat(AT_FDCWD, three, later, 0), 0);
    load_all_ok(&second);
    int k = COUNT[0] + COUNT[1] + COUNT[2];
    assert_true(second.x[(size_t)k * 784] == 1.0f);
    second.x[(size_t)k * 784] = 0.0f;
    assert_same_images(&first, &second);
    fl_images_free(&second);
    fl_images_free(&first);
    free(three);
}

static void test_cache_rebuilt_when_a_source_changes(void **state) {
    (void)state;
    fl_images im;
    load_all_ok(&im);
    fl_images_free(&im);
    struct stat before, after;
    assert_int_equal(stat(g_cache, &before), 0);
    assert_int_equal(fx_digit_json(tu_dir, 5, COUNT[5] + 1), 0);
    load_all_ok(&im);
    assert_int_equal(im.n, TOTAL + 1);
    assert_int_equal(im.label[COUNT[0] + COUNT[1] + COUNT[2] + COUNT[3] + COUNT[4] + COUNT[5]], 5);
    fl_images_free(&im);
    assert_int_equal(stat(g_cache, &after), 0);
    assert_int_equal(after.st_size, before.st_size + 4 + 784 * 4);
}

static void test_cache_rebuilt_when_damaged(void **state) {
    (void)state;
    fl_images good, im;
    load_all_ok(&good);
    char *valid;
    size_t n;
    assert_int_equal(fl_read_file(g_cache, &valid, &n), 0);
    /* A flipped byte anywhere (header, labels, pixels, CRC), a cut, an
     * extra byte, an empty file. */
    const size_t flips[] = {0, 9, 13, 17, 29, 40, 280, 300, n / 2, n - 1};
    for (size_t k = 0; k < sizeof flips / sizeof flips[0] + 3; k++) {
        char *bad = malloc(n + 1);
        memcpy(bad, valid, n);
        size_t bn = n;
        if (k < sizeof flips / sizeof flips[0])
            bad[flips[k]] ^= 0x10;
        else if (k == sizeof flips / sizeof flips[0])
            bn = n - 1;
        else if (k == sizeof flips / sizeof flips[0] + 1)
            bad[bn++] = 'x';
        else
            bn = 0;
        assert_int_equal(tu_write_file(g_cache, bad, bn), 0);
        free(bad);
        load_all_ok(&im);
        assert_same_images(&good, &im);
        fl_images_free(&im);
        char *now;
        size_t nn;
        assert_int_equal(fl_read_file(g_cache, &now, &nn), 0);
        assert_int_equal(nn, n);
        assert_memory_equal(now, valid, n);
        free(now);
    }
    assert_int_equal(tu_count_entries(g_mdir, "digits.cache"), 1);
    free(valid);
    fl_images_free(&good);
}

static void test_cache_unwritable(void **state) {
    (void)state;
    fl_images good, im;
    load_all_ok(&good);
    unlink(g_cache);
    /* Something that is not a file in the cache's place: it can be neither
     * read nor replaced, and the loader carries on without it. */
    assert_int_equal(mkdir(g_cache, 0755), 0);
    load_all_ok(&im);
    assert_same_images(&good, &im);
    fl_images_free(&im);
    assert_int_equal(tu_count_entries(g_mdir, "digits.cache"), 1);
    rmdir(g_cache);
    /* A read-only directory (meaningless for root, who writes anyway). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(g_mdir, 0555), 0);
        load_all_ok(&im);
        assert_same_images(&good, &im);
        fl_images_free(&im);
        assert_false(fl_file_exists(g_cache));
        chmod(g_mdir, 0755);
    }
    fl_images_free(&good);
}

/* 4.json holds text; loading fails with a message that starts with its path
 * and contains needle; nothing is returned and no cache file is left. */
static void assert_json_refused(const char *text, const char *needle) {
    char *path = mnist_path("4.json");
    assert_int_equal(tu_write_file(path, text, strlen(text)), 0);
    fl_images im;
    int rc = fl_mnist_load_all(tu_dir, &im);
    const char *msg = fl_error_msg();
    if (rc != -1) fail_msg("accepted 4.json = %.60s", text);
    if (strncmp(msg, path, strlen(path)) != 0 || !strstr(msg, needle) || strchr(msg, '\n'))
        fail_msg("4.json = %.60s: message '%s' (wanted the path and '%s')", text, msg, needle);
    assert_null(im.x);
    assert_null(im.label);
    assert_int_equal(im.n, 0);
    assert_int_equal(tu_count_entries(g_mdir, "digits.cache"), 0);
    free(path);
}

/* {"data": [...]} of n numbers, all 0.5 except entry at, which is text. */
static char *data_with(size_t n, size_t at, const char *text) {
    char *s = malloc(n * 8 + 64), *p = s;
    p += sprintf(p, "{\"data\": [");
    for (size_t i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? "," : "", i == at ? text : "0.5");
    sprintf(p, "]}");
    return s;
}

static void test_malformed_json(void **state) {
    (void)state;
    assert_json_refused("", "not valid JSON");
    assert_json_refused("{\"data\": [0, 1,", "not valid JSON");
    assert_json_refused("{\"data\": [0]} {", "not valid JSON");
    assert_json_refused("[0, 1]", "expected a JSON object");
    assert_json_refused("{\"pixels\": [0, 1]}", "no \"data\" array");
    assert_json_refused("{\"data\": 3}", "\"data\" is not an array");
    assert_json_refused("{\"data\": []}", "holds 0 values");
    char *s;
    assert_json_refused(s = data_with(785, 785, ""),
                        "holds 785 values, not a positive multiple of 784");
    free(s);
    assert_json_refused(s = data_with(784, 300, "\"0.5\""), "data[300] is not a number");
    free(s);
    assert_json_refused(s = data_with(784, 5, "null"), "data[5] is not a number");
    free(s);
    assert_json_refused(s = data_with(784, 783, "[1]"), "data[783] is not a number");
    free(s);
    assert_json_refused(s = data_with(1568, 1000, "1.5"), "data[1000] = 1.5 is outside [0,1]");
    free(s);
    assert_json_refused(s = data_with(784, 0, "-0.01"), "data[0] = -0.01 is outside [0,1]");
    free(s);
}

static void test_missing_file(void **state) {
    (void)state;
    char *path = mnist_path("7.json");
    unlink(path);
    fl_images im;
    assert_int_equal(fl_mnist_load_all(tu_dir, &im), -1);
    assert_int_equal(strncmp(fl_error_msg(), path, strlen(path)), 0);
    assert_non_null(strstr(fl_error_msg(), "No such file"));
    assert_int_equal(fl_mnist_load(tu_dir, "train", &im), -1);
    assert_int_equal(strncmp(fl_error_msg(), path, strlen(path)), 0);
    assert_null(im.x);
    free(path);
}

/* The npm package's 10,000 digits, when FORGETLAB_DATA points at them. */
static void test_real_mnist(void **state) {
    (void)state;
    const char *dir = getenv("FORGETLAB_DATA");
    if (!dir || !*dir) skip();
    static const int count[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
    fl_images s[2];
    if (fl_mnist_load(dir, "train", &s[0]) || fl_mnist_load(dir, "test", &s[1]))
        fail_msg("%s", fl_error_msg());
    assert_int_equal(s[0].n, 8000);
    assert_int_equal(s[1].n, 2000);
    int per[2][10] = {{0}};
    for (int k = 0; k < 2; k++) {
        float lo = 1, hi = 0;
        for (int i = 0; i < s[k].n; i++) per[k][s[k].label[i]]++;
        for (size_t i = 0; i < (size_t)s[k].n * 784; i++) {
            if (s[k].x[i] < lo) lo = s[k].x[i];
            if (s[k].x[i] > hi) hi = s[k].x[i];
        }
        assert_true(lo == 0.0f && hi > 0.99f && hi <= 1.0f);
    }
    for (int d = 0; d < 10; d++) {
        assert_int_equal(per[0][d] + per[1][d], count[d]);
        double want = 0.2 * count[d];
        assert_true(per[1][d] > want - 1.0 && per[1][d] < want + 1.0);
    }
    fl_images_free(&s[0]);
    fl_images_free(&s[1]);
}

TU_MAIN(MNIST_TEST(test_load_all), MNIST_TEST(test_split), MNIST_TEST(test_cache_used_while_sources_unchanged),
        MNIST_TEST(test_cache_rebuilt_when_a_source_changes), MNIST_TEST(test_cache_rebuilt_when_damaged),
        MNIST_TEST(test_cache_unwritable), MNIST_TEST(test_malformed_json), MNIST_TEST(test_missing_file),
        cmocka_unit_test(test_real_mnist))
