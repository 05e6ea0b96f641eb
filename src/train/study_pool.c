/* study_pool.c: the worker processes of a study on one machine: forked
 * workers take jobs from a shared counter, each with its own connection to
 * the study's database (WAL: they write at once), while the parent draws
 * the progress line from the database until they exit. Every kind of study
 * (razor, lm, continual) hands its runs to it; and the claim of a study
 * directory the newer kinds share. */
/* MAP_ANONYMOUS is not in POSIX 2008. */
#define _DEFAULT_SOURCE
#include "study_int.h"

#include "forgetlab/core/blas.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/core/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int worker(const study_pool *p, int *next) {
    fl_set_threads(p->threads);
    fl_results db;
    int rc = fl_results_open_any(&db, p->db_path);
    while (rc == 0) {
        const int k = __atomic_fetch_add(next, 1, __ATOMIC_SEQ_CST);
        if (k >= p->njobs) break;
        rc = p->job(p->ctx, k, &db);
    }
    if (rc) fl_log(FL_LOG_WARN, "forgetlab study: %s\n", fl_error_msg());
    if (db.db) fl_results_close(&db);
    return rc ? 1 : 0;
}

int study_pool_run(const study_pool *p) {
    int procs = p->procs < p->njobs ? p->procs : p->njobs;
    if (procs <= 0) return 0;
    int *next = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (next == MAP_FAILED) return fl_error_set("cannot map shared memory");
    *next = 0;
    fflush(NULL);
    int started = 0, failed = 0;
    const pid_t parent = getpid();
    for (; started < procs; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            failed = 1;
            fl_error_set("fork failed");
            break;
        }
        if (pid == 0) {
            /* A worker dies with the study (kill -9 included): a rerun must
             * not race orphans still writing the same runs. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(1);
            _exit(worker(p, next));
        }
    }
    fl_results db = {0};
    const int have_db = fl_results_open_any(&db, p->db_path) == 0;
    fl_progress pb;
    int done0 = 0, ck0 = 0;
    if (have_db) fl_results_count(&db, &done0, &ck0);
    if (p->progress) fl_progress_start(&pb, p->label, p->njobs);
    int alive = started;
    while (alive > 0) {
        int status;
        const pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            alive--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
            continue;
        }
        if (pid < 0) break;
        if (p->progress && have_db) {
            int runs, ckpts;
            if (fl_results_count(&db, &runs, &ckpts) == 0) {
                char extra[96];
                snprintf(extra, sizeof extra, "runs, %d checkpoints, %d jobs x %d threads", ckpts, procs, p->threads);
                /* Runs finished by an earlier invocation are not this one's progress. */
                fl_progress_update(&pb, runs - done0 > 0 ? runs - done0 : 0, extra);
            }
        }
        nanosleep(&(struct timespec){0, 200000000L}, NULL);
    }
    if (p->progress) fl_progress_finish(&pb);
    if (have_db) fl_results_close(&db);
    munmap(next, sizeof(int));
    if (failed) return fl_error_set("%s: a worker failed (its error is above); rerun to resume", p->label);
    return 0;
}

int study_claim(const char *out_dir, const char *db, const char *grid, int overwrite, char **replaced) {
    char had[1024] = "";
    int have = 0;
    *replaced = NULL;
    if (fl_file_exists(db)) {
        if (fl_results_peek_meta(db, "grid", had, sizeof had, &have)) return -1;
        if (have && strcmp(had, grid) == 0) return 0;
        if (!overwrite)
            return fl_error_set("%s holds a study of another grid ('%s' there, '%s' here): choose another --out, or "
                                "add --overwrite to replace it", out_dir, had, grid);
        return fl_rundir_claim(out_dir, "study", NULL, 1, replaced);
    }
    return fl_rundir_claim(out_dir, "study", NULL, overwrite, replaced);
}

/* One identity of the study's makers: "first" is the first value, "all"
 * every value that has added runs; a value not seen before is added and
 * returned as 1 (the caller warns), with *was the values so far. */
static int note_identity(fl_results *db, const char *first_key, const char *all_key, const char *me, char *was,
                         size_t cap) {
    char first[128] = "", all[1024] = "";
    int have = 0, have_all = 0;
    if (fl_results_get_meta(db, first_key, first, sizeof first, &have) ||
        fl_results_get_meta(db, all_key, all, sizeof all, &have_all))
        return -1;
    if (!have) return fl_results_set_meta(db, first_key, me) || fl_results_set_meta(db, all_key, me) ? -1 : 0;
    if (!have_all) snprintf(all, sizeof all, "%s", first);
    for (char *save = NULL, *t = strtok_r(strcpy(was, all), ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, me) == 0) return 0;
    snprintf(was, cap, "%s", all);
    char both[1200];
    snprintf(both, sizeof both, "%s,%s", all, me);
    return fl_results_set_meta(db, all_key, both) ? -1 : 1;
}

int study_note_build(fl_results *db, const char *out_dir) {
    char was[1024], kernels[160];
    const int build = note_identity(db, "build", "builds", fl_build_id(), was, sizeof was);
    if (build < 0) return -1;
    if (build)
        fl_log(FL_LOG_WARN, "study: %s was begun by another build of forgetlab (%s; this is %s): its finished runs are "
                        "kept as that build made them and the rest will come from this one; to redo them all, use "
                        "another --out\n", out_dir, was, fl_build_id());
    fl_blas_kernels_id(kernels, sizeof kernels);
    const int blas = note_identity(db, "blas", "blas_all", kernels, was, sizeof was);
    if (blas < 0) return -1;
    if (blas)
        fl_log(FL_LOG_WARN, "study: %s was begun on other matrix kernels (%s; these are %s): the same seeds give other "
                        "numbers on them, so its finished runs and the ones added now are not comparable bit for bit "
                        "(docs/design.md)\n", out_dir, was, kernels);
    return 0;
}

int study_in_world(int (*study)(const study_world *w, const void *cfg), const void *cfg, int *writer) {
    study_world w;
    *writer = 0;
    if (study_mpi_init(&w)) return -1;
    const int rc = study(&w, cfg);
    *writer = w.rank == 0;
    return study_mpi_finish(&w, rc);
}
