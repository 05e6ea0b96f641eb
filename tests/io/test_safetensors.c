/* test_safetensors.c: weights and metadata survive a round trip, the bytes
 * follow the format (checked independently with Python's json and struct),
 * and every truncated, malformed or inconsistent file is refused before any
 * tensor memory is allocated. */
#include "testutil.h"

#include "forgetlab/io/safetensors.h"

#include <fcntl.h>

#define PYTHON "/usr/bin/python3"

/* A hand-made file: the header as given (no padding), then ndata bytes. */
static void write_raw(const char *path, const char *header, size_t ndata) {
    size_t hl = strlen(header);
    unsigned char *buf = calloc(1, 8 + hl + ndata);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    tu_write_bytes(path, buf, 8 + hl + ndata);
    free(buf);
}

static void assert_refused(const char *path, const char *needle) {
    fl_safetensors st;
    fl_error_clear();
    assert_int_equal(fl_safetensors_read(path, &st), -1);
    assert_int_equal(st.ntensors, 0);
    assert_null(st.tensors);
    assert_int_equal(st.nmeta, 0);
    tu_assert_error_mentions(path, needle);
    fl_safetensors_free(&st); /* harmless after a failure */
}

/* Four tensors covering the ranks a model uses, plus an empty one. */
static float g_w[6] = {1, -2, 3.5f, -4, 5, 6e-8f}, g_b[3] = {0.5f, 0, -0.25f}, g_s = 42;
static fl_st_tensor g_ts[4];
static const char *const g_keys[] = {"arch", "config"};
static const char *const g_vals[] = {"mlp", "{\"lr\": 1e-3, \"name\": \"a \\\"quoted\\\" run\"}"};

static void make_tensors(void) {
    memset(g_ts, 0, sizeof g_ts);
    g_ts[0] = (fl_st_tensor){.name = "layers.0.weight", .ndim = 2, .shape = {3, 2}, .data = g_w};
    g_ts[1] = (fl_st_tensor){.name = "layers.0.bias", .ndim = 1, .shape = {3}, .numel = 3, .data = g_b};
    g_ts[2] = (fl_st_tensor){.name = "scale", .ndim = 0, .data = &g_s};
    g_ts[3] = (fl_st_tensor){.name = "empty", .ndim = 2, .shape = {0, 4}, .data = NULL};
}

static void test_roundtrip(void **state) {
    (void)state;
    char *p = tu_scratch("model.safetensors");
    make_tensors();
    assert_int_equal(fl_safetensors_write(p, g_ts, 4, g_keys, g_vals, 2), 0);
    assert_int_equal(tu_count_entries(tu_dir, ""), 1);

    char *raw;
    size_t len;
    assert_int_equal(fl_read_file(p, &raw, &len), 0);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)(unsigned char)raw[i] << (8 * i);
    assert_int_equal(hl % 8, 0);
    assert_int_equal(len, 8 + hl + (6 + 3 + 1) * 4);
    assert_int_equal(raw[8], '{');
    assert_memory_equal(raw + 8 + hl, g_w, sizeof g_w);
    free(raw);

    fl_safetensors st;
    assert_int_equal(fl_safetensors_read(p, &st), 0);
    assert_int_equal(st.ntensors, 4);
    for (int i = 0; i < 4; i++) {
        const fl_st_tensor *t = fl_safetensors_get(&st, g_ts[i].name);
        assert_non_null(t);
        assert_int_equal(t->ndim, g_ts[i].ndim);
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) {
            assert_int_equal(t->shape[d], g_ts[i].shape[d]);
            n *= t->shape[d];
        }
        assert_int_equal(t->numel, n);
        assert_non_null(t->data);
        if (n) assert_memory_equal(t->data, g_ts[i].data, (size_t)n * 4);
    }
    assert_null(fl_safetensors_get(&st, "layers.1.weight"));
    assert_int_equal(st.nmeta, 2);
    assert_string_equal(fl_safetensors_meta(&st, "arch"), "mlp");
    assert_string_equal(fl_safetensors_meta(&st, "config"), g_vals[1]);
    assert_null(fl_safetensors_meta(&st, "spec"));
    fl_safetensors_free(&st);
    assert_int_equal(st.ntensors, 0);

    /* Without metadata, and with nothing at all. */
    assert_int_equal(fl_safetensors_write(p, g_ts, 2, NULL, NULL, 0), 0);
    assert_int_equal(fl_read_file(p, &raw, &len), 0);
    assert_null(strstr(raw + 8, "__metadata__"));
    free(raw);
    assert_int_equal(fl_safetensors_read(p, &st), 0);
    assert_int_equal(st.ntensors, 2);
    assert_int_equal(st.nmeta, 0);
    fl_safetensors_free(&st);
    assert_int_equal(fl_safetensors_write(p, NULL, 0, NULL, NULL, 0), 0);
    assert_int_equal(fl_safetensors_read(p, &st), 0);
    assert_int_equal(st.ntensors, 0);
    fl_safetensors_free(&st);
    assert_int_equal(tu_count_entries(tu_dir, ""), 1);
    free(p);
}

