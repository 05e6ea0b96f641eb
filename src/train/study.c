/* study.c: the RL's Razor sweep: the grid of runs, worker processes that
 * claim runs from a shared counter and write every checkpoint to SQLite, a
 * resumable plan (finished runs are skipped), and the progress line. */
/* MAP_ANONYMOUS is not in POSIX 2008. */
#define _DEFAULT_SOURCE
#include "forgetlab/study.h"

#include "forgetlab/checkpoint.h"
#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/finetune.h"
#include "forgetlab/progress.h"
#include "forgetlab/results.h"
#include "forgetlab/threads.h"
#include "forgetlab/train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void fl_razor_defaults(fl_razor_config *c) {
    memset(c, 0, sizeof *c);
    c->seeds = 1;
    c->jobs = 0;
    c->checkpoint_every = 0.2;
    c->progress = 1;
    fl_pretrain_defaults(&c->pretrain);
}

typedef struct {
    fl_finetune_config ft;
    fl_run_key key;
    char id[128];
} planned_run;

/* The sweep methods: the paper's 2x2 (on-policy vs offline, with vs without
 * negatives) plus the SFT variants and the oracle. */
static const fl_ft_method SWEEP[] = {FL_FT_SFT1, FL_FT_SFT2, FL_FT_ORACLE, FL_FT_GRPO,
                                     FL_FT_GRPO_KL, FL_FT_REINFORCE, FL_FT_SIMPO};

static void plan_grid(const fl_razor_config *c, const fl_ft_method *methods, int nmethods,
                      const fl_mlp *teacher, const float *base_probs, planned_run *runs, int *n) {
    const int nlr = c->quick ? 5 : 15, nsched = c->quick ? 1 : 2, nep = c->quick ? 1 : 2;
    const fl_sched_kind scheds[2] = {FL_SCHED_CONSTANT, FL_SCHED_COSINE};
    for (int s = 0; s < c->seeds; s++)
        for (int e = 0; e < nep; e++)
            for (int k = 0; k < nsched; k++)
                for (int i = 0; i < nlr; i++)
                    for (int m = 0; m < nmethods; m++) {
                        planned_run *r = &runs[(*n)++];
                        fl_finetune_defaults(&r->ft);
                        /* 15 (or 5) learning rates log-spaced over [3e-6, 1e-3]. */
                        r->ft.lr = 3e-6 * pow(1e-3 / 3e-6, (double)i / (nlr - 1));
                        r->ft.method = methods[m];
                        r->ft.schedule = scheds[k];
                        r->ft.epochs = e + 1;
                        r->ft.seed = (uint64_t)s;
                        r->ft.checkpoint_every = c->checkpoint_every;
                        r->ft.teacher = teacher;
                        r->ft.base_probs = base_probs;
                        r->ft.progress = 0;
                        r->ft.save_model = c->keep_models || (c->with_distill && methods[m] == FL_FT_GRPO);
                        r->key = (fl_run_key){fl_ft_method_name(methods[m]), r->ft.lr,
                                              k ? "cosine" : "constant", e + 1, (uint64_t)s};
                        fl_run_id(&r->key, r->id, sizeof r->id);
                    }
}

/* What a worker needs; shared by fork (copy-on-write). */
typedef struct {
    const fl_razor_config *c;
    const fl_mlp *base;
    const fl_task_data *train;
    const fl_measure_ctx *mctx;
    const float *base_probs; /* the base on the training set, once per study */
    planned_run *runs;
    int n;
    int *next; /* shared counter in an anonymous shared mapping */
} sweep;

typedef struct {
    fl_results *db;
    const planned_run *run;
} ckpt_ctx;

static int on_checkpoint(void *user, int idx, long step, double epoch, const fl_measurement *m) {
    ckpt_ctx *k = user;
    return fl_results_add_checkpoint(k->db, &k->run->key, k->run->id, idx, step, epoch, m);
}

