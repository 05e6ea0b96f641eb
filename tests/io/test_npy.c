/* test_npy.c: .npy round trips in every rank NumPy users meet, byte-exact
 * headers, NumPy itself reading what we write (and the reverse), and a clean
 * refusal of every truncated, malformed or unsupported file. */
#include "testutil.h"

#include "forgetlab/io/npy.h"

#define PYTHON "/usr/bin/python3"

/* A hand-made .npy: version major.0, the given dict (padded to 64 bytes with
 * a final '\n'), then nfloats floats 0, 1, 2, ... */
static void write_raw(const char *path, int major, const char *dict, int nfloats) {
    unsigned char buf[1024];
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
    assert_true(total + (size_t)nfloats * 4 <= sizeof buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + pre, dict, dl);
    memset(buf + pre + dl, ' ', hlen - dl);
    buf[total - 1] = '\n';
    for (int i = 0; i < nfloats; i++) {
        float v = (float)i;
        memcpy(buf + total + 4 * (size_t)i, &v, 4);
    }
    tu_write_bytes(path, buf, total + (size_t)nfloats * 4);
}

/* Reading fails cleanly: -1, one line naming the file, nothing allocated. */
static void assert_refused(const char *path, const char *needle) {
    float *data = (float *)1;
    int ndim = -7;
    int64_t shape[FL_NPY_MAX_DIMS];
    fl_error_clear();
    assert_int_equal(fl_npy_read(path, &data, &ndim, shape), -1);
    assert_null(data);
    tu_assert_error_mentions(path, needle);
}

static void roundtrip(int ndim, const int64_t *shape, const char *dict) {
    char *p = tu_scratch("a.npy");
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    float *x = malloc((size_t)(n ? n : 1) * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)i * 0.25f - 3.0f;
    assert_int_equal(fl_npy_write(p, x, ndim, shape), 0);

    char *raw;
    size_t len;
    assert_int_equal(fl_read_file(p, &raw, &len), 0);
    assert_memory_equal(raw, "\x93NUMPY\x01\x00", 8);
    size_t hlen = (unsigned char)raw[8] | (size_t)(unsigned char)raw[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(raw[10 + hlen - 1], '\n');
    assert_int_equal(len, 10 + hlen + (size_t)n * 4);
    assert_memory_equal(raw + 10, dict, strlen(dict));
    free(raw);

    float *y;
    int nd;
    int64_t sh[FL_NPY_MAX_DIMS];
    assert_int_equal(fl_npy_read(p, &y, &nd, sh), 0);
    assert_int_equal(nd, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(sh[d], shape[d]);
    if (n) assert_memory_equal(x, y, (size_t)n * 4);
    free(y);
    free(x);
    free(p);
    assert_int_equal(tu_count_entries(tu_dir, ""), 1);
}

static void test_roundtrips(void **state) {
    (void)state;
    int64_t s2[] = {3, 4}, s1[] = {5}, s3[] = {2, 3, 4}, s0[] = {0}, sz[] = {0, 3};
    int64_t s8[] = {1, 2, 1, 2, 1, 2, 1, 2};
    roundtrip(0, s0, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    roundtrip(1, s1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }");
    roundtrip(2, s2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }");
    roundtrip(3, s3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }");
    roundtrip(1, s0, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }");
    roundtrip(2, sz, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }");
    roundtrip(8, s8, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 2, 1, 2, 1, 2), }");
}

static void test_accepts_other_writers(void **state) {
    (void)state;
    char *p = tu_scratch("b.npy");
    float *y;
    int nd;
    int64_t sh[FL_NPY_MAX_DIMS];
    const char *ok[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,3)}",
        "{'shape': (2L, 3L), 'fortran_order': False, 'descr': '<f4'}",
        "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        write_raw(p, i == 0 ? 2 : 1, ok[i], 6);
        if (fl_npy_read(p, &y, &nd, sh) != 0) fail_msg("%s: %s", ok[i], fl_error_msg());
        assert_int_equal(nd, 2);
        assert_int_equal(sh[0], 2);
        assert_int_equal(sh[1], 3);
        assert_true(y[5] == 5.0f);
        free(y);
    }
    free(p);
}

/* Headers that must be refused: a dict, the number of floats after it, what
 * the error mentions. */
static const tu_bad_file BAD_HEADERS[] = {
    /* Refused, whatever the message says. */
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, NULL},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 1, NULL},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': [3], }", 3, NULL},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), ", 3, NULL},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", 3, NULL},
    {"{'descr: '<f4', 'fortran_order': False, 'shape': (3,)}", 3, NULL},
    {"", 0, NULL},
    /* Refused with a message that says why. */
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 6, "<f8"},
    {"{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", 3, ">f4"},
    {"{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", 2, "<f2"},
    {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", 3, "dtype"},
    {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 6, "Fortran"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 2, "3 floats"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 4, "3 floats"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", 3, "shape"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", 3, "shape"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 1, "dimensions"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
     0, "too many"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0, "large"},
    {"{'descr': '<f4', 'shape': (3,), }", 3, "fortran_order"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}", 3, "extra"},
    {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 3, "descr"},
    {"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", 3, "fortran_order"},
};

/* write_raw of a version 1.0 file: how the cases of BAD_HEADERS are written. */
static void write_v1(const char *path, const char *dict, size_t nfloats) { write_raw(path, 1, dict, (int)nfloats); }

static void test_refuses_bad_headers(void **state) {
    (void)state;
    char *p = tu_scratch("bad.npy");
    tu_assert_bad_files_refused(p, BAD_HEADERS, sizeof BAD_HEADERS / sizeof *BAD_HEADERS, write_v1, assert_refused);
    free(p);
}

