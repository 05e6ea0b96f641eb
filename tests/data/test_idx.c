/* test_idx.c: the IDX reader returns exactly what valid files hold, plain or
 * gzip'ed, and refuses every malformed file (missing, truncated anywhere,
 * wrong magic, absurd sizes, trailing bytes, damaged gzip) with one message
 * that starts with the file's path; Fashion-MNIST pairs must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "data/data_fixtures.h"
#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"

/* The call failed and said so in one line that starts with "path: ". */
static void assert_refused(int rc, const char *path, const char *needle) {
    const char *msg = fl_error_msg();
    if (rc != -1) fail_msg("%s: accepted (wanted an error mentioning '%s')", path, needle);
    size_t n = strlen(path);
    if (strncmp(msg, path, n) != 0 || strncmp(msg + n, ": ", 2) != 0)
        fail_msg("message does not start with the path %s: '%s'", path, msg);
    if (needle && !strstr(msg, needle)) fail_msg("message lacks '%s': '%s'", needle, msg);
    if (strchr(msg, '\n')) fail_msg("message spans lines: '%s'", msg);
}

/* 3 images of 2x3 and their bytes, as a file holds them. */
#define N_IMG 3
#define ROWS 2
#define COLS 3
static const uint32_t IMG_DIMS[3] = {N_IMG, ROWS, COLS};
static const uint32_t LAB_DIMS[1] = {5};
static const unsigned char LABELS[5] = {0, 9, 3, 255, 7};

static void image_bytes(unsigned char *b) {
    for (int i = 0; i < N_IMG * ROWS * COLS; i++) b[i] = (unsigned char)(i * 15);
    b[0] = 255;
}

static char *write_images(const char *name, int gz) {
    unsigned char px[N_IMG * ROWS * COLS];
    image_bytes(px);
    char *path = tu_scratch(name);
    assert_int_equal(fx_write_idx(path, gz, 0x803, 3, IMG_DIMS, px, sizeof px), 0);
    return path;
}

static char *write_labels(const char *name, int gz) {
    char *path = tu_scratch(name);
    assert_int_equal(fx_write_idx(path, gz, 0x801, 1, LAB_DIMS, LABELS, sizeof LABELS), 0);
    return path;
}

static void check_images(const char *path) {
    float *x;
    int n, rows, cols;
    assert_int_equal(fl_idx_read_images(path, &x, &n, &rows, &cols), 0);
    assert_int_equal(n, N_IMG);
    assert_int_equal(rows, ROWS);
    assert_int_equal(cols, COLS);
    unsigned char px[N_IMG * ROWS * COLS];
    image_bytes(px);
    for (int i = 0; i < N_IMG * ROWS * COLS; i++) assert_true(x[i] == (float)px[i] / 255.0f);
    assert_true(x[0] == 1.0f);
    free(x);
}

static void check_labels(const char *path) {
    int *lab, n;
    assert_int_equal(fl_idx_read_labels(path, &lab, &n), 0);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(lab[i], LABELS[i]);
    free(lab);
}

static void test_round_trip(void **state) {
    (void)state;
    for (int gz = 0; gz < 2; gz++) {
        char *img = write_images(gz ? "img.gz" : "img", gz);
        char *lab = write_labels(gz ? "lab.gz" : "lab", gz);
        check_images(img);
        check_labels(lab);
        free(img), free(lab);
    }
}

static void test_missing_file(void **state) {
    (void)state;
    char *path = tu_scratch("absent-idx3-ubyte.gz");
    float *x = (float *)1;
    int n = 7, r, c;
    assert_refused(fl_idx_read_images(path, &x, &n, &r, &c), path, "No such file");
    assert_null(x);
    assert_int_equal(n, 0);
    int *lab;
    assert_refused(fl_idx_read_labels(path, &lab, &n), path, "No such file");
    assert_null(lab);
    free(path);
}

/* Every proper prefix of a valid file, as written by tu_write_file. */
static void refuse_prefixes(const unsigned char *b, size_t n, int images) {
    char *path = tu_scratch("cut");
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(tu_write_file(path, b, k), 0);
        float *x;
        int *lab, cnt, r, c;
        int rc = images ? fl_idx_read_images(path, &x, &cnt, &r, &c)
                        : fl_idx_read_labels(path, &lab, &cnt);
        if (rc == 0) fail_msg("a %zu-byte prefix of a %zu-byte file was accepted", k, n);
        assert_refused(rc, path, NULL);
    }
    free(path);
}

