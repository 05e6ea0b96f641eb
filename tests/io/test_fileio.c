/* test_fileio.c: atomic writes leave either the old or the new file and never
 * a temporary one, reads return whole files, appends add whole lines, and
 * the path helpers behave like their shell counterparts. */
#include "testutil.h"

static void assert_file_is(const char *path, const char *want, size_t wn) {
    char *data;
    size_t n;
    assert_int_equal(fl_read_file(path, &data, &n), 0);
    assert_int_equal(n, wn);
    assert_memory_equal(data, want, wn);
    assert_int_equal(data[n], '\0');
    free(data);
}

/* path holds want and is all the scratch directory holds: no temporary
 * file was left behind. */
static void assert_only_file_is(const char *path, const char *want, size_t wn) {
    assert_file_is(path, want, wn);
    tu_assert_only_entry(tu_dir, strrchr(path, '/') + 1);
}

static void test_write_read_roundtrip(void **state) {
    (void)state;
    char *p = tu_scratch("blob.bin");
    const char bin[] = {'a', '\0', 'b', '\n', (char)0xff};
    assert_int_equal(fl_write_file_atomic(p, bin, sizeof bin), 0);
    assert_only_file_is(p, bin, sizeof bin);
    /* Overwriting replaces the content in one piece. */
    assert_int_equal(fl_write_text_atomic(p, "second version\n"), 0);
    assert_file_is(p, "second version\n", 15);
    assert_int_equal(fl_write_text_atomic(p, ""), 0);
    assert_only_file_is(p, "", 0);
    free(p);
}

static void test_large_file_and_pseudo_file(void **state) {
    (void)state;
    char *p = tu_scratch("big.bin");
    size_t n = 300000;
    char *buf = malloc(n);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) buf[i] = (char)(i * 7 + 3);
    fl_afile f;
    assert_int_equal(fl_afile_open(&f, p), 0);
    /* Many small writes, as the model writers do. */
    for (size_t at = 0; at < n; at += 1000) assert_int_equal(fl_afile_write(&f, buf + at, 1000), 0);
    assert_int_equal(fl_afile_commit(&f), 0);
    assert_file_is(p, buf, n);
    free(buf);
    free(p);
    /* /proc files report size 0: the reader must not trust fstat. */
    char *data;
    size_t len;
    assert_int_equal(fl_read_file("/proc/self/status", &data, &len), 0);
    assert_true(len > 0);
    assert_non_null(strstr(data, "Name:"));
    free(data);
}

static void test_abort_keeps_old_file(void **state) {
    (void)state;
    char *p = tu_scratch("model.bin");
    assert_int_equal(fl_write_text_atomic(p, "old"), 0);
    fl_afile f;
    assert_int_equal(fl_afile_open(&f, p), 0);
    assert_int_equal(fl_afile_write(&f, "new and half-writ", 17), 0);
    fl_afile_abort(&f);
    assert_only_file_is(p, "old", 3);
    /* A write that failed part-way makes commit refuse and clean up. */
    assert_int_equal(fl_afile_open(&f, p), 0);
    assert_int_equal(fl_afile_write(&f, "new", 3), 0);
    f.failed = 1;
    fl_error_clear();
    assert_int_equal(fl_afile_commit(&f), -1);
    assert_non_null(strstr(fl_error_msg(), "model.bin"));
    assert_only_file_is(p, "old", 3);
    free(p);
}

static void test_abort_of_new_file_leaves_nothing(void **state) {
    (void)state;
    char *p = tu_scratch("never.bin");
    fl_afile f;
    assert_int_equal(fl_afile_open(&f, p), 0);
    assert_int_equal(fl_afile_write(&f, "x", 1), 0);
    fl_afile_abort(&f);
    assert_false(fl_file_exists(p));
    tu_assert_only_entry(tu_dir, NULL);
    free(p);
}