static void test_every_truncation_is_refused(void **state) {
    (void)state;
    char *p = tu_scratch("full.safetensors"), *t = tu_scratch("cut.safetensors");
    make_tensors();
    assert_int_equal(fl_safetensors_write(p, g_ts, 3, g_keys, g_vals, 1), 0);
    tu_assert_prefixes_refused(p, t, assert_refused);
    free(t);
    free(p);
}

/* The start of a header whose first tensor, "a", holds two floats at bytes
 * 0 to 8: the cases about how tensors share the data follow it with "b". */
#define A_0_8 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"

/* Files that must be refused: a header, the number of data bytes after it,
 * what the error mentions. */
static const tu_bad_file BAD_FILES[] = {
    {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "'a' has dtype F16"},
    {"{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "F64"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8", 8, "JSON"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x", 8, "JSON"},
    {"[1, 2]", 0, "not a safetensors file"},
    {"{\"w\":[1]}", 0, "'w'"},
    {"{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "shape"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "truncated"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "begin"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8, "shape"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8, "shape"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, "dimensions"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296,4294967296],"
     "\"data_offsets\":[0,8]}}", 8, "shape"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "data_offsets"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8, "data_offsets"},
    {A_0_8 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap"},
    {A_0_8 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "overlap"},
    {A_0_8 "\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "overlap"},
    {A_0_8 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "hole"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "hole"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "after the last"},
    {A_0_8 "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "twice"},
    {"{\"__metadata__\":{\"k\":1}}", 0, "'k'"},
    {"{\"__metadata__\":[\"k\"]}", 0, "__metadata__"},
    {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__"},
    {"{}", 4, "after the last"},
    {"", 0, "too small"},
};

static void test_refuses_bad_files(void **state) {
    (void)state;
    char *p = tu_scratch("bad.safetensors");
    tu_assert_bad_files_refused(p, BAD_FILES, sizeof BAD_FILES / sizeof *BAD_FILES, write_raw, assert_refused);
    /* What the cases above are variations of is accepted. */
    write_raw(p, "{\"__metadata__\":{\"k\":\"v\"}, \"b\":{\"dtype\":\"F32\",\"shape\":[1],"
                 "\"data_offsets\":[8,12]}, \"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                 "\"data_offsets\":[0,8]}, \"e\":{\"dtype\":\"F32\",\"shape\":[0,3],"
                 "\"data_offsets\":[12,12]}}  ",
              12);
    fl_safetensors st;
    if (fl_safetensors_read(p, &st) != 0) fail_msg("%s", fl_error_msg());
    assert_int_equal(st.ntensors, 3);
    assert_int_equal(fl_safetensors_get(&st, "b")->numel, 1);
    assert_string_equal(fl_safetensors_meta(&st, "k"), "v");
    fl_safetensors_free(&st);
    free(p);
}

static void test_refuses_bad_lengths(void **state) {
    (void)state;
    char *p = tu_scratch("len.safetensors");
    assert_refused(p, "cannot open");
    tu_write_bytes(p, "abc", 3);
    assert_refused(p, "too short");
    tu_write_bytes(p, "not a model at all, just text", 29);
    assert_refused(p, "not a safetensors file");
    unsigned char huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'};
    tu_write_bytes(p, huge, sizeof huge);
    assert_refused(p, "give 9223372036854775808, but the file has 16 bytes");
    /* A header length under the file size but over the 100 MB cap, in a
     * sparse file so the test costs no disk. */
    unsigned char big[8];
    uint64_t n = 150000000;
    for (int i = 0; i < 8; i++) big[i] = (unsigned char)(n >> (8 * i));
    tu_write_bytes(p, big, 8);
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 200000000), 0);
    close(fd);
    assert_refused(p, "limit");
    assert_refused(tu_dir, NULL);
    free(p);
}

static void test_writer_refuses_bad_input(void **state) {
    (void)state;
    char *p = tu_scratch("w.safetensors");
    make_tensors();
    fl_st_tensor ts[2] = {g_ts[0], g_ts[0]};
    fl_error_clear();
    assert_int_equal(fl_safetensors_write(p, ts, 2, NULL, NULL, 0), -1); /* same name twice */
    assert_non_null(strstr(fl_error_msg(), "w.safetensors"));
    ts[1].name = "__metadata__";
    assert_int_equal(fl_safetensors_write(p, ts, 2, NULL, NULL, 0), -1);
    ts[1] = g_ts[1];
    ts[1].numel = 4; /* disagrees with shape [3] */
    assert_int_equal(fl_safetensors_write(p, ts, 2, NULL, NULL, 0), -1);
    ts[1] = g_ts[1];
    ts[1].data = NULL;
    assert_int_equal(fl_safetensors_write(p, ts, 2, NULL, NULL, 0), -1);
    ts[1] = g_ts[1];
    ts[1].ndim = 9;
    assert_int_equal(fl_safetensors_write(p, ts, 2, NULL, NULL, 0), -1);
    ts[1] = g_ts[1];
    ts[1].shape[0] = -3;
    assert_int_equal(fl_safetensors_write(p, ts, 2, NULL, NULL, 0), -1);
    assert_int_equal(fl_safetensors_write(p, g_ts, 1, g_keys, NULL, 1), -1);
    const char *const dup[] = {"arch", "arch"};
    assert_int_equal(fl_safetensors_write(p, g_ts, 1, dup, dup, 2), -1);
    assert_non_null(strstr(fl_error_msg(), "'arch'"));
    char *q = tu_scratch("missing/w.safetensors");
    assert_int_equal(fl_safetensors_write(q, g_ts, 1, NULL, NULL, 0), -1);
    free(q);
    assert_int_equal(tu_count_entries(tu_dir, ""), 0);
    free(p);
}

/* The format checked by an independent reader: Python's struct and json. */
static void test_python_reads_it(void **state) {
    (void)state;
    if (access(PYTHON, X_OK) != 0) skip();
    char *p = tu_scratch("model.safetensors");
    make_tensors();
    assert_int_equal(fl_safetensors_write(p, g_ts, 4, g_keys, g_vals, 2), 0);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import json, struct, sys\n"
                    "raw = open(sys.argv[1], \"rb\").read()\n"
                    "(n,) = struct.unpack(\"<Q\", raw[:8])\n"
                    "assert n %% 8 == 0 and raw[8:9] == b\"{\", n\n"
                    "h = json.loads(raw[8:8 + n])\n"
                    "data = raw[8 + n:]\n"
                    "assert list(h) == [\"__metadata__\", \"layers.0.weight\", \"layers.0.bias\", "
                    "\"scale\", \"empty\"], list(h)\n"
                    "m = h[\"__metadata__\"]\n"
                    "assert sorted(m) == [\"arch\", \"config\"] and m[\"arch\"] == \"mlp\", m\n"
                    "q = chr(34)\n"
                    "assert json.loads(m[\"config\"]) == {\"lr\": 1e-3, \"name\": \"a \" + q + \"quoted\" + q + \" run\"}, m\n"
                    "w = h[\"layers.0.weight\"]\n"
                    "assert w == {\"dtype\": \"F32\", \"shape\": [3, 2], \"data_offsets\": [0, 24]}, w\n"
                    "assert h[\"layers.0.bias\"][\"data_offsets\"] == [24, 36]\n"
                    "assert h[\"scale\"][\"shape\"] == [] and h[\"scale\"][\"data_offsets\"] == [36, 40]\n"
                    "assert h[\"empty\"][\"shape\"] == [0, 4] and h[\"empty\"][\"data_offsets\"] == [40, 40]\n"
                    "assert len(data) == 40, len(data)\n"
                    "v = struct.unpack(\"<10f\", data)\n"
                    "assert v[:5] == (1.0, -2.0, 3.5, -4.0, 5.0) and v[6:] == (0.5, 0.0, -0.25, 42.0), v\n"
                    "' '%s'",
             p);
    assert_int_equal(system(cmd), 0);
    free(p);
}

TU_MAIN(TU_SCRATCH_TEST(test_roundtrip), TU_SCRATCH_TEST(test_every_truncation_is_refused),
        TU_SCRATCH_TEST(test_refuses_bad_files), TU_SCRATCH_TEST(test_refuses_bad_lengths),
        TU_SCRATCH_TEST(test_writer_refuses_bad_input), TU_SCRATCH_TEST(test_python_reads_it))
