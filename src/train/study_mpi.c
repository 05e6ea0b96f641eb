/* study_mpi.c: a study spread over MPI ranks (built with -DFORGETLAB_MPI=ON).
 *
 * Rank 0 is the scheduler and the only writer of results.sqlite: a rank
 * asks for a run, runs it, sends back its outcome (a razor run's record,
 * study_record.c; an lm run's status, its files being on the shared file
 * system) and is handed the next run, so fast ranks take more runs (dynamic scheduling).
 * Rank 0 also runs runs itself, in a second thread, because it spends most
 * of its time waiting: on 2 cores, 2 ranks then match 2 forked workers.
 *
 * A rank waits by polling and sleeping, never in a blocking MPI call: Open
 * MPI spins in those, which would take a core from a rank at work.
 *
 * Without MPI in the build, only the launcher check is left: a study
 * started by mpirun with several processes is refused instead of running
 * the whole grid in every process. */
#include "study_int.h"

#include "forgetlab/core/clock.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/core/progress.h"
#include "forgetlab/core/threads.h"
#include "forgetlab/core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How many processes an MPI launcher started with this one: Open MPI's
 * mpirun, then PMI (MPICH's hydra, srun --mpi=pmi2), then srun's own count
 * when PMIx gives none. 0: not started by a launcher. */
static int launched_size(void) {
    static const char *const VARS[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof VARS / sizeof *VARS; i++) {
        const char *v = getenv(VARS[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    const char *steps = getenv("SLURM_STEP_NUM_TASKS");
    if (getenv("PMIX_RANK") && steps && atoi(steps) > 0) return atoi(steps);
    return 0;
}

#ifndef FORGETLAB_MPI

int fl_razor_has_mpi(void) { return 0; }

int study_mpi_init(study_world *w) {
    w->rank = 0;
    w->size = 1;
    int n = launched_size();
    if (n > 1)
        return fl_error_set("started by an MPI launcher with %d processes, but this forgetlab was built without MPI "
                            "(install libopenmpi-dev and rebuild: docs/scaling.md)", n);
    return 0;
}

int study_mpi_finish(study_world *w, int rc) { return rc; }

int study_mpi_share(const study_world *w, int v) { return v; }

int study_mpi_jobs(const study_world *w, const study_jobs *j) {
    return fl_error_set("%s: MPI sweep in a build without MPI", j->label);
}

#else

#include <mpi.h>
#include <pthread.h>

enum { TAG_SHARE = 1, TAG_RESULT = 2, TAG_RUN = 3 };

static int g_started;       /* this process called MPI_Init */
static int g_root_stopped;  /* rank 0 said it failed: no more messages come */

int fl_razor_has_mpi(void) { return 1; }

/* Sleeps a little longer each time, up to 2 ms: a message waits at most
 * that long, against runs that take seconds. */
static void nap(long *ns) {
    nanosleep(&(struct timespec){0, *ns}, NULL);
    *ns = *ns * 2 < 2000000L ? *ns * 2 : 2000000L;
}

/* Waits, sleeping, for a message from src with tag (either may be a
 * wildcard); its envelope in *st. */
static void wait_for(int src, int tag, MPI_Status *st) {
    long ns = 20000;
    int flag = 0;
    for (;;) {
        MPI_Iprobe(src, tag, MPI_COMM_WORLD, &flag, st);
        if (flag) return;
        nap(&ns);
    }
}

int study_mpi_init(study_world *w) {
    w->rank = 0;
    w->size = 1;
    if (launched_size() <= 1) return 0;
    /* FUNNELED: only the main thread calls MPI; rank 0's run thread never does. */
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return fl_error_set("MPI_Init failed");
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w->size);
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        g_started = 0;
        return fl_error_set("this MPI library does not allow threads (MPI_THREAD_FUNNELED)");
    }
    return 0;
}

int study_mpi_share(const study_world *w, int v) {
    if (w->size <= 1) return v;
    if (w->rank == 0) {
        for (int r = 1; r < w->size; r++) MPI_Send(&v, 1, MPI_INT, r, TAG_SHARE, MPI_COMM_WORLD);
        return v;
    }
    MPI_Status st;
    wait_for(0, TAG_SHARE, &st);
    MPI_Recv(&v, 1, MPI_INT, 0, TAG_SHARE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (v < 0) {
        g_root_stopped = 1;
        fl_error_set("rank %d: stopped because rank 0 failed (its error is above)", w->rank);
    }
    return v;
}

int study_mpi_finish(study_world *w, int rc) {
    if (!g_started) return rc;
    if (w->rank == 0) {
        study_mpi_share(w, rc ? -1 : 0);
    } else if (rc && !g_root_stopped) {
        /* Rank 0 does not know: stop the job; what rank 0 wrote stays, and
         * rerunning the command resumes. */
        fl_log(FL_LOG_WARN, "forgetlab study: rank %d: %s\n", w->rank, fl_error_msg());
        MPI_Abort(MPI_COMM_WORLD, 1);
    } else if (!g_root_stopped) {
        rc = study_mpi_share(w, 0) < 0 ? -1 : 0;
    }
    MPI_Finalize();
    g_started = 0;
    return rc;
}

/* A rank other than 0: ask for a run (sending the last one's outcome), run
 * it, until rank 0 answers -1. */
static int worker_jobs(const study_world *w, const study_jobs *j) {
    fl_set_threads(j->threads);
    void *buf = NULL;
    size_t n = 0;
    for (;;) {
        MPI_Send(buf, (int)n, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        free(buf);
        buf = NULL, n = 0;
        /* Rank 0 may instead have failed before the phase began (TAG_SHARE). */
        MPI_Status st;
        int i;
        wait_for(0, MPI_ANY_TAG, &st);
        MPI_Recv(&i, 1, MPI_INT, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_SHARE) {
            g_root_stopped = 1;
            return fl_error_set("rank %d: stopped because rank 0 failed (its error is above)", w->rank);
        }
        if (i < 0) return 0;
        if (i >= j->nplan) return fl_error_set("rank %d: run %d is not in the plan of %d runs", w->rank, i, j->nplan);
        /* A failed run still sends its outcome: rank 0 reports it and stops
         * this rank; only an outcome that cannot be sent aborts. */
        if (j->run(j->ctx, i, &buf, &n) && !buf) {
            fl_log(FL_LOG_WARN, "forgetlab study: rank %d: %s\n", w->rank, fl_error_msg());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
}

/* One finished run's outcome, waiting in rank 0's queue. */
typedef struct {
    void *buf;
    size_t n;
} outcome;

/* Rank 0's side: the runs still to hand out, and its own run thread's
 * outcomes, waiting for the main thread to write them. */
typedef struct {
    pthread_mutex_t mu;
    const study_jobs *j;
    int next;          /* position in j->todo */
    outcome *queue;
    int nq, capq;
    int running;       /* the run thread has not ended */
} root_state;

static int take_next(root_state *s) {
    pthread_mutex_lock(&s->mu);
    int i = s->next < s->j->ntodo ? s->j->todo[s->next++] : -1;
    pthread_mutex_unlock(&s->mu);
    return i;
}

static void *root_runs(void *arg) {
    root_state *s = arg;
    /* OpenMP's thread count is per thread: set it in this one too. */
    fl_set_threads(s->j->threads);
    int i, failed = 0;
    while (!failed && (i = take_next(s)) >= 0) {
        outcome o = {NULL, 0};
        failed = s->j->run(s->j->ctx, i, &o.buf, &o.n) != 0;
        pthread_mutex_lock(&s->mu);
        if (s->nq == s->capq) {
            int cap = s->capq ? 2 * s->capq : 8;
            outcome *q = realloc(s->queue, (size_t)cap * sizeof *q);
            if (q) {
                s->queue = q;
                s->capq = cap;
            }
        }
        if (s->nq < s->capq && o.buf) {
            s->queue[s->nq++] = o;
        } else {
            free(o.buf);
            failed = 1;
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_lock(&s->mu);
    s->running = 0;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Writes an outcome; a failure is printed here (the study goes on with the
 * other runs, as with forked workers) and counted. */
static int commit(fl_results *db, const study_jobs *j, const void *buf, size_t n, int from, double *busy_s,
                  int *ckpts) {
    double t0 = fl_now();
    int k = 0, rc = db->db ? j->commit(j->ctx, db, buf, n, &k) : -1;
    *busy_s += fl_now() - t0;
    *ckpts += k;
    if (rc == 0) return 0;
    fl_log(FL_LOG_WARN, "forgetlab study: rank %d: %s\n", from, db->db ? fl_error_msg() : "no results database");
    return 1;
}

/* Whether rank 0 runs runs as well (FORGETLAB_MPI_ROOT_RUNS=0: only
 * schedules and writes, for measuring what that costs). */
static int root_runs_too(void) {
    const char *v = getenv("FORGETLAB_MPI_ROOT_RUNS");
    return !v || strcmp(v, "0") != 0;
}

/* What rank 0 has done so far: outcomes written, ranks told to stop,
 * failures, and its own cost (writing outcomes, answering ranks). */
typedef struct {
    int written, ckpts, requests, told_done, failed;
    double write_s, answer_s;
} root_tally;

/* Rank 0 takes the outcome a rank sent (st: its probe), writes it, and
 * answers with the rank's next run (or -1: stop). */
static void answer_rank(fl_results *db, root_state *s, const MPI_Status *st, root_tally *t) {
    const double t0 = fl_now();
    int n = 0, from = st->MPI_SOURCE, reply, bad = 0;
    MPI_Get_count(st, MPI_BYTE, &n);
    void *buf = fl_malloc(n > 0 ? (size_t)n : 1, "a run's outcome");
    if (!buf) {
        fl_log(FL_LOG_WARN, "forgetlab study: %s\n", fl_error_msg());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Recv(buf, n, MPI_BYTE, from, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (n > 0) {
        bad = commit(db, s->j, buf, (size_t)n, from, &t->write_s, &t->ckpts);
        t->written++;
    }
    t->failed += bad;
    /* A rank whose run failed stops, as a failed forked worker does. */
    reply = bad ? -1 : take_next(s);
    t->told_done += reply < 0;
    MPI_Send(&reply, 1, MPI_INT, from, TAG_RUN, MPI_COMM_WORLD);
    free(buf);
    t->answer_s += fl_now() - t0;
    t->requests++;
}

static int root_jobs(const study_world *w, const study_jobs *j) {
    fl_results db = {0};
    int failed = fl_results_open_any(&db, j->db_path) == 0 ? 0 : 1;
    if (failed) fl_log(FL_LOG_WARN, "forgetlab study: %s\n", fl_error_msg());
    root_state s = {.j = j, .next = failed ? j->ntodo : 0};
    pthread_mutex_init(&s.mu, NULL);
    pthread_t thread;
    fl_set_threads(j->threads);
    if (!failed && j->ntodo > 0 && root_runs_too()) {
        s.running = 1;
        if (pthread_create(&thread, NULL, root_runs, &s) != 0) s.running = 0;
    }
    const int joined = s.running;
    fl_progress pb;
    if (j->progress) fl_progress_start(&pb, j->label, j->ntodo);
    root_tally t = {.failed = failed};
    long ns = 20000;
    for (;;) {
        int busy = 0, flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
        if (flag) answer_rank(&db, &s, &st, &t), busy = 1;
        pthread_mutex_lock(&s.mu);
        outcome *q = s.queue;
        int nq = s.nq, running = s.running;
        s.queue = NULL;
        s.nq = s.capq = 0;
        pthread_mutex_unlock(&s.mu);
        for (int k = 0; k < nq; k++) {
            t.failed += commit(&db, j, q[k].buf, q[k].n, 0, &t.write_s, &t.ckpts);
            t.written++;
            free(q[k].buf);
        }
        free(q);
        busy |= nq > 0;
        if (j->progress && busy) {
            char extra[96];
            snprintf(extra, sizeof extra, "runs, %d checkpoints, %d ranks x %d threads", t.ckpts, w->size, j->threads);
            fl_progress_update(&pb, t.written, extra);
        }
        if (t.told_done == w->size - 1 && !running && nq == 0) break;
        if (busy)
            ns = 20000;
        else
            nap(&ns);
    }
    if (joined) pthread_join(thread, NULL);
    if (j->progress) fl_progress_finish(&pb);
    pthread_mutex_destroy(&s.mu);
    if (db.db) fl_results_close(&db);
    /* What scheduling costs, for docs/scaling.md's reasoning at scale. */
    if (t.written > 0)
        fl_log(FL_LOG_INFO, "%s: %d run(s) over %d ranks x %d thread(s); rank 0 wrote a run in %.2f ms and answered a request "
               "in %.2f ms (writing included)\n", j->label, t.written, w->size, j->threads,
               1e3 * t.write_s / t.written, t.requests ? 1e3 * t.answer_s / t.requests : 0.0);
    if (t.failed)
        return fl_error_set("%s: %d run(s) failed (the errors are above); rerun to resume", j->label, t.failed);
    return 0;
}

int study_mpi_jobs(const study_world *w, const study_jobs *j) {
    return w->rank == 0 ? root_jobs(w, j) : worker_jobs(w, j);
}

#endif