static void test_refuses_bad_preamble(void **state) {
    (void)state;
    char *p = tu_scratch("pre.npy");
    assert_refused(p, "cannot open"); /* missing */
    write_raw(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 3);
    char *raw;
    size_t len;
    assert_int_equal(fl_read_file(p, &raw, &len), 0);

    raw[0] = 'X'; /* bad magic */
    tu_write_bytes(p, raw, len);
    assert_refused(p, "magic");
    raw[0] = '\x93';
    raw[6] = 4; /* unknown version */
    tu_write_bytes(p, raw, len);
    assert_refused(p, "version");
    raw[6] = 1;
    raw[7] = 1;
    tu_write_bytes(p, raw, len);
    assert_refused(p, "version");
    raw[7] = 0;
    raw[8] = (char)0xff; /* header length beyond the file */
    raw[9] = (char)0xff;
    tu_write_bytes(p, raw, len);
    assert_refused(p, "exceeds file size");
    raw[9] = 0; /* header length that eats the data */
    raw[8] = (char)(len - 10 - 4);
    tu_write_bytes(p, raw, len);
    assert_refused(p, NULL);
    tu_write_bytes(p, "text, not an array", 18);
    assert_refused(p, "magic");
    free(raw);
    assert_refused(tu_dir, NULL); /* a directory */
    free(p);
}

static void test_every_truncation_is_refused(void **state) {
    (void)state;
    char *p = tu_scratch("full.npy"), *t = tu_scratch("cut.npy");
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[] = {2, 3};
    assert_int_equal(fl_npy_write(p, x, 2, shape), 0);
    tu_assert_prefixes_refused(p, t, assert_refused);
    free(t);
    free(p);
}

static void test_write_errors(void **state) {
    (void)state;
    char *p = tu_scratch("w.npy");
    float x[4] = {0};
    int64_t neg[] = {-1}, big[] = {INT64_MAX, 4}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    fl_error_clear();
    assert_int_equal(fl_npy_write(p, x, 9, nine), -1);
    assert_non_null(strstr(fl_error_msg(), "w.npy"));
    assert_int_equal(fl_npy_write(p, x, 1, neg), -1);
    assert_int_equal(fl_npy_write(p, x, 2, big), -1);
    assert_int_equal(fl_npy_write(p, NULL, 1, (int64_t[]){4}), -1);
    char *q = tu_scratch("missing/w.npy");
    assert_int_equal(fl_npy_write(q, x, 1, (int64_t[]){4}), -1);
    assert_int_equal(tu_count_entries(tu_dir, ""), 0);
    free(q);
    free(p);
}

/* NumPy is the real judge of the format. */
static void test_numpy_interop(void **state) {
    (void)state;
    if (access(PYTHON, X_OK) != 0) skip();
    if (system(PYTHON " -c 'import numpy' 2>/dev/null") != 0) skip();
    char *p = tu_scratch("ours.npy"), *z = tu_scratch("scalar.npy"), *q = tu_scratch("theirs.npy");
    float x[6];
    for (int i = 0; i < 6; i++) x[i] = (float)i * 0.5f - 1.0f;
    assert_int_equal(fl_npy_write(p, x, 2, (int64_t[]){2, 3}), 0);
    float s = 2.5f;
    assert_int_equal(fl_npy_write(z, &s, 0, NULL), 0);
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import numpy, sys\n"
                    "a = numpy.load(sys.argv[1])\n"
                    "assert a.dtype == numpy.float32 and a.shape == (2, 3), (a.dtype, a.shape)\n"
                    "assert a.flags.c_contiguous\n"
                    "assert (a == numpy.arange(6, dtype=\"f4\").reshape(2, 3) * 0.5 - 1).all(), a\n"
                    "b = numpy.load(sys.argv[2])\n"
                    "assert b.shape == () and b.dtype == numpy.float32 and b == 2.5, b\n"
                    "numpy.save(sys.argv[3], (numpy.arange(12, dtype=\"f4\") / 4).reshape(3, 4))\n"
                    "' '%s' '%s' '%s'",
             p, z, q);
    assert_int_equal(system(cmd), 0);
    float *y;
    int nd;
    int64_t sh[FL_NPY_MAX_DIMS];
    assert_int_equal(fl_npy_read(q, &y, &nd, sh), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 3);
    assert_int_equal(sh[1], 4);
    for (int i = 0; i < 12; i++) assert_true(y[i] == (float)i / 4);
    free(y);
    /* What NumPy writes by default for float64 and Fortran order is refused. */
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import numpy, sys\n"
                    "numpy.save(sys.argv[1], numpy.zeros((2, 2)))\n"
                    "numpy.save(sys.argv[2], numpy.asfortranarray(numpy.zeros((2, 3), \"f4\")))\n"
                    "' '%s' '%s'",
             p, q);
    assert_int_equal(system(cmd), 0);
    assert_refused(p, "<f8");
    assert_refused(q, "Fortran");
    free(q);
    free(z);
    free(p);
}

TU_MAIN(TU_SCRATCH_TEST(test_roundtrips), TU_SCRATCH_TEST(test_accepts_other_writers),
        TU_SCRATCH_TEST(test_refuses_bad_headers), TU_SCRATCH_TEST(test_refuses_bad_preamble),
        TU_SCRATCH_TEST(test_every_truncation_is_refused), TU_SCRATCH_TEST(test_write_errors),
        TU_SCRATCH_TEST(test_numpy_interop))
