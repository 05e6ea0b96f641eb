/* test_results.c: the results database keeps what a study writes (runs,
 * checkpoints, diverged runs) and gives it back through every read path, and
 * a database that forgetlab did not write (long values, NULLs where it never
 * puts them) is read without overrunning anything. */
#include "testutil.h"

#include "forgetlab/store/results.h"

#include <sqlite3.h>

static const fl_run_key KEY = {"grpo", 1e-4, "constant", 1, 0};

/* One finished run with one checkpoint, and one diverged run. */
static void write_study(const char *path) {
    fl_results r;
    assert_int_equal(fl_results_open(&r, path), 0);
    fl_measurement m = {.new_acc = 0.9, .prior_acc = 0.7, .forgetting = 0.125, .nlayers = 2,
                        .weight_rank = {3, 2}};
    char id[128];
    fl_run_id(&KEY, id, sizeof id);
    double times[5] = {1, 2, 3, 4, 0.5};
    assert_int_equal(fl_results_begin_run(&r, id), 0);
    assert_int_equal(fl_results_add_checkpoint(&r, &KEY, id, 0, 10, 0.5, &m), 0);
    assert_int_equal(fl_results_finish_run(&r, &KEY, id, &m, times), 0);
    fl_run_key d = {"sft1", 3e-3, "cosine", 2, 1};
    fl_run_id(&d, id, sizeof id);
    assert_int_equal(fl_results_mark_diverged(&r, &d, id, "loss is NaN"), 0);
    fl_results_close(&r);
}

static void test_roundtrip(void **state) {
    (void)state;
    char *db = tu_scratch("results.sqlite"), *csv = tu_scratch("results.csv");
    write_study(db);
    fl_results r;
    assert_int_equal(fl_results_open(&r, db), 0);
    int runs = 0, cps = 0, div = 0, done = 0;
    assert_int_equal(fl_results_count(&r, &runs, &cps), 0);
    assert_int_equal(runs, 2);
    assert_int_equal(cps, 1);
    assert_int_equal(fl_results_count_diverged(&r, &div), 0);
    assert_int_equal(div, 1);
    assert_int_equal(fl_results_run_done(&r, "grpo_lr1.00e-04_constant_e1_s0", &done), 0);
    assert_int_equal(done, 1);
    char id[128];
    assert_int_equal(fl_results_best_run(&r, "grpo", -1, id, sizeof id), 0);
    assert_string_equal(id, "grpo_lr1.00e-04_constant_e1_s0");
    fl_points pts;
    assert_int_equal(fl_results_points(&r, &pts), 0);
    assert_int_equal(pts.n, 1);
    assert_string_equal(pts.method[0], "grpo");
    assert_true(pts.vals[0][fl_field_index("forgetting")] == 0.125);
    fl_points_free(&pts);
    assert_int_equal(fl_results_export_csv(&r, csv), 0);
    fl_results_close(&r);
    char *text;
    size_t n;
    assert_int_equal(fl_read_file(csv, &text, &n), 0);
    const char *head = "run_id,method,lr,schedule,epochs,seed,idx,step,epoch,new_acc_base,";
    assert_true(strncmp(text, head, strlen(head)) == 0);
    assert_non_null(strstr(text, "\ngrpo_lr1.00e-04_constant_e1_s0,grpo,0.0001,constant,1,0,0,10,0.5,0,0.9,"));
    assert_int_equal(text[n - 1], '\n');
    free(text);
    free(csv);
    free(db);
}

static void exec_sql(const char *path, const char *sql) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

/* The CSV export built each row in an 8 KB buffer and wrote past it for a
 * longer row (UBSan's report through fuzz/fuzz_results); the report and the
 * fits passed a NULL run_id or method to printf's %s. */
static void test_foreign_rows(void **state) {
    (void)state;
    char *db = tu_scratch("results.sqlite"), *csv = tu_scratch("results.csv");
    write_study(db);
    exec_sql(db, "UPDATE checkpoints SET run_id = replace(hex(zeroblob(10000)), '0', 'r');"
                 "INSERT INTO checkpoints (run_id, method, idx) VALUES ('x', NULL, 1);"
                 "INSERT INTO runs (run_id, method, status) VALUES (NULL, 'simpo', 'done');");
    fl_results r;
    assert_int_equal(fl_results_open(&r, db), 0);
    assert_int_equal(fl_results_export_csv(&r, csv), 0);
    fl_points pts;
    assert_int_equal(fl_results_points(&r, &pts), 0);
    assert_int_equal(pts.n, 2);
    assert_string_equal(pts.method[0], "grpo");
    assert_string_equal(pts.method[1], "");
    fl_points_free(&pts);
    char id[64] = "unset";
    assert_int_equal(fl_results_best_run(&r, "simpo", -1, id, sizeof id), 0);
    assert_string_equal(id, "");
    fl_results_close(&r);
    char *text;
    size_t n;
    assert_int_equal(fl_read_file(csv, &text, &n), 0);
    char *row = strstr(text, "\nrrr");
    assert_non_null(row);
    row++;
    assert_int_equal(strspn(row, "r"), 20000);
    assert_true(strncmp(row + 20000, ",grpo,0.0001,", 13) == 0);
    assert_non_null(strstr(text, "\nx,,,,,,1,,"));
    free(text);
    free(csv);
    free(db);
}

/* Text holding a comma, a quote or a line break is quoted (RFC 4180), so a
 * CSV reader gets the database's value back, not extra columns. */
static void test_csv_quoting(void **state) {
    (void)state;
    char *db = tu_scratch("results.sqlite"), *csv = tu_scratch("results.csv");
    write_study(db);
    exec_sql(db, "UPDATE checkpoints SET method = 'a,b \"c\"' || char(10) || 'd', schedule = 'plain';");
    fl_results r;
    assert_int_equal(fl_results_open(&r, db), 0);
    assert_int_equal(fl_results_export_csv(&r, csv), 0);
    fl_results_close(&r);
    char *text;
    size_t n;
    assert_int_equal(fl_read_file(csv, &text, &n), 0);
    assert_non_null(strstr(text, "\ngrpo_lr1.00e-04_constant_e1_s0,\"a,b \"\"c\"\"\nd\",0.0001,plain,1,"));
    free(text);
    free(csv);
    free(db);
}

TU_MAIN(TU_SCRATCH_TEST(test_roundtrip), TU_SCRATCH_TEST(test_foreign_rows), TU_SCRATCH_TEST(test_csv_quoting))
