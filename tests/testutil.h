/* testutil.h: helpers the unit tests share: each test file's main
 * (TU_MAIN), a fresh scratch directory per test under $FORGETLAB_TEST_TMP
 * (removed again afterwards), writing raw bytes to a file, counting and
 * listing what a directory holds (so a test can see that no temporary file
 * was left behind), refusing every truncated copy of a file and a table of
 * malformed ones, and checking that a refusal left one clear error
 * message. Header-only because each test is its own executable; everything
 * is static inline so unused helpers do not warn. */
#ifndef FORGETLAB_TEST_TESTUTIL_H
#define FORGETLAB_TEST_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under $FORGETLAB_TEST_TMP (else /tmp), named after the
 * test (TAG.XXXXXX), into buf. Returns 0 on success. */
static inline int tu_mkscratch(char *buf, size_t n, const char *tag) {
    const char *base = getenv("FORGETLAB_TEST_TMP");
    if (!base || !*base) base = "/tmp";
    if (fl_mkdirs(base)) return -1;
    snprintf(buf, n, "%s/%s.XXXXXX", base, tag);
    return mkdtemp(buf) ? 0 : -1;
}

/* rm -rf path; directories are made writable first, so a test may leave
 * read-only ones behind. */
static inline void tu_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0755);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *sub = fl_path_join(path, e->d_name);
            tu_remove_tree(sub);
            free(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* The running test's scratch directory: made afresh by tu_scratch_setup,
 * removed with all it holds by tu_scratch_teardown. */
static char tu_dir[4096];

/* For a cmocka setup: a fresh tu_dir named after the test (TAG.XXXXXX). */
static inline int tu_scratch_setup(const char *tag) { return tu_mkscratch(tu_dir, sizeof tu_dir, tag); }

/* A cmocka teardown: removes tu_dir. */
static inline int tu_scratch_teardown(void **state) {
    (void)state;
    tu_remove_tree(tu_dir);
    return 0;
}

/* What tu_setup names scratch directories after: the test program's name
 * (test_npy, ...), set by TU_MAIN, so a directory a crashed test left
 * behind says where it came from. */
static const char *tu_prog = "test";

/* TU_MAIN's first step: tu_prog becomes the last part of argv0. */
static inline void tu_set_prog(const char *argv0) {
    if (!argv0 || !*argv0) return;
    const char *slash = strrchr(argv0, '/');
    tu_prog = slash ? slash + 1 : argv0;
}

/* A cmocka setup: a fresh tu_dir named after the test program. */
static inline int tu_setup(void **state) {
    (void)state;
    return tu_scratch_setup(tu_prog);
}

/* A test entry whose test runs in a fresh tu_dir, removed afterwards. */
#define TU_SCRATCH_TEST(f) cmocka_unit_test_setup_teardown(f, tu_setup, tu_scratch_teardown)

/* A test file's main: runs the tests listed (cmocka_unit_test and
 * TU_SCRATCH_TEST entries) as one group, group_setup before them all and
 * group_teardown after them (either may be NULL). */
#define TU_MAIN_WITH(group_setup, group_teardown, ...)                     \
    int main(int argc, char **argv) {                                      \
        tu_set_prog(argc > 0 ? argv[0] : NULL);                            \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                   \
        return cmocka_run_group_tests(tests, group_setup, group_teardown); \
    }

/* TU_MAIN_WITH without group setup or teardown. */
#define TU_MAIN(...) TU_MAIN_WITH(NULL, NULL, __VA_ARGS__)

/* tu_dir/name, malloc'ed (the caller frees). */
static inline char *tu_scratch(const char *name) { return fl_path_join(tu_dir, name); }

/* Writes the n bytes at data to path, replacing it. Returns 0 on success. */
static inline int tu_write_file(const char *path, const void *data, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t w = n ? fwrite(data, 1, n, fp) : 0;
    return (fclose(fp) == 0 && w == n) ? 0 : -1;
}

/* tu_write_file, failing the test if it fails. */
static inline void tu_write_bytes(const char *path, const void *data, size_t n) {
    if (tu_write_file(path, data, n) != 0) fail_msg("cannot write %zu bytes to %s", n, path);
}

/* The number of entries of dir (not . or ..) whose name starts with prefix
 * ("" counts them all), or -1 when dir cannot be read. */
static inline int tu_count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strcmp(e->d_name, ".") &&
            strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* dir holds exactly one entry, named name (nothing at all when name is
 * NULL): no temporary file was left behind. */
static inline void tu_assert_only_entry(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (!name || strcmp(e->d_name, name) != 0) fail_msg("unexpected entry %s in %s", e->d_name, dir);
    }
    closedir(d);
    assert_int_equal(n, name ? 1 : 0);
}

/* The last error is one non-empty line that mentions path and, unless it is
 * NULL, needle. */
static inline void tu_assert_error_mentions(const char *path, const char *needle) {
    const char *msg = fl_error_msg();
    assert_true(strlen(msg) > 0);
    assert_null(strchr(msg, '\n'));
    assert_non_null(strstr(msg, path));
    if (needle && !strstr(msg, needle)) fail_msg("'%s' does not mention '%s'", msg, needle);
}

/* A hand-made file that must be refused: its header, the amount of data
 * after it (in the format's own unit), and what the error must mention
 * (NULL: anything). */
typedef struct {
    const char *header;
    size_t ndata;
    const char *needle;
} tu_bad_file;

/* Each of the n cases, written in turn to path by write_case, is refused:
 * refused(path, needle) checks each. */
static inline void tu_assert_bad_files_refused(const char *path, const tu_bad_file *cases, size_t n,
                                               void (*write_case)(const char *path, const char *header, size_t ndata),
                                               void (*refused)(const char *path, const char *needle)) {
    for (size_t i = 0; i < n; i++) {
        write_case(path, cases[i].header, cases[i].ndata);
        refused(path, cases[i].needle);
    }
}

/* Every proper prefix of the file full (the empty one included), written in
 * turn to cut, is refused: refused(cut, NULL) checks each. */
static inline void tu_assert_prefixes_refused(const char *full, const char *cut,
                                              void (*refused)(const char *path, const char *needle)) {
    char *raw;
    size_t len;
    assert_int_equal(fl_read_file(full, &raw, &len), 0);
    for (size_t k = 0; k < len; k++) {
        tu_write_bytes(cut, raw, k);
        refused(cut, NULL);
    }
    free(raw);
}

#endif
