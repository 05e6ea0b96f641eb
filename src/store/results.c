/* results.c: the study's SQLite database: schema, resumable run
 * bookkeeping, checkpoint rows, and the CSV export for pandas. */
#include "forgetlab/store/results.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_COLS "run_id TEXT, method TEXT, lr REAL, schedule TEXT, epochs INTEGER, seed INTEGER"

int fl_same_run_lr(double a, double b) {
    char x[32], y[32];
    snprintf(x, sizeof x, "%.2e", a);
    snprintf(y, sizeof y, "%.2e", b);
    return strcmp(x, y) == 0;
}

void fl_run_id(const fl_run_key *k, char *buf, size_t n) {
    snprintf(buf, n, "%s_lr%.2e_%s_e%d_s%llu", k->method, k->lr, k->schedule, k->epochs,
             (unsigned long long)k->seed);
}

int fl_field_index(const char *name) {
    const char *names[FL_MEASURE_NFIELDS];
    fl_measurement dummy = {0};
    fl_measurement_fields(&dummy, names, NULL);
    for (int i = 0; i < FL_MEASURE_NFIELDS; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

static int db_error(fl_results *r, const char *what) {
    return fl_error_set("%s: %s: %s", r->path, what, sqlite3_errmsg(r->db));
}

/* Prepares sql into *st with text bound to its first parameter; what names
 * the statement in the error when it cannot be prepared. */
static int prepare_with(fl_results *r, sqlite3_stmt **st, const char *sql, const char *text, const char *what) {
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK) return db_error(r, what);
    sqlite3_bind_text(*st, 1, text, -1, SQLITE_TRANSIENT);
    return 0;
}

/* Column 0 of the row st stands on (row: it does) as text into buf; "" when
 * there is no row or the value is NULL. */
static void column_text(sqlite3_stmt *st, int row, char *buf, size_t n) {
    const unsigned char *v = row ? sqlite3_column_text(st, 0) : NULL;
    snprintf(buf, n, "%s", v ? (const char *)v : "");
}

/* A text column, "" for NULL (SQLite allows NULL even in a TEXT PRIMARY
 * KEY), where printf's %s needs a string. */
static const char *column_str(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static int exec(fl_results *r, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fl_error_set("%s: %s", r->path, err ? err : "SQL error");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* ", col1 REAL, col2 REAL, ..." for every field of r's schema. */
static void field_columns(const fl_results *r, char *buf, size_t n, const char *suffix) {
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->nfields && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, ", %s%s", r->fields[i], suffix);
}

/* The razor study's fields: every scalar of fl_measurement. */
static const char *const *razor_fields(void) {
    static const char *names[FL_MEASURE_NFIELDS];
    fl_measurement dummy = {0};
    fl_measurement_fields(&dummy, names, NULL);
    return names;
}

/* The measurement columns of an existing checkpoints table (those after
 * run_id, method, lr, schedule, epochs, seed, idx, step, epoch), as r's
 * own copy of the schema; *n 0 when there is no such table. */
static int existing_fields(fl_results *r, int *n) {
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(r->db, "PRAGMA table_info(checkpoints)", -1, &st, NULL) != SQLITE_OK)
        return db_error(r, "query");
    int col = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (col++ < 9) continue;
        if (*n == FL_POINTS_MAX_FIELDS) {
            sqlite3_finalize(st);
            return fl_error_set("%s: more than %d measurement columns", r->path, FL_POINTS_MAX_FIELDS);
        }
        char **o = realloc(r->owned, sizeof(char *) * (size_t)(*n + 1));
        if (!o) break;
        r->owned = o;
        if (!(r->owned[*n] = strdup(column_str(st, 1)))) break;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return rc == SQLITE_ROW ? fl_error_set("out of memory") : db_error(r, "query");
    r->fields = (const char *const *)r->owned, r->nfields = *n;
    return 0;
}

/* Opens path. fields NULL: the database must exist, its schema is read
 * from it. Otherwise the tables are made with these fields, or, when they
 * exist, must have exactly them. */
static int open_schema(fl_results *r, const char *path, const char *const *fields, int nfields) {
    memset(r, 0, sizeof *r);
    r->path = strdup(path);
    if (!r->path) return fl_error_set("out of memory");
    if (nfields > FL_POINTS_MAX_FIELDS) return fl_error_set("%d fields: at most %d", nfields, FL_POINTS_MAX_FIELDS);
    const int flags = fields ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path, &r->db, flags, NULL) != SQLITE_OK) {
        int rc = db_error(r, "cannot open");
        fl_results_close(r);
        return rc;
    }
    /* Several processes write at once: wait for the lock instead of failing. */
    sqlite3_busy_timeout(r->db, 60000);
    int have = 0;
    if (existing_fields(r, &have)) {
        fl_results_close(r);
        return -1;
    }
    if (!fields && have == 0) {
        fl_results_close(r);
        return fl_error_set("%s: not a study's results database (no checkpoints table)", path);
    }
    if (fields && have) {
        int same = have == nfields;
        for (int i = 0; same && i < nfields; i++) same = strcmp(fields[i], r->fields[i]) == 0;
        if (!same) {
            fl_error_set("%s: holds another kind of study's results (its columns differ)", path);
            fl_results_close(r);
            return -1;
        }
    }
    if (fields) r->fields = fields, r->nfields = nfields;
    char cols[4096], sql[12288];
    field_columns(r, cols, sizeof cols, " REAL");
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL;"
             "CREATE TABLE IF NOT EXISTS runs (" KEY_COLS ", status TEXT, error TEXT, wall_time_s REAL, train_s REAL, eval_s REAL,"
             " predictors_s REAL, circuit_s REAL, weight_rank TEXT%s,"
             " PRIMARY KEY (run_id));"
             "CREATE TABLE IF NOT EXISTS checkpoints (" KEY_COLS ", idx INTEGER, step INTEGER,"
             " epoch REAL%s, PRIMARY KEY (run_id, idx));"
             "CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT);",
             cols, cols);
    if (exec(r, sql)) {
        fl_results_close(r);
        return -1;
    }
    return 0;
}

