/* test_curves.c: training curves from metrics.jsonl (src/report/curves.c):
 * the columns a line lacks read as NaN, lines that are not JSON are
 * skipped, an empty or missing file is refused with its name, and a figure
 * is drawn only from the columns that have finite values. */
#include "testutil.h"

#include "report/curves.h"

#include <math.h>

static void write_metrics(const char *text) {
    char *path = tu_scratch("metrics.jsonl");
    tu_write_bytes(path, text, strlen(text));
    free(path);
}

static void test_read_columns(void **state) {
    (void)state;
    write_metrics("{\"step\":10,\"loss\":2.5}\n"
                  "not json\n"
                  "{\"step\":20,\"loss\":2.0,\"acc\":0.5}\n"
                  "{\"step\":30,\"acc\":\"high\"}\n");
    const char *names[] = {"step", "loss", "acc"};
    fl_curves t;
    assert_int_equal(fl_curves_read(tu_dir, names, 3, &t), 0);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.ncols, 3);
    assert_true(t.col[0][0] == 10 && t.col[0][1] == 20 && t.col[0][2] == 30);
    assert_true(t.col[1][0] == 2.5 && t.col[1][1] == 2.0 && isnan(t.col[1][2]));
    /* Missing, and present but not a number: both NaN. */
    assert_true(isnan(t.col[2][0]) && t.col[2][1] == 0.5 && isnan(t.col[2][2]));
    fl_curves_free(&t);
    assert_null(t.col);
}

static void test_refuses_empty_and_missing(void **state) {
    (void)state;
    const char *names[] = {"step"};
    fl_curves t;
    assert_int_equal(fl_curves_read(tu_dir, names, 1, &t), -1); /* no file yet */
    assert_non_null(strstr(fl_error_msg(), "metrics.jsonl"));
    write_metrics("");
    assert_int_equal(fl_curves_read(tu_dir, names, 1, &t), -1);
    assert_non_null(strstr(fl_error_msg(), "no metrics"));
}

static void test_plot_only_finite_columns(void **state) {
    (void)state;
    write_metrics("{\"step\":1,\"a\":0.1}\n{\"step\":2,\"a\":0.4}\n{\"step\":3,\"a\":0.9}\n");
    const char *names[] = {"step", "a", "b"};
    fl_curves t;
    assert_int_equal(fl_curves_read(tu_dir, names, 3, &t), 0);
    const int cols[] = {1, 2};
    const char *labels[] = {"a", "b"};
    fl_curves_fig f = {.name = "fig", .xlabel = "step", .ylabel = "value", .xcol = 0, .cols = cols,
                       .labels = labels, .ncols = 2, .ymin = 0, .ymax = 1};
    assert_int_equal(fl_curves_plot(tu_dir, &t, &f), 0);
    char *png = tu_scratch("fig.png"), *svg = tu_scratch("fig.svg");
    assert_true(fl_file_exists(png) && fl_file_exists(svg));
    /* A figure whose every column is empty: no file, no error. */
    const int empty[] = {2};
    f.name = "none", f.cols = empty, f.ncols = 1;
    assert_int_equal(fl_curves_plot(tu_dir, &t, &f), 0);
    char *none = tu_scratch("none.png");
    assert_false(fl_file_exists(none));
    free(png), free(svg), free(none);
    fl_curves_free(&t);
}

TU_MAIN(TU_SCRATCH_TEST(test_read_columns), TU_SCRATCH_TEST(test_refuses_empty_and_missing),
        TU_SCRATCH_TEST(test_plot_only_finite_columns))
