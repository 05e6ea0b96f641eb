/* fuzz_results.c: a study's results.sqlite is opened again to resume a
 * killed study and to build the report, so a damaged or foreign database
 * must give an error, not a crash. SQLite guards its own file format; what
 * is fuzzed here is forgetlab's side: opening (schema creation on whatever
 * is there) and every read path on rows it did not write. */
#include "fuzz_util.h"

#include "forgetlab/store/results.h"

static char *db_path, *wal, *shm, *csv;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!db_path) {
        db_path = fz_path("results.sqlite");
        wal = fz_path("results.sqlite-wal");
        shm = fz_path("results.sqlite-shm");
        csv = fz_path("results.csv");
    }
    unlink(wal);
    unlink(shm);
    fz_write(db_path, data, size);
    fl_results r;
    if (fl_results_open(&r, db_path) != 0) return 0;
    int done, runs, checkpoints, diverged;
    char id[256];
    fl_points pts;
    (void)fl_results_run_done(&r, "grpo_lr1.00e-04_constant_e1_s0", &done);
    (void)fl_results_count(&r, &runs, &checkpoints);
    (void)fl_results_count_diverged(&r, &diverged);
    (void)fl_results_best_run(&r, "grpo", id, sizeof id);
    if (fl_results_points(&r, &pts) == 0) fl_points_free(&pts);
    (void)fl_results_export_csv(&r, csv);
    fl_results_close(&r);
    return 0;
}
