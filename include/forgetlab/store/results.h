/* results.h: a study's results database (SQLite, WAL): one row per run and
 * one per measured checkpoint, written as soon as each ends, so a killed
 * study resumes where it stopped and several worker processes can write at
 * once. */
#ifndef FORGETLAB_RESULTS_H
#define FORGETLAB_RESULTS_H

#include "forgetlab/measure/measure.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* The measurement columns a database holds: a razor study's are
 * fl_measurement's fields, another study's its own (fl_results_open_with). */
#define FL_POINTS_MAX_FIELDS 48

typedef struct {
    sqlite3 *db;
    char *path;
    const char *const *fields;  /* the measurement columns, in order */
    int nfields;
    char **owned;               /* the schema read from the file, when it was */
} fl_results;

/* What identifies a run of the sweep. */
typedef struct {
    const char *method;
    double lr;
    const char *schedule;
    int epochs;
    uint64_t seed;
} fl_run_key;

/* "grpo_lr3.16e-05_constant_e1_s0": stable, readable, a valid directory name. */
void fl_run_id(const fl_run_key *k, char *buf, size_t n);
/* Whether two learning rates name the same run (they print the same in a
 * run id): a grid must not hold both. */
int fl_same_run_lr(double a, double b);

/* A razor study's database: made with fl_measurement's fields, or, when it
 * exists, refused unless it has exactly them. */
int fl_results_open(fl_results *r, const char *path);
/* The same with another study's fields (static strings). */
int fl_results_open_with(fl_results *r, const char *path, const char *const *fields, int nfields);
/* An existing database of any study, its fields read from it (analysis,
 * export). */
int fl_results_open_any(fl_results *r, const char *path);
void fl_results_close(fl_results *r);

/* Whether the run finished in an earlier invocation. */
int fl_results_run_done(fl_results *r, const char *run_id, int *done);
/* Rows so far: finished runs and measured checkpoints (progress). */
int fl_results_count(fl_results *r, int *runs, int *checkpoints);
/* Forgets the checkpoints of an unfinished earlier attempt of the run. */
int fl_results_begin_run(fl_results *r, const char *run_id);
int fl_results_add_checkpoint(fl_results *r, const fl_run_key *k, const char *run_id, int idx,
                              long step, double epoch, const fl_measurement *m);
/* times: wall, training, evaluation, predictors, the circuit probe within
 * the predictors (seconds). */
int fl_results_finish_run(fl_results *r, const fl_run_key *k, const char *run_id,
                          const fl_measurement *final, const double *times);
/* The same for any schema: vals holds r's fields in order; ranks the
 * per-layer update ranks as text ("" or NULL: none). */
int fl_results_add_checkpoint_vals(fl_results *r, const fl_run_key *k, const char *run_id, int idx, long step,
                                   double epoch, const double *vals);
int fl_results_finish_run_vals(fl_results *r, const fl_run_key *k, const char *run_id, const double *vals,
                               const double *times, const char *ranks);

/* The finished run of a method (of one seed; seed < 0: any) with the
 * highest final new-task accuracy (ties: least forgetting, then the run id). */
int fl_results_best_run(fl_results *r, const char *method, long seed, char *id, size_t n);

/* Records a run that diverged (status 'diverged', the error line): it
 * counts as finished, so a resumed study does not retry it. */
int fl_results_mark_diverged(fl_results *r, const fl_run_key *k, const char *run_id, const char *error);
int fl_results_count_diverged(fl_results *r, int *n);

/* One transaction around several writes: a run's checkpoints and its row
 * land together or not at all. */
int fl_results_begin(fl_results *r);
int fl_results_commit(fl_results *r);
void fl_results_rollback(fl_results *r);

/* The study's own record (table "study": key, value): version, grid,
 * shard, thread counts. get: *found 0 and buf "" when the key is absent. */
int fl_results_set_meta(fl_results *r, const char *key, const char *value);
int fl_results_get_meta(fl_results *r, const char *key, char *buf, size_t n, int *found);
/* The same from the database at path, opened read-only (nothing created,
 * nothing changed: for checks before a command writes). */
int fl_results_peek_meta(const char *path, const char *key, char *buf, size_t n, int *found);

/* Copies the finished runs of another results database, with their
 * checkpoints, that r does not hold yet. *copied: runs copied; *dups: runs
 * r already held (left as they were). Refuses a database whose tables
 * differ from r's. */
int fl_results_import(fl_results *r, const char *other_path, int *copied, int *dups);

/* Every checkpoint row, for the fits: method name, run (numbered 0, 1, ...
 * in order of run id) and seed per row, and the measurement fields (in the
 * database's order, named by fields; fl_points_field finds one); per run, its method, seed and the
 * numerical rank of each layer's update at its end (nlayers[r] 0 when
 * not recorded). */
typedef struct {
    int n, nruns;
    char (*method)[32];
    int *run, *seed;
    double *lr;          /* each point's run's learning rate */
    int nf;
    char (*fields)[40];
    double (*vals)[FL_POINTS_MAX_FIELDS];
    char (*run_method)[32];
    int *run_seed, *nlayers, (*rank)[FL_MLP_MAX_LAYERS];
} fl_points;
int fl_results_points(fl_results *r, fl_points *out);
void fl_points_free(fl_points *p);
/* Index of a field name in fl_measurement_fields order, or -1. */
int fl_field_index(const char *name);
/* Index of a field name among the points' fields, or -1. */
int fl_points_field(const fl_points *p, const char *name);

/* Writes the checkpoint rows (run key columns, then every field) as CSV,
 * atomically. */
int fl_results_export_csv(fl_results *r, const char *path);

#endif