static int run_one(const sweep *sw, fl_results *db, const planned_run *r) {
    int done;
    if (fl_results_run_done(db, r->id, &done)) return -1;
    if (done) return 0;
    if (fl_results_begin_run(db, r->id)) return -1;
    char *runs_dir = fl_path_join(sw->c->out_dir, "runs"), *dir = runs_dir ? fl_path_join(runs_dir, r->id) : NULL;
    double t0 = fl_now();
    ckpt_ctx k = {db, r};
    fl_measurement final = {0};
    double times[4] = {0};
    int rc = dir ? fl_finetune_run(&r->ft, sw->base, sw->train, sw->mctx, dir, "base", on_checkpoint, &k, &final,
                                   &times[1])
                 : fl_error_set("out of memory");
    times[0] = fl_now() - t0;
    times[2] = final.eval_s;
    times[3] = final.predictors_s;
    if (rc == FL_DIVERGED) {
        /* One run's divergence is a result, not a failure of the study. */
        fprintf(stderr, "forgetlab study: run %s: %s\n", r->id, fl_error_msg());
        rc = fl_results_mark_diverged(db, &r->key, r->id, fl_error_msg());
    } else if (rc == 0) {
        rc = fl_results_finish_run(db, &r->key, r->id, &final, times);
    }
    if (rc) fl_error_wrap("run %s", r->id);
    free(runs_dir);
    free(dir);
    return rc;
}

static int worker(const sweep *sw, int threads) {
    fl_set_threads(threads);
    char *path = fl_path_join(sw->c->out_dir, "results.sqlite");
    fl_results db;
    int rc = path ? fl_results_open(&db, path) : -1;
    free(path);
    while (rc == 0) {
        int i = __atomic_fetch_add(sw->next, 1, __ATOMIC_SEQ_CST);
        if (i >= sw->n) break;
        rc = run_one(sw, &db, &sw->runs[i]);
    }
    if (rc) fprintf(stderr, "forgetlab study: %s\n", fl_error_msg());
    if (db.db) fl_results_close(&db);
    return rc ? 1 : 0;
}

/* Forks the workers, draws progress until they exit. */
static int run_sweep(sweep *sw, const char *label) {
    const fl_razor_config *c = sw->c;
    int cores = c->threads > 0 ? c->threads : fl_cpu_count();
    int jobs = c->jobs > 0 ? c->jobs : cores;
    if (jobs > sw->n) jobs = sw->n > 0 ? sw->n : 1;
    int per_job = cores / jobs > 0 ? cores / jobs : 1;
    /* How many planned runs are left (a resumed study skips the rest), counted
     * on a connection closed before the fork. */
    int pending = sw->n;
    char *path = fl_path_join(c->out_dir, "results.sqlite");
    fl_results db = {0};
    if (path && fl_results_open(&db, path) == 0) {
        for (int i = 0; i < sw->n; i++) {
            int d = 0;
            if (fl_results_run_done(&db, sw->runs[i].id, &d) == 0) pending -= d;
        }
        fl_results_close(&db);
    }
    sw->next = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sw->next == MAP_FAILED) return fl_error_set("cannot map shared memory");
    *sw->next = 0;
    fflush(NULL);
    int started = 0, failed = 0;
    const pid_t parent = getpid();
    for (; started < jobs; started++) {
        pid_t p = fork();
        if (p < 0) {
            failed = 1;
            fl_error_set("fork failed");
            break;
        }
        if (p == 0) {
            /* A worker dies with the study (kill -9 included): a rerun must
             * not race orphans still writing the same runs. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(1);
            _exit(worker(sw, per_job));
        }
    }
    int have_db = path && fl_results_open(&db, path) == 0;
    fl_progress pb;
    int done0 = 0, ck0 = 0;
    if (have_db) fl_results_count(&db, &done0, &ck0);
    if (c->progress) fl_progress_start(&pb, label, pending);
    int alive = started;
    while (alive > 0) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) {
            alive--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
            continue;
        }
        if (p < 0) break;
        if (c->progress && have_db) {
            int runs, ckpts;
            if (fl_results_count(&db, &runs, &ckpts) == 0) {
                char extra[96];
                snprintf(extra, sizeof extra, "runs, %d checkpoints, %d jobs x %d threads", ckpts, jobs, per_job);
                /* Runs finished by an earlier invocation are not this one's progress. */
                fl_progress_update(&pb, runs - done0 > 0 ? runs - done0 : 0, extra);
            }
        }
        nanosleep(&(struct timespec){0, 200000000L}, NULL);
    }
    if (c->progress) fl_progress_finish(&pb);
    if (have_db) fl_results_close(&db);
    free(path);
    munmap(sw->next, sizeof(int));
    if (failed) return fl_error_set("%s: a worker failed (its error is above); rerun to resume", label);
    return 0;
}