static void test_permissions_follow_umask(void **state) {
    (void)state;
    char *p = tu_scratch("perm.txt");
    mode_t old = umask(022);
    assert_int_equal(fl_write_text_atomic(p, "x"), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    free(p);
}

static void test_errors_name_the_file(void **state) {
    (void)state;
    char *p = tu_scratch("no/such/dir/out.bin");
    fl_error_clear();
    assert_int_equal(fl_write_text_atomic(p, "x"), -1);
    assert_non_null(strstr(fl_error_msg(), "out.bin"));
    assert_null(strchr(fl_error_msg(), '\n'));
    tu_assert_only_entry(tu_dir, NULL);

    char *data = (char *)1;
    size_t n = 99;
    fl_error_clear();
    assert_int_equal(fl_read_file(p, &data, &n), -1);
    assert_null(data);
    assert_non_null(strstr(fl_error_msg(), "out.bin"));
    fl_error_clear();
    assert_int_equal(fl_read_file(tu_dir, &data, &n), -1); /* a directory */
    assert_null(data);
    assert_true(strlen(fl_error_msg()) > 0);
    fl_error_clear();
    assert_int_equal(fl_append_line(p, "x"), -1);
    assert_non_null(strstr(fl_error_msg(), "out.bin"));
    /* A directory in the destination's place: rename fails, nothing left. */
    char *d = tu_scratch("adir");
    assert_int_equal(fl_mkdirs(d), 0);
    char *inner = fl_path_join(d, "keep");
    assert_int_equal(fl_write_text_atomic(inner, "k"), 0);
    fl_error_clear();
    assert_int_equal(fl_write_text_atomic(d, "x"), -1);
    assert_non_null(strstr(fl_error_msg(), "adir"));
    tu_assert_only_entry(tu_dir, "adir");
    free(inner);
    free(d);
    free(p);
}

static void test_append_line(void **state) {
    (void)state;
    char *p = tu_scratch("metrics.jsonl");
    assert_int_equal(fl_append_line(p, "{\"step\":1}"), 0);
    assert_int_equal(fl_append_line(p, "{\"step\":2}"), 0);
    assert_int_equal(fl_append_line(p, ""), 0);
    const char want[] = "{\"step\":1}\n{\"step\":2}\n\n";
    assert_file_is(p, want, sizeof want - 1);
    free(p);
}

static void test_mkdirs(void **state) {
    (void)state;
    char *p = tu_scratch("a/b//c/");
    assert_int_equal(fl_mkdirs(p), 0);
    assert_int_equal(fl_mkdirs(p), 0); /* idempotent */
    char *c = tu_scratch("a/b/c");
    struct stat st;
    assert_int_equal(stat(c, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* A regular file in the way. */
    char *f = tu_scratch("a/file");
    assert_int_equal(fl_write_text_atomic(f, "x"), 0);
    char *under = tu_scratch("a/file/sub");
    fl_error_clear();
    assert_int_equal(fl_mkdirs(under), -1);
    assert_non_null(strstr(fl_error_msg(), "a/file"));
    fl_error_clear();
    assert_int_equal(fl_mkdirs(f), -1);
    assert_true(strlen(fl_error_msg()) > 0);
    assert_int_equal(fl_mkdirs(""), -1);
    free(under);
    free(f);
    free(c);
    free(p);
}

static void test_path_join_and_exists(void **state) {
    (void)state;
    char *j = fl_path_join("runs/x", "model.safetensors");
    assert_string_equal(j, "runs/x/model.safetensors");
    free(j);
    j = fl_path_join("runs/x/", "m");
    assert_string_equal(j, "runs/x/m");
    free(j);
    j = fl_path_join("", "m");
    assert_string_equal(j, "m");
    free(j);
    j = fl_path_join("/", "m");
    assert_string_equal(j, "/m");
    free(j);

    char *p = tu_scratch("here.txt");
    assert_false(fl_file_exists(p));
    assert_int_equal(fl_write_text_atomic(p, "x"), 0);
    assert_true(fl_file_exists(p));
    assert_true(fl_file_exists(tu_dir));
    free(p);
}

/* Each test gets a fresh, empty directory, so listing it shows exactly what
 * the code under test left behind. */
TU_MAIN(TU_SCRATCH_TEST(test_write_read_roundtrip), TU_SCRATCH_TEST(test_large_file_and_pseudo_file),
        TU_SCRATCH_TEST(test_abort_keeps_old_file), TU_SCRATCH_TEST(test_abort_of_new_file_leaves_nothing),
        TU_SCRATCH_TEST(test_permissions_follow_umask), TU_SCRATCH_TEST(test_errors_name_the_file),
        TU_SCRATCH_TEST(test_append_line), TU_SCRATCH_TEST(test_mkdirs), TU_SCRATCH_TEST(test_path_join_and_exists))