int fl_results_open(fl_results *r, const char *path) {
    return open_schema(r, path, razor_fields(), FL_MEASURE_NFIELDS);
}

int fl_results_open_with(fl_results *r, const char *path, const char *const *fields, int nfields) {
    return open_schema(r, path, fields, nfields);
}

int fl_results_open_any(fl_results *r, const char *path) { return open_schema(r, path, NULL, 0); }

void fl_results_close(fl_results *r) {
    if (r->db) sqlite3_close(r->db);
    for (int i = 0; r->owned && i < r->nfields; i++) free(r->owned[i]);
    free(r->owned);
    free(r->path);
    memset(r, 0, sizeof *r);
}

int fl_results_run_done(fl_results *r, const char *run_id, int *done) {
    sqlite3_stmt *st;
    if (prepare_with(r, &st, "SELECT 1 FROM runs WHERE run_id = ?", run_id, "query")) return -1;
    int rc = sqlite3_step(st);
    *done = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(r, "query");
}

int fl_results_count(fl_results *r, int *runs, int *checkpoints) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM checkpoints)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(r, "query");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *runs = sqlite3_column_int(st, 0);
        *checkpoints = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_error(r, "query");
}

int fl_results_begin_run(fl_results *r, const char *run_id) {
    sqlite3_stmt *st;
    if (prepare_with(r, &st, "DELETE FROM checkpoints WHERE run_id = ?", run_id, "delete")) return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(r, "delete");
}

int fl_results_begin(fl_results *r) {
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout),
     * not at the first insert, where a conflict could not be waited out. */
    return exec(r, "BEGIN IMMEDIATE");
}

int fl_results_commit(fl_results *r) { return exec(r, "COMMIT"); }

void fl_results_rollback(fl_results *r) { sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL); }

int fl_results_set_meta(fl_results *r, const char *key, const char *value) {
    sqlite3_stmt *st;
    if (prepare_with(r, &st, "INSERT OR REPLACE INTO study (key, value) VALUES (?, ?)", key, "insert")) return -1;
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(r, "insert");
}