static void test_every_truncation(void **state) {
    (void)state;
    for (int images = 0; images < 2; images++) {
        unsigned char px[N_IMG * ROWS * COLS];
        image_bytes(px);
        size_t n, zn;
        unsigned char *b = images ? fx_idx_bytes(0x803, 3, IMG_DIMS, px, sizeof px, &n)
                                  : fx_idx_bytes(0x801, 1, LAB_DIMS, LABELS, sizeof LABELS, &n);
        unsigned char *z = fx_gzip(b, n, &zn);
        assert_non_null(z);
        refuse_prefixes(b, n, images);
        refuse_prefixes(z, zn, images);
        free(b);
        free(z);
    }
    /* The messages say what went wrong, not just that something did. */
    char *path = tu_scratch("short");
    unsigned char px[N_IMG * ROWS * COLS] = {0};
    assert_int_equal(fx_write_idx(path, 0, 0x803, 3, IMG_DIMS, px, sizeof px - 1), 0);
    float *x;
    int n, r, c;
    assert_refused(fl_idx_read_images(path, &x, &n, &r, &c), path,
                   "truncated (17 of 18 data bytes)");
    free(path);
}

static void test_bad_magic(void **state) {
    (void)state;
    char *img = write_images("img.gz", 1), *lab = write_labels("lab.gz", 1);
    float *x;
    int *l, n, r, c;
    assert_refused(fl_idx_read_labels(img, &l, &n), img,
                   "bad magic 0x00000803 (expected 0x00000801, idx1 labels)");
    assert_refused(fl_idx_read_images(lab, &x, &n, &r, &c), lab,
                   "bad magic 0x00000801 (expected 0x00000803, idx3 images)");
    /* Signed pixels (type 0x09) are a valid IDX type but not ours. */
    uint32_t dims[3] = {1, 1, 1};
    unsigned char one = 1;
    assert_int_equal(fx_write_idx(img, 0, 0x903, 3, dims, &one, 1), 0);
    assert_refused(fl_idx_read_images(img, &x, &n, &r, &c), img, "bad magic 0x00000903");
    free(img);
    free(lab);
}

static void test_absurd_dims(void **state) {
    (void)state;
    char *path = tu_scratch("dims.gz");
    static const struct {
        uint32_t dims[3];
        const char *why;
    } cases[] = {
        {{0, 28, 28}, "implausible item count 0"},
        {{5, 0, 28}, "implausible rows 0"},
        {{5, 28, 0}, "implausible columns 0"},
        {{5, 1025, 28}, "implausible rows 1025"},
        {{5, 28, 4096}, "implausible columns 4096"},
        {{10000001, 28, 28}, "implausible item count 10000001"},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu}, "implausible item count 4294967295"},
        /* each size plausible, their product is not */
        {{10000000, 1024, 1024}, "too large"},
        /* plausible, but the data is not there (and is not allocated) */
        {{2000000, 28, 28}, "truncated (16 of 1568000000 data bytes)"},
    };
    unsigned char px[16] = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        assert_int_equal(fx_write_idx(path, 1, 0x803, 3, cases[k].dims, px, sizeof px), 0);
        float *x;
        int n, r, c;
        assert_refused(fl_idx_read_images(path, &x, &n, &r, &c), path, cases[k].why);
    }
    uint32_t zero[1] = {0};
    assert_int_equal(fx_write_idx(path, 1, 0x801, 1, zero, px, 0), 0);
    int *lab, n;
    assert_refused(fl_idx_read_labels(path, &lab, &n), path, "implausible item count 0");
    free(path);
}

static void test_trailing_bytes(void **state) {
    (void)state;
    unsigned char px[N_IMG * ROWS * COLS + 1];
    image_bytes(px);
    px[sizeof px - 1] = 42;
    char *path = tu_scratch("trail");
    for (int gz = 0; gz < 2; gz++) {
        assert_int_equal(fx_write_idx(path, gz, 0x803, 3, IMG_DIMS, px, sizeof px), 0);
        float *x;
        int n, r, c;
        assert_refused(fl_idx_read_images(path, &x, &n, &r, &c), path, "after the data");
    }
    free(path);
}

static void test_corrupted_gzip(void **state) {
    (void)state;
    unsigned char px[N_IMG * ROWS * COLS];
    image_bytes(px);
    size_t n, zn;
    unsigned char *b = fx_idx_bytes(0x803, 3, IMG_DIMS, px, sizeof px, &n);
    unsigned char *z = fx_gzip(b, n, &zn);
    char *path = tu_scratch("bad.gz");
    /* The first 10 bytes are the gzip header, whose time stamp and OS byte
     * nothing checks; from there on, every byte is covered by the deflate
     * format or the trailer's CRC and length. */
    for (size_t k = 10; k < zn; k++) {
        z[k] ^= 0x5a;
        assert_int_equal(tu_write_file(path, z, zn), 0);
        z[k] ^= 0x5a;
        float *x;
        int cnt, r, c;
        int rc = fl_idx_read_images(path, &x, &cnt, &r, &c);
        if (rc == 0) fail_msg("gzip damaged at byte %zu of %zu was accepted", k, zn);
        assert_refused(rc, path, NULL);
    }
    /* A damaged trailer is reported as a gzip problem. */
    z[zn - 6] ^= 0x5a;
    assert_int_equal(tu_write_file(path, z, zn), 0);
    float *x;
    int cnt, r, c;
    assert_refused(fl_idx_read_images(path, &x, &cnt, &r, &c), path, "gzip");
    free(b);
    free(z);
    free(path);
}

