/* study_jsonl.c: a finished run directory into a study's results.sqlite:
 * the studies whose runs are their own commands (lm-finetune, the
 * grok-forget fine-tuning, a grok run's own log) read back what each run
 * logged, so a run's numbers are the ones its directory shows. */
#include "study_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/io/settings.h"
#include "forgetlab/store/rundir.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field i of a JSON object, by its source key; NaN when absent. */
static void read_fields(const cJSON *j, const char *const *names, const char *const *src, int nf, double *vals) {
    for (int i = 0; i < nf; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, src && src[i] ? src[i] : names[i]);
        vals[i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
}

int study_commit_jsonl(fl_results *db, const fl_run_key *key, const char *id, const char *dir,
                       const char *const *names, const char *const *src, int nf, const char *marker) {
    if (nf > FL_POINTS_MAX_FIELDS) return fl_error_set("%d fields, more than a study holds", nf);
    char *mpath = fl_path_join(dir, "metrics.jsonl"), *spath = fl_path_join(dir, "summary.json"), *text = NULL;
    cJSON *sum = NULL;
    size_t len = 0;
    int rc = mpath && spath ? 0 : fl_error_set("out of memory");
    if (rc == 0) rc = fl_read_file(mpath, &text, &len);
    if (rc == 0) rc = fl_json_read_file(spath, &sum);
    if (rc == 0) rc = fl_results_begin(db);
    if (rc == 0) rc = fl_results_begin_run(db, id);
    double vals[FL_POINTS_MAX_FIELDS];
    int idx = 0;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        if (j && cJSON_GetObjectItemCaseSensitive(j, marker)) {
            read_fields(j, names, src, nf, vals);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "step");
            const cJSON *ep = cJSON_GetObjectItemCaseSensitive(j, "epoch");
            rc = fl_results_add_checkpoint_vals(db, key, id, idx++, st ? (long)st->valuedouble : 0,
                                                ep ? ep->valuedouble : NAN, vals);
        }
        cJSON_Delete(j);
    }
    if (rc == 0) read_fields(sum, names, src, nf, vals);
    const char *tk[3] = {"wall_time_s", "train_s", "measure_s"};
    double times[5] = {NAN, NAN, NAN, 0, NAN};
    for (int i = 0; i < 3 && sum; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, tk[i]);
        times[i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
    if (rc == 0) rc = fl_results_finish_run_vals(db, key, id, vals, times, NULL);
    if (rc == 0) rc = fl_results_commit(db);
    else if (db->db) fl_results_rollback(db);
    free(mpath), free(spath), free(text);
    cJSON_Delete(sum);
    return rc;
}

/* ---- A phase of such runs, over worker processes or MPI ranks ---- */

/* A run's outcome as it travels to rank 0: its plan index, status and error. */
typedef struct {
    int i, status;
    char error[512];
} run_outcome;

/* Trains plan index i: 0, FL_DIVERGED, or -1 with the error naming the run. */
static int train_one(const study_cmd_phase *ph, int i) {
    const int rc = ph->train(ph->ctx, i);
    return rc == FL_DIVERGED ? rc : rc ? fl_error_wrap("run %s", ph->id(ph->ctx, i)) : 0;
}

/* A trained run into the database: its rows, or its divergence. */
static int record_one(const study_cmd_phase *ph, fl_results *db, int i, int status, const char *error) {
    if (status == FL_DIVERGED) return fl_results_mark_diverged(db, ph->key(ph->ctx, i), ph->id(ph->ctx, i), error);
    return status ? fl_error_set("%s", error) : ph->commit(ph->ctx, db, i);
}

static int pool_job(void *ctx, int k, fl_results *db) {
    const study_cmd_phase *ph = ctx;
    const int i = ph->todo[k];
    int done = 0;
    if (fl_results_run_done(db, ph->id(ph->ctx, i), &done)) return -1;
    if (done) return 0;
    const int rc = train_one(ph, i);
    char error[512];
    snprintf(error, sizeof error, "%s", rc ? fl_error_msg() : ""); /* record_one may set the error anew */
    return record_one(ph, db, i, rc, error);
}

static int mpi_run(void *ctx, int i, void **out, size_t *n) {
    run_outcome *o = calloc(1, sizeof *o);
    if (!o) return fl_error_set("out of memory");
    o->i = i, o->status = train_one(ctx, i);
    snprintf(o->error, sizeof o->error, "%s", o->status ? fl_error_msg() : "");
    *out = o, *n = sizeof *o;
    return o->status && o->status != FL_DIVERGED ? 1 : 0;
}