int fl_results_get_meta(fl_results *r, const char *key, char *buf, size_t n, int *found) {
    sqlite3_stmt *st;
    if (prepare_with(r, &st, "SELECT value FROM study WHERE key = ?", key, "query")) return -1;
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    column_text(st, *found, buf, n);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(r, "query");
}

int fl_results_peek_meta(const char *path, const char *key, char *buf, size_t n, int *found) {
    fl_results r = {0};
    *found = 0;
    buf[0] = '\0';
    r.path = (char *)path;
    if (sqlite3_open_v2(path, &r.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = db_error(&r, "cannot open");
        sqlite3_close(r.db);
        return rc;
    }
    sqlite3_stmt *st;
    int rc = 0;
    /* A database without a study table holds no study record. */
    if (sqlite3_prepare_v2(r.db, "SELECT value FROM study WHERE key = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        *found = step == SQLITE_ROW;
        column_text(st, *found, buf, n);
        sqlite3_finalize(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) rc = db_error(&r, "query");
    }
    sqlite3_close(r.db);
    return rc;
}

/* The first column of the first row of sql, an integer or text (0 / "" when
 * there is none). */
static int query_one(fl_results *r, const char *sql, long long *num, char *text, size_t n) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(r, "query");
    int rc = sqlite3_step(st);
    if (num) *num = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (text) column_text(st, rc == SQLITE_ROW, text, n);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(r, "query");
}

int fl_results_import(fl_results *r, const char *other_path, int *copied, int *dups) {
    sqlite3_stmt *st;
    if (prepare_with(r, &st, "ATTACH DATABASE ? AS src", other_path, "attach")) return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fl_error_set("%s: cannot read: %s", other_path, sqlite3_errmsg(r->db));
    /* Rows are copied column by column (SELECT *): both tables must be the
     * same, which the CREATE statements SQLite keeps show. */
    static const char *const SCHEMA =
        "SELECT group_concat(sql, ';') FROM (SELECT sql FROM %s.sqlite_master"
        " WHERE name IN ('runs', 'checkpoints') ORDER BY name)";
    char sql[512], mine[8192], theirs[8192];
    long long n_dups = 0, n_copied = 0;
    snprintf(sql, sizeof sql, SCHEMA, "main");
    rc = query_one(r, sql, NULL, mine, sizeof mine);
    snprintf(sql, sizeof sql, SCHEMA, "src");
    if (rc == 0) rc = query_one(r, sql, NULL, theirs, sizeof theirs);
    if (rc == 0 && strcmp(mine, theirs) != 0)
        rc = fl_error_set("%s: its tables differ from this version's (made by another forgetlab?)", other_path);
    if (rc == 0)
        rc = query_one(r, "SELECT count(*) FROM src.runs WHERE run_id IN (SELECT run_id FROM main.runs)", &n_dups,
                       NULL, 0);
    if (rc == 0 && (rc = fl_results_begin(r)) == 0) {
        /* Checkpoints first, while main.runs still tells which runs are new;
         * only those of finished runs (an unfinished run is redone). */
        rc = exec(r, "INSERT INTO main.checkpoints SELECT * FROM src.checkpoints"
                     " WHERE run_id IN (SELECT run_id FROM src.runs) AND run_id NOT IN (SELECT run_id FROM main.runs);"
                     "INSERT INTO main.runs SELECT * FROM src.runs WHERE run_id NOT IN (SELECT run_id FROM main.runs)");
        n_copied = rc == 0 ? sqlite3_changes(r->db) : 0;
        if (rc == 0) rc = fl_results_commit(r);
        if (rc) fl_results_rollback(r);
    }
    sqlite3_exec(r->db, "DETACH DATABASE src", NULL, NULL, NULL);
    *copied = (int)n_copied;
    *dups = (int)n_dups;
    return rc;
}

/* INSERT OR REPLACE INTO table (key cols, extra cols, fields) VALUES (...). */
static int insert_row(fl_results *r, const char *table, const char *extra_cols, int nextra,
                      const fl_run_key *k, const char *run_id, const double *extra,
                      const char *text_extra, const double *vals) {
    char cols[4096], sql[12288], qs[1024];
    field_columns(r, cols, sizeof cols, "");
    int nq = 6 + nextra + (text_extra ? 1 : 0) + r->nfields;
    size_t off = 0;
    for (int i = 0; i < nq; i++) off += (size_t)snprintf(qs + off, sizeof qs - off, i ? ",?" : "?");
    /* A row of runs written here is a finished run: status 'done'. */
    int is_run = strcmp(table, "runs") == 0;
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO %s (run_id, method, lr, schedule, epochs, seed%s%s%s%s) VALUES (%s%s)",
             table, extra_cols, text_extra ? ", weight_rank" : "", cols, is_run ? ", status" : "", qs,
             is_run ? ",'done'" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(r, "insert");
    int c = 1;
    sqlite3_bind_text(st, c++, run_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, c++, k->method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, c++, k->lr);
    sqlite3_bind_text(st, c++, k->schedule, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, c++, k->epochs);
    sqlite3_bind_int64(st, c++, (sqlite3_int64)k->seed);
    for (int i = 0; i < nextra; i++) sqlite3_bind_double(st, c++, extra[i]);
    if (text_extra) sqlite3_bind_text(st, c++, text_extra, -1, SQLITE_TRANSIENT);
    for (int i = 0; i < r->nfields; i++) sqlite3_bind_double(st, c++, vals[i]);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(r, "insert");
}

int fl_results_add_checkpoint_vals(fl_results *r, const fl_run_key *k, const char *run_id, int idx, long step,
                                   double epoch, const double *vals) {
    double extra[3] = {idx, (double)step, epoch};
    return insert_row(r, "checkpoints", ", idx, step, epoch", 3, k, run_id, extra, NULL, vals);
}

int fl_results_finish_run_vals(fl_results *r, const fl_run_key *k, const char *run_id, const double *vals,
                               const double *times, const char *ranks) {
    return insert_row(r, "runs", ", wall_time_s, train_s, eval_s, predictors_s, circuit_s", 5, k, run_id, times,
                      ranks ? ranks : "", vals);
}

int fl_results_add_checkpoint(fl_results *r, const fl_run_key *k, const char *run_id, int idx,
                              long step, double epoch, const fl_measurement *m) {
    double vals[FL_MEASURE_NFIELDS];
    fl_measurement_fields(m, NULL, vals);
    return fl_results_add_checkpoint_vals(r, k, run_id, idx, step, epoch, vals);
}

int fl_results_finish_run(fl_results *r, const fl_run_key *k, const char *run_id,
                          const fl_measurement *final, const double *times) {
    char ranks[256] = "";
    size_t off = 0;
    for (int l = 0; l < final->nlayers && off < sizeof ranks; l++)
        off += (size_t)snprintf(ranks + off, sizeof ranks - off, l ? " %d" : "%d", final->weight_rank[l]);
    double vals[FL_MEASURE_NFIELDS];
    fl_measurement_fields(final, NULL, vals);
    return fl_results_finish_run_vals(r, k, run_id, vals, times, ranks);
}

int fl_results_mark_diverged(fl_results *r, const fl_run_key *k, const char *run_id, const char *error) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO runs (run_id, method, lr, schedule, epochs, seed, status, error)"
                           " VALUES (?, ?, ?, ?, ?, ?, 'diverged', ?)", -1, &st, NULL) != SQLITE_OK)
        return db_error(r, "insert");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, k->method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 3, k->lr);
    sqlite3_bind_text(st, 4, k->schedule, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, k->epochs);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)k->seed);
    sqlite3_bind_text(st, 7, error, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(r, "insert");
}

