/* study.c: the RL's Razor sweep: a resumable plan (finished runs are
 * skipped; the grid itself in study_plan.c), handed to worker processes
 * (study_pool.c) that write each finished run to SQLite, and the order of
 * the study's phases, on one machine or over MPI ranks (study_mpi.c). */
#include "study_int.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/train/finetune.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/train/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sw->todo: the runs of the plan in this shard that no earlier invocation
 * finished. */
static int find_todo(sweep *sw) {
    char *path = fl_path_join(sw->c->out_dir, "results.sqlite");
    fl_results db;
    int rc = path ? fl_results_open(&db, path) : fl_error_set("out of memory");
    free(path);
    if (rc) return -1;
    sw->ntodo = 0;
    for (int i = 0; rc == 0 && i < sw->n; i++) {
        int done = 0;
        if (!study_in_shard(sw->c, i)) continue;
        rc = fl_results_run_done(&db, sw->runs[i].id, &done);
        if (rc == 0 && !done) sw->todo[sw->ntodo++] = i;
    }
    fl_results_close(&db);
    return rc;
}

/* Job k of the pool: plan index sw->todo[k], unless another study on the
 * same directory has finished it since. */
static int sweep_job(void *ctx, int k, fl_results *db) {
    const sweep *sw = ctx;
    int done = 0;
    if (fl_results_run_done(db, sw->runs[sw->todo[k]].id, &done) || done) return done ? 0 : -1;
    run_record rec;
    int rc = study_record_run(sw, sw->todo[k], &rec);
    if (rc == 0) rc = study_record_commit(db, sw, &rec);
    study_record_free(&rec);
    return rc;
}

/* A razor run as an MPI job: its record, packed. */
static int sweep_run_job(void *ctx, int i, void **out, size_t *n) {
    const sweep *sw = ctx;
    run_record rec;
    study_record_run(sw, i, &rec);
    const int failed = rec.status == RUN_FAILED;
    const int rc = study_record_pack(&rec, out, n);
    study_record_free(&rec);
    return rc ? -1 : failed ? 1 : 0;
}

static int sweep_commit_job(void *ctx, fl_results *db, const void *buf, size_t n, int *ckpts) {
    const sweep *sw = ctx;
    run_record rec;
    if (study_record_unpack(buf, n, &rec)) return -1;
    int rc = rec.run >= 0 && rec.run < sw->n ? study_record_commit(db, sw, &rec)
                                             : fl_error_set("a record of run %d, not in the plan", rec.run);
    *ckpts = rec.nckpt;
    study_record_free(&rec);
    return rc;
}

int study_mpi_sweep(const study_world *w, sweep *sw) {
    char *path = fl_path_join(sw->c->out_dir, "results.sqlite");
    if (!path) return fl_error_set("out of memory");
    const study_jobs j = {path, sw->label, sw->n, sw->todo, sw->ntodo, sw->run_threads, sw->c->progress,
                          sweep_run_job, sweep_commit_job, sw};
    const int rc = study_mpi_jobs(w, &j);
    free(path);
    return rc;
}

static int fork_sweep(sweep *sw) {
    const fl_razor_config *c = sw->c;
    const int cores = c->threads > 0 ? c->threads : fl_cpu_count();
    char *path = fl_path_join(c->out_dir, "results.sqlite");
    if (!path) return fl_error_set("out of memory");
    const study_pool pool = {path, sw->ntodo, c->jobs > 0 ? c->jobs : cores, sw->run_threads, c->progress, sw->label,
                             sweep_job, sw};
    const int rc = study_pool_run(&pool);
    free(path);
    return rc;
}

/* One phase: rank 0 (or the only process) finds what is left to do; the
 * runs go to forked workers, which get the bases their runs read made
 * ready before the fork (once, not once a worker), or over the MPI ranks,
 * each readying a base when its first run of that seed comes. */
static int run_phase(const study_world *w, sweep *sw) {
    sw->run_threads = study_run_threads(sw->c, sw->n);
    if (w->rank == 0 && find_todo(sw)) return -1;
    if (w->size > 1) return study_mpi_sweep(w, sw);
    for (int k = 0; k < sw->ntodo; k++)
        if (study_base_ready(sw, (int)sw->runs[sw->todo[k]].key.seed)) return -1;
    return fork_sweep(sw);
}

/* Seed s's base model (study_base_dir), pretrained with seed
 * pretrain.seed + s unless an earlier invocation did; load only: never
 * pretrain (MPI ranks other than 0). */
static int ensure_base(const fl_razor_config *c, int s, int load_only, fl_mlp *base) {
    char name[32];
    study_base_dir(s, name, sizeof name);
    char *dir = fl_path_join(c->out_dir, name), *file = dir ? fl_path_join(dir, "model.safetensors") : NULL;
    int rc = file ? 0 : fl_error_set("out of memory");
    if (rc == 0 && !load_only && !fl_file_exists(file)) {
        fl_pretrain_config pc = c->pretrain;
        pc.data_dir = c->data_dir;
        pc.threads = c->threads;
        pc.progress = c->progress;
        pc.seed += (uint64_t)s;
        rc = fl_pretrain_run(&pc, dir);
    }
    if (rc == 0) rc = fl_mlp_load(file, base, NULL);
    free(dir);
    free(file);
    return rc;
}