static int mpi_commit(void *ctx, fl_results *db, const void *buf, size_t n, int *ckpts) {
    const study_cmd_phase *ph = ctx;
    run_outcome o;
    if (n != sizeof o) return fl_error_set("a run's outcome of %zu bytes, not %zu", n, sizeof o);
    memcpy(&o, buf, sizeof o);
    o.error[sizeof o.error - 1] = '\0';
    if (o.i < 0 || o.i >= ph->nplan) return fl_error_set("an outcome of run %d, not in the plan", o.i);
    *ckpts = 0;
    return record_one(ph, db, o.i, o.status, o.error);
}

int study_cmd_phase_run(const study_world *w, study_cmd_phase *ph) {
    int rc = 0;
    ph->ntodo = 0;
    if (w->rank == 0) {
        fl_results db;
        if (fl_results_open_any(&db, ph->db_path)) return -1;
        for (int i = 0; i < ph->nplan && rc == 0; i++) {
            int done = 0;
            if (ph->shard_count > 1 && i % ph->shard_count != ph->shard_index - 1) continue;
            rc = fl_results_run_done(&db, ph->id(ph->ctx, i), &done);
            if (rc == 0 && !done) ph->todo[ph->ntodo++] = i;
        }
        fl_results_close(&db);
        if (rc) return -1;
    }
    if (w->size > 1) {
        const study_jobs j = {ph->db_path, ph->label, ph->nplan, ph->todo, ph->ntodo, ph->run_threads, ph->progress,
                              mpi_run, mpi_commit, ph};
        rc = study_mpi_jobs(w, &j);
        /* Every rank waits for rank 0 to have written the phase. */
        return study_mpi_share(w, rc ? -1 : 0) < 0 || rc ? -1 : 0;
    }
    const int cores = ph->threads > 0 ? ph->threads : fl_cpu_count();
    const study_pool pool = {ph->db_path, ph->ntodo, ph->jobs > 0 ? ph->jobs : cores, ph->run_threads, ph->progress,
                             ph->label, pool_job, ph};
    return study_pool_run(&pool);
}

int study_cmd_run_threads(int threads, int jobs) {
    const int cores = threads > 0 ? threads : fl_cpu_count(), concurrent = jobs > 0 ? jobs : cores;
    return cores / concurrent > 0 ? cores / concurrent : 1;
}

int study_parse_lrs(const char *list, double *lrs, int max, int *n) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max) return fl_error_set("--lrs: at most %d", max);
        if (fl_parse_double("lrs", t, 1e-12, 10, &lrs[*n])) return -1;
        for (int k = 0; k < *n; k++)
            if (fl_same_run_lr(lrs[k], lrs[*n])) return fl_error_set("--lrs: %s given twice", t);
        (*n)++;
    }
    return *n ? 0 : fl_error_set("--lrs: no learning rate");
}

int study_grid_fields(const char *grid, const char *prefix, int *seeds, char methods[256], char lrs[512],
                      int *epochs) {
    const char *at;
    int ok = strncmp(grid, prefix, strlen(prefix)) == 0;
    ok = ok && (at = strstr(grid, " seeds=")) && sscanf(at, " seeds=%d", seeds) == 1;
    ok = ok && (at = strstr(grid, " methods=")) && sscanf(at, " methods=%255s", methods) == 1;
    ok = ok && (at = strstr(grid, " lrs=")) && sscanf(at, " lrs=%511s", lrs) == 1;
    ok = ok && (at = strstr(grid, " epochs=")) && sscanf(at, " epochs=%d", epochs) == 1;
    return ok ? 0 : fl_error_set("not a%s study's grid: '%s'", prefix[0] == 'l' ? " language-model" : " grok-forget",
                                 grid);
}

void study_cache_dir(const char *base_cache, const char *out_dir, char *buf, size_t n) {
    const char *env = getenv("FORGETLAB_CACHE"), *home = getenv("HOME");
    if (base_cache) snprintf(buf, n, "%s", base_cache);
    else if (env && *env) snprintf(buf, n, "%s", env);
    else if (home && *home) snprintf(buf, n, "%s/.cache/forgetlab", home);
    else snprintf(buf, n, "%s/bases", out_dir);
}
