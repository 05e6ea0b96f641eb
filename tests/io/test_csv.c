/* test_csv.c: the CSV reader on what the studies write and what RFC 4180
 * allows: quoted fields with commas, quotes and newlines, short rows,
 * CRLF, blank lines; numbers and missing cells; an empty file refused. */
#include "testutil.h"

#include "forgetlab/io/csv.h"

#include <math.h>

static void test_quoted_short_crlf(void **state) {
    (void)state;
    char *p = tu_scratch("t.csv");
    assert_int_equal(fl_write_text_atomic(p, "name,r2,note\r\nforward_kl_new,0.5,\"a, \"\"b\"\"\nc\"\r\n\n"
                                             "tv_new,,x\nshort,1e-3\n"), 0);
    fl_csv t;
    assert_int_equal(fl_csv_read(p, &t), 0);
    assert_int_equal(t.ncols, 3);
    assert_int_equal(t.nrows, 3);
    assert_int_equal(fl_csv_col(&t, "r2"), 1);
    assert_int_equal(fl_csv_col(&t, "nope"), -1);
    assert_string_equal(fl_csv_get(&t, 0, 2), "a, \"b\"\nc");
    assert_float_equal(fl_csv_num(&t, 0, 1), 0.5, 0);
    assert_true(isnan(fl_csv_num(&t, 1, 1)));             /* empty */
    assert_true(isnan(fl_csv_num(&t, 1, 2)));             /* not a number */
    assert_float_equal(fl_csv_num(&t, 2, 1), 1e-3, 0);
    assert_string_equal(fl_csv_get(&t, 2, 2), "");        /* a short row */
    assert_true(isnan(fl_csv_num(&t, 0, -1)));            /* an absent column */
    fl_csv_free(&t);
    free(p);
}

static void test_refusals(void **state) {
    (void)state;
    char *p = tu_scratch("e.csv");
    fl_csv t;
    assert_int_equal(fl_write_text_atomic(p, ""), 0);
    assert_int_not_equal(fl_csv_read(p, &t), 0);
    assert_non_null(strstr(fl_error_msg(), "empty"));
    assert_int_equal(fl_write_text_atomic(p, "a,b\n1,2,3\n"), 0);
    assert_int_not_equal(fl_csv_read(p, &t), 0);
    assert_non_null(strstr(fl_error_msg(), "more fields"));
    char *missing = tu_scratch("missing.csv");
    assert_int_not_equal(fl_csv_read(missing, &t), 0);
    free(p), free(missing);
}

TU_MAIN(cmocka_unit_test(test_quoted_short_crlf), cmocka_unit_test(test_refusals))