/* What the shards of one study must agree on, for `merge` to check; c's
 * threads are resolved (the threads of the shared work). */
static int record_study(const fl_razor_config *c, int run_threads) {
    char *path = fl_path_join(c->out_dir, "results.sqlite"), grid[1024], shard[48], threads[32], setup[32], probe[96];
    fl_results db;
    int rc = path ? fl_results_open(&db, path) : fl_error_set("out of memory");
    free(path);
    if (rc) return -1;
    study_grid_string(c, grid, sizeof grid);
    if (c->shard_count > 1)
        snprintf(shard, sizeof shard, "%d/%d", c->shard_index, c->shard_count);
    else
        snprintf(shard, sizeof shard, "all");
    snprintf(threads, sizeof threads, "%d", run_threads);
    snprintf(setup, sizeof setup, "%d", c->threads);
    rc = fl_results_set_meta(&db, "version", FORGETLAB_VERSION);
    if (rc == 0) rc = fl_results_set_meta(&db, "grid", grid);
    if (rc == 0) rc = fl_results_set_meta(&db, "shard", shard);
    if (rc == 0) rc = fl_results_set_meta(&db, "run_threads", threads);
    if (rc == 0) rc = fl_results_set_meta(&db, "setup_threads", setup);
    fl_ap_opts_string(&c->probe, probe, sizeof probe);
    if (rc == 0) rc = fl_results_set_meta(&db, "circuit_probe", probe);
    if (rc == 0) rc = study_note_build(&db, c->out_dir);
    fl_results_close(&db);
    return rc;
}

/* The teacher of seed s's distill runs: its best grpo run (highest final
 * new-task accuracy, then least forgetting: fl_results_best_run), trained
 * again (same seed, same numbers) if the sweep did not keep its model.
 * Rank 0 only; its plan index in *teacher. */
static int find_teacher(sweep *sw, int s, int *teacher) {
    char *path = fl_path_join(sw->c->out_dir, "results.sqlite"), id[128];
    fl_results db;
    if (!path || fl_results_open(&db, path)) {
        free(path);
        return -1;
    }
    free(path);
    int rc = fl_results_best_run(&db, "grpo", s, id, sizeof id);
    fl_results_close(&db);
    if (rc) return -1;
    for (int i = 0; i < sw->n; i++)
        if (strcmp(sw->runs[i].id, id) == 0) *teacher = i;
    if (*teacher < 0) return fl_error_set("the best grpo run %s is not in this grid", id);
    char *runs = fl_path_join(sw->c->out_dir, "runs"), *rundir = runs ? fl_path_join(runs, id) : NULL;
    char *model = rundir ? fl_path_join(rundir, "model.safetensors") : NULL;
    rc = model ? 0 : fl_error_set("out of memory");
    if (rc == 0 && !fl_file_exists(model)) {
        fl_finetune_config ft = sw->runs[*teacher].ft;
        const study_base *b = &sw->bases[s];
        char base_dir[32];
        study_base_dir(s, base_dir, sizeof base_dir);
        rc = study_base_ready(sw, s);
        ft.save_model = 1;
        ft.base_probs = b->probs;
        fl_set_threads(sw->run_threads);
        if (rc == 0) rc = fl_finetune_run(&ft, &b->model, sw->train, &b->mctx, rundir, base_dir, NULL, NULL, NULL, NULL);
        if (rc) fl_error_wrap("retraining the distill teacher %s", id);
    }
    free(runs);
    free(rundir);
    free(model);
    return rc;
}

/* Distill runs of every seed, each taught by its seed's teacher. */
static int distill_phase(const study_world *w, sweep *sw, study_base *bases) {
    int rc = 0;
    for (int s = 0; s < sw->c->seeds && rc == 0; s++) {
        int teacher = -1;
        rc = w->rank == 0 ? find_teacher(sw, s, &teacher) : 0;
        teacher = study_mpi_share(w, rc ? -1 : teacher);
        if (teacher < 0) return -1;
        char *runs = fl_path_join(sw->c->out_dir, "runs");
        char *rundir = runs ? fl_path_join(runs, sw->runs[teacher].id) : NULL;
        char *model = rundir ? fl_path_join(rundir, "model.safetensors") : NULL;
        rc = model ? fl_mlp_load(model, &bases[s].teacher, NULL) : fl_error_set("out of memory");
        free(runs);
        free(rundir);
        free(model);
    }
    if (rc) return -1;
    const fl_ft_method m = FL_FT_DISTILL;
    sw->n = 0;
    sw->label = "distill";
    study_plan(sw->c, &m, 1, bases, sw->runs, &sw->n);
    return run_phase(w, sw);
}

/* Before anything is written: DIR is new, or holds this study (same grid
 * and circuit probe: a rerun resumes it), or - only with --overwrite,
 * which moves it aside - anything else. A study's checkpoints must share
 * one grid and one probe, or its tables would mix two experiments. */