int fl_results_count_diverged(fl_results *r, int *n) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM runs WHERE status = 'diverged'", -1, &st, NULL) != SQLITE_OK)
        return db_error(r, "query");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_error(r, "query");
}

int fl_results_best_run(fl_results *r, const char *method, long seed, char *id, size_t n) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT run_id FROM runs WHERE method = ?1 AND status = 'done'"
                           " AND (?2 < 0 OR seed = ?2) ORDER BY new_acc DESC, forgetting ASC, run_id LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(r, "query");
    sqlite3_bind_text(st, 1, method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, seed);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) snprintf(id, n, "%s", column_str(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return seed < 0 ? fl_error_set("%s: no finished %s run", r->path, method)
                        : fl_error_set("%s: no finished %s run of seed %ld", r->path, method, seed);
    return rc == SQLITE_ROW ? 0 : db_error(r, "query");
}

/* Grows the per-row arrays of p to cap rows. */
static int points_grow(fl_points *p, int cap) {
    void *a = realloc(p->method, (size_t)cap * sizeof *p->method);
    if (a) p->method = a;
    void *b = realloc(p->vals, (size_t)cap * sizeof *p->vals);
    if (b) p->vals = b;
    void *c = realloc(p->run, (size_t)cap * sizeof *p->run);
    if (c) p->run = c;
    void *d = realloc(p->seed, (size_t)cap * sizeof *p->seed);
    if (d) p->seed = d;
    void *e = realloc(p->lr, (size_t)cap * sizeof *p->lr);
    if (e) p->lr = e;
    return a && b && c && d && e ? 0 : fl_error_set("out of memory");
}

/* The per-run arrays: method, seed and update ranks of each run the
 * checkpoints name, from the runs table. */
static int points_runs(fl_results *r, fl_points *out, char (*ids)[128]) {
    const int n = out->nruns > 0 ? out->nruns : 1;
    out->run_method = calloc((size_t)n, sizeof *out->run_method);
    out->run_seed = calloc((size_t)n, sizeof *out->run_seed);
    out->nlayers = calloc((size_t)n, sizeof *out->nlayers);
    out->rank = calloc((size_t)n, sizeof *out->rank);
    if (!out->run_method || !out->run_seed || !out->nlayers || !out->rank) return fl_error_set("out of memory");
    for (int i = 0; i < out->n; i++) {
        snprintf(out->run_method[out->run[i]], sizeof out->run_method[0], "%s", out->method[i]);
        out->run_seed[out->run[i]] = out->seed[i];
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT weight_rank FROM runs WHERE run_id = ?", -1, &st, NULL) != SQLITE_OK)
        return db_error(r, "query");
    for (int k = 0; k < out->nruns; k++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, ids[k], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW) continue;
        const char *v = column_str(st, 0);
        int used, l = 0;
        while (l < FL_MLP_MAX_LAYERS && sscanf(v, "%d%n", &out->rank[k][l], &used) == 1) v += used, l++;
        out->nlayers[k] = l;
    }
    sqlite3_finalize(st);
    return 0;
}

int fl_points_field(const fl_points *p, const char *name) {
    for (int i = 0; i < p->nf; i++)
        if (strcmp(p->fields[i], name) == 0) return i;
    return -1;
}

/* A study with phases before its runs (a grok-forget study's grokking)
 * records the method that marks their rows as "phase_method": they are
 * exported with phase = that name beside "finetune", and left out of the
 * points the fits read (they are no fine-tuned checkpoints). "" if none. */
static int phase_method(fl_results *r, char *buf, size_t n) {
    int found = 0;
    return fl_results_get_meta(r, "phase_method", buf, n, &found);
}

int fl_results_points(fl_results *r, fl_points *out) {
    memset(out, 0, sizeof *out);
    char cols[4096], sql[8192], phase[32], where[96] = "";
    if (phase_method(r, phase, sizeof phase)) return -1;
    if (phase[0]) sqlite3_snprintf(sizeof where, where, " WHERE method != %Q", phase);
    field_columns(r, cols, sizeof cols, "");
    out->nf = r->nfields;
    out->fields = calloc((size_t)(r->nfields > 0 ? r->nfields : 1), sizeof *out->fields);
    if (!out->fields) return fl_error_set("out of memory");
    for (int i = 0; i < r->nfields; i++) snprintf(out->fields[i], sizeof out->fields[i], "%s", r->fields[i]);
    snprintf(sql, sizeof sql, "SELECT run_id, seed, method, lr%s FROM checkpoints%s ORDER BY run_id, idx", cols, where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(r, "query");
    char (*ids)[128] = NULL;
    int cap = 0, rc, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap && (err = points_grow(out, cap = cap ? 2 * cap : 256))) break;
        const char *id = column_str(st, 0);
        if (out->nruns == 0 || strcmp(ids[out->nruns - 1], id) != 0) {
            void *a = realloc(ids, (size_t)(out->nruns + 1) * sizeof *ids);
            if (!a) {
                err = fl_error_set("out of memory");
                break;
            }
            ids = a;
            snprintf(ids[out->nruns++], sizeof ids[0], "%s", id);
        }
        out->run[out->n] = out->nruns - 1;
        out->seed[out->n] = sqlite3_column_int(st, 1);
        snprintf(out->method[out->n], sizeof out->method[0], "%s", column_str(st, 2));
        out->lr[out->n] = sqlite3_column_double(st, 3);
        /* SQLite stores NaN as NULL; give it back as NaN. */
        for (int i = 0; i < r->nfields; i++)
            out->vals[out->n][i] = sqlite3_column_type(st, i + 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i + 4);
        out->n++;
    }
    sqlite3_finalize(st);
    if (!err && rc != SQLITE_DONE) err = db_error(r, "query");
    if (!err) err = points_runs(r, out, ids);
    free(ids);
    if (err) fl_points_free(out);
    return err ? -1 : 0;
}