static void test_fashion_load(void **state) {
    (void)state;
    assert_int_equal(fx_fashion_split(tu_dir, "train", 12, 12, 4, 5, 1, -1), 0);
    assert_int_equal(fx_fashion_split(tu_dir, "t10k", 7, 7, 4, 5, 2, -1), 0);
    fl_images im;
    assert_int_equal(fl_fashion_load(tu_dir, "train", &im), 0);
    assert_int_equal(im.n, 12);
    assert_int_equal(im.rows, 4);
    assert_int_equal(im.cols, 5);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(im.label[i], i % 10);
        for (int p = 0; p < 20; p++)
            assert_true(im.x[i * 20 + p] == fx_pixel_byte(1, i, p) / 255.0f);
    }
    fl_images_free(&im);
    assert_null(im.x);
    assert_int_equal(fl_fashion_load(tu_dir, "test", &im), 0);
    assert_int_equal(im.n, 7);
    assert_true(im.x[0] == fx_pixel_byte(2, 0, 0) / 255.0f);
    fl_images_free(&im);
    assert_int_equal(fl_fashion_load(tu_dir, "validation", &im), -1);
    assert_non_null(strstr(fl_error_msg(), "validation"));
}

static void test_fashion_refusals(void **state) {
    (void)state;
    char *lab = tu_scratch("fashion-mnist/train-labels-idx1-ubyte.gz");
    char *img = tu_scratch("fashion-mnist/train-images-idx3-ubyte.gz");
    fl_images im;
    assert_refused(fl_fashion_load(tu_dir, "train", &im), img, "No such file");
    assert_null(im.x);
    assert_int_equal(fx_fashion_split(tu_dir, "train", 6, 6, 2, 2, 0, 10), 0);
    assert_refused(fl_fashion_load(tu_dir, "train", &im), lab, "label 10 of item 0 is outside 0..9");
    assert_int_equal(fx_fashion_split(tu_dir, "train", 6, 5, 2, 2, 0, -1), 0);
    assert_refused(fl_fashion_load(tu_dir, "train", &im), lab, "5 labels for the 6 images");
    assert_null(im.x);
    assert_null(im.label);
    unlink(lab);
    assert_refused(fl_fashion_load(tu_dir, "train", &im), lab, "No such file");
    free(lab);
    free(img);
}

/* The installed dataset, when FORGETLAB_DATA points at it. */
static void test_real_fashion(void **state) {
    (void)state;
    const char *dir = getenv("FORGETLAB_DATA");
    if (!dir || !*dir) skip();
    static const char *splits[2] = {"train", "test"};
    static const int sizes[2] = {60000, 10000};
    for (int s = 0; s < 2; s++) {
        fl_images im;
        if (fl_fashion_load(dir, splits[s], &im)) fail_msg("%s", fl_error_msg());
        assert_int_equal(im.n, sizes[s]);
        assert_int_equal(im.rows, 28);
        assert_int_equal(im.cols, 28);
        int count[10] = {0};
        for (int i = 0; i < im.n; i++) count[im.label[i]]++;
        /* Fashion-MNIST is balanced: a tenth of each split per class. */
        for (int c = 0; c < 10; c++) assert_int_equal(count[c], sizes[s] / 10);
        float lo = 1, hi = 0;
        for (size_t i = 0; i < (size_t)im.n * 784; i++) {
            if (im.x[i] < lo) lo = im.x[i];
            if (im.x[i] > hi) hi = im.x[i];
        }
        assert_true(lo == 0.0f && hi == 1.0f);
        fl_images_free(&im);
    }
}

TU_MAIN(TU_SCRATCH_TEST(test_round_trip), TU_SCRATCH_TEST(test_missing_file), TU_SCRATCH_TEST(test_every_truncation),
        TU_SCRATCH_TEST(test_bad_magic), TU_SCRATCH_TEST(test_absurd_dims), TU_SCRATCH_TEST(test_trailing_bytes),
        TU_SCRATCH_TEST(test_corrupted_gzip), TU_SCRATCH_TEST(test_fashion_load),
        TU_SCRATCH_TEST(test_fashion_refusals), cmocka_unit_test(test_real_fashion))