static int claim_study(const fl_razor_config *c, char **replaced) {
    char *db_path = fl_path_join(c->out_dir, "results.sqlite"), grid[1024], probe[96], had[1024], what[2304] = "";
    int rc = db_path ? 0 : fl_error_set("out of memory");
    *replaced = NULL;
    if (rc == 0 && fl_file_exists(db_path)) {
        int have = 0;
        study_grid_string(c, grid, sizeof grid);
        fl_ap_opts_string(&c->probe, probe, sizeof probe);
        rc = fl_results_peek_meta(db_path, "grid", had, sizeof had, &have);
        if (rc == 0 && have && strcmp(had, grid) != 0)
            snprintf(what, sizeof what, "a study of another grid ('%s' there, '%s' here)", had, grid);
        if (rc == 0 && !what[0]) rc = fl_results_peek_meta(db_path, "circuit_probe", had, sizeof had, &have);
        if (rc == 0 && !what[0] && have && strcmp(had, probe) != 0)
            snprintf(what, sizeof what, "a study measured with another circuit probe ('%s' there, '%s' here)", had,
                     probe);
        if (rc == 0 && what[0] && !c->overwrite)
            rc = fl_error_set("%s holds %s: choose another --out, or add --overwrite to replace it", c->out_dir, what);
        else if (rc == 0 && what[0])
            rc = fl_rundir_claim(c->out_dir, "study", NULL, 1, replaced);
    } else if (rc == 0) {
        /* No database yet: new, or a study killed while pretraining its base
         * (DIR/base alone); anything else is another command's. */
        char *base = fl_path_join(c->out_dir, "base");
        struct stat st;
        int only_base = base && stat(base, &st) == 0 && S_ISDIR(st.st_mode);
        free(base);
        if (!only_base) rc = fl_rundir_claim(c->out_dir, "study", NULL, c->overwrite, replaced);
    }
    free(db_path);
    return rc;
}

/* The base models, on every rank: rank 0 pretrains them (or finds them)
 * and tells the others the thread count of the shared work (what the
 * single-process study would use), which they then load them with. */
static int setup_bases(const study_world *w, fl_razor_config *c, study_base *bases, char **replaced) {
    int cores = -1;
    if (w->rank == 0) {
        fl_set_threads(c->threads);
        int rc = claim_study(c, replaced) || fl_mkdirs(c->out_dir);
        for (int s = 0; s < c->seeds && rc == 0; s++) rc = ensure_base(c, s, 0, &bases[s].model);
        if (rc == 0) cores = fl_get_threads();
    }
    cores = study_mpi_share(w, cores);
    if (cores < 0) return -1;
    c->threads = cores;
    fl_set_threads(cores);
    for (int s = 0; s < c->seeds && w->rank != 0; s++)
        if (ensure_base(c, s, 1, &bases[s].model)) return -1;
    return 0;
}

static void free_bases(study_base *bases, int n) {
    for (int s = 0; bases && s < n; s++) {
        fl_mlp_free(&bases[s].model);
        fl_mlp_free(&bases[s].teacher);
        fl_measure_ctx_free(&bases[s].mctx);
        free(bases[s].probs);
    }
    free(bases);
}

static int razor_run(const study_world *w, const fl_razor_config *config) {
    fl_razor_config c = *config;
    study_base *bases = fl_calloc((size_t)c.seeds, sizeof *bases, "base models");
    fl_task_data train = {0};
    planned_run *runs = NULL;
    int *todo = NULL;
    char *replaced = NULL;
    int rc = -1;
    if (!bases || setup_bases(w, &c, bases, &replaced)) goto out;
    if (fl_task_load(&train, FL_TASK_PARITY, fl_data_dir(c.data_dir), "train")) goto out;
    const int max_runs = study_max_runs(&c);
    runs = fl_malloc((size_t)max_runs * sizeof *runs, "run plan");
    todo = fl_malloc((size_t)max_runs * sizeof *todo, "runs to do");
    if (!runs || !todo) goto out;
    sweep sw = {.c = &c, .bases = bases, .train = &train, .runs = runs, .todo = todo, .run_threads = 1,
                .label = "sweep"};
    int nmethods;
    const fl_ft_method *methods = study_methods(&c, &nmethods);
    study_plan(&c, methods, nmethods, bases, runs, &sw.n);
    if (w->rank == 0 && record_study(&c, study_run_threads(&c, sw.n))) goto out;
    if (run_phase(w, &sw)) goto out;
    if (c.with_distill && distill_phase(w, &sw, bases)) goto out;
    rc = 0;
out:
    fl_rundir_release(replaced, rc == 0);
    free(runs);
    free(todo);
    free_bases(bases, c.seeds);
    fl_task_free(&train);
    return rc;
}

int fl_razor_run(const fl_razor_config *c, int *writer) {
    study_world w;
    *writer = 0;
    if (study_mpi_init(&w)) return -1;
    *writer = w.rank == 0;
    return study_mpi_finish(&w, razor_run(&w, c));
}