void fl_points_free(fl_points *p) {
    free(p->method), free(p->vals), free(p->run), free(p->seed), free(p->lr);
    free(p->run_method), free(p->run_seed), free(p->nlayers), free(p->rank), free(p->fields);
    memset(p, 0, sizeof *p);
}

/* One CSV field, straight to the file: a database need not be ours, and a
 * value has no length limit. A value holding a comma, a quote or a line
 * break is quoted as RFC 4180 says (inner quotes doubled), so pandas and
 * the csv module read back exactly what the database holds. */
static void put_field(fl_afile *f, int i, const char *v) {
    if (i) fl_afile_write(f, ",", 1);
    if (!v) return;
    if (!v[strcspn(v, ",\"\r\n")]) {
        fl_afile_write(f, v, strlen(v));
        return;
    }
    fl_afile_write(f, "\"", 1);
    for (const char *q; (q = strchr(v, '"')); v = q + 1) {
        fl_afile_write(f, v, (size_t)(q - v) + 1);  /* up to and with the quote */
        fl_afile_write(f, "\"", 1);
    }
    fl_afile_write(f, v, strlen(v));
    fl_afile_write(f, "\"", 1);
}

int fl_results_export_csv(fl_results *r, const char *path) {
    char cols[4096], sql[8192], phase[32], lead[128] = "";
    if (phase_method(r, phase, sizeof phase)) return -1;
    if (phase[0])
        sqlite3_snprintf(sizeof lead, lead, "CASE WHEN method = %Q THEN %Q ELSE 'finetune' END AS phase, ", phase,
                         phase);
    field_columns(r, cols, sizeof cols, "");
    snprintf(sql, sizeof sql,
             "SELECT %srun_id, method, lr, schedule, epochs, seed, idx, step, epoch%s FROM checkpoints"
             " ORDER BY method, lr, schedule, epochs, seed, idx", lead, cols);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(r, "query");
    fl_afile f;
    if (fl_afile_open(&f, path)) {
        sqlite3_finalize(st);
        return -1;
    }
    int ncol = sqlite3_column_count(st), rc;
    for (int i = 0; i < ncol; i++) put_field(&f, i, sqlite3_column_name(st, i));
    fl_afile_write(&f, "\n", 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++) {
            char num[32];
            const char *v = num;
            int type = sqlite3_column_type(st, i);
            if (type == SQLITE_NULL)
                v = "";
            else if (type == SQLITE_TEXT)
                v = (const char *)sqlite3_column_text(st, i);
            else if (type == SQLITE_INTEGER)
                snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, i));
            else
                snprintf(num, sizeof num, "%.9g", sqlite3_column_double(st, i));
            put_field(&f, i, v);
        }
        fl_afile_write(&f, "\n", 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fl_afile_abort(&f);
        return db_error(r, "export");
    }
    return fl_afile_commit(&f);
}