/* The base model: DIR/base, pretrained now unless an earlier invocation did. */
static int ensure_base(const fl_razor_config *c, fl_mlp *base) {
    char *dir = fl_path_join(c->out_dir, "base"), *file = dir ? fl_path_join(dir, "model.safetensors") : NULL;
    int rc = -1;
    if (!file) {
        fl_error_set("out of memory");
    } else if (!fl_file_exists(file)) {
        fl_pretrain_config pc = c->pretrain;
        pc.data_dir = c->data_dir;
        pc.threads = c->threads;
        pc.progress = c->progress;
        rc = fl_pretrain_run(&pc, dir);
        if (rc == 0) rc = fl_mlp_load(file, base, NULL);
    } else {
        rc = fl_mlp_load(file, base, NULL);
    }
    free(dir);
    free(file);
    return rc;
}

static int distill_phase(sweep *sw, const fl_razor_config *c) {
    char *path = fl_path_join(c->out_dir, "results.sqlite"), id[128], *runs = NULL, *model = NULL;
    fl_results db;
    fl_mlp teacher = {0};
    int rc = -1;
    if (!path || fl_results_open(&db, path)) goto out;
    rc = fl_results_best_run(&db, "grpo", id, sizeof id);
    fl_results_close(&db);
    if (rc) goto out;
    rc = -1;
    runs = fl_path_join(c->out_dir, "runs");
    char *rundir = runs ? fl_path_join(runs, id) : NULL;
    model = rundir ? fl_path_join(rundir, "model.safetensors") : NULL;
    if (model && !fl_file_exists(model)) {
        /* The sweep ran without --with-distill, so it kept no models: train
         * the teacher again (same seed, same numbers) and keep it this time. */
        for (int i = 0; i < sw->n; i++)
            if (strcmp(sw->runs[i].id, id) == 0) {
                fl_finetune_config ft = sw->runs[i].ft;
                ft.save_model = 1;
                if (fl_finetune_run(&ft, sw->base, sw->train, sw->mctx, rundir, "base", NULL, NULL, NULL, NULL))
                    fl_error_wrap("retraining the distill teacher %s", id);
                break;
            }
    }
    free(rundir);
    if (!model || fl_mlp_load(model, &teacher, NULL)) goto out;
    const fl_ft_method m = FL_FT_DISTILL;
    sw->n = 0;
    plan_grid(c, &m, 1, &teacher, sw->base_probs, sw->runs, &sw->n);
    rc = run_sweep(sw, "distill");
out:
    fl_mlp_free(&teacher);
    free(path);
    free(runs);
    free(model);
    return rc;
}

int fl_razor_run(const fl_razor_config *c) {
    fl_mlp base = {0};
    fl_task_data train = {0};
    fl_measure_ctx mctx = {0};
    planned_run *runs = NULL;
    float *base_probs = NULL;
    int rc = -1;
    if (fl_mkdirs(c->out_dir)) return -1;
    fl_set_threads(c->threads);
    if (ensure_base(c, &base)) goto out;
    const char *dir = fl_data_dir(c->data_dir);
    if (fl_task_load(&train, FL_TASK_PARITY, dir, "train")) goto out;
    /* The base model's outputs and Fisher: once, shared by every run. */
    if (fl_measure_ctx_init(&mctx, &base, dir, 2000, 0)) goto out;
    if (!(base_probs = fl_model_probs(&base, &train))) goto out;
    const int nm = (int)(sizeof SWEEP / sizeof *SWEEP), max_runs = nm * 15 * 2 * 2 * c->seeds;
    runs = fl_malloc((size_t)max_runs * sizeof *runs, "run plan");
    if (!runs) goto out;
    sweep sw = {c, &base, &train, &mctx, base_probs, runs, 0, NULL};
    plan_grid(c, SWEEP, nm, NULL, base_probs, runs, &sw.n);
    if (run_sweep(&sw, "sweep")) goto out;
    if (c->with_distill && distill_phase(&sw, c)) goto out;
    rc = fl_razor_analyse(c->out_dir);
out:
    free(runs);
    free(base_probs);
    fl_measure_ctx_free(&mctx);
    fl_task_free(&train);
    fl_mlp_free(&base);
    return rc;
}
