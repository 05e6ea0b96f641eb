/* study_int.h: what the parts of the study share (study.c plans and runs it
 * on one machine, study_record.c turns one run into a record and a record
 * into rows, study_mpi.c spreads the runs over MPI ranks, study_merge.c
 * combines shard directories). Not a public interface. */
#ifndef FORGETLAB_STUDY_INT_H
#define FORGETLAB_STUDY_INT_H

#include "forgetlab/train/finetune.h"
#include "forgetlab/store/results.h"
#include "forgetlab/train/study.h"

#include <stddef.h>

typedef struct {
    fl_finetune_config ft;
    fl_run_key key;
    char id[128];
} planned_run;

/* One seed's base model and what every run from it reads: the base's
 * share of the measurements and its outputs on the training set (once per
 * process, on first need: study_base_ready), and the teacher of its
 * distill runs. */
typedef struct {
    fl_mlp model;
    fl_measure_ctx mctx;
    float *probs;             /* NULL until mctx and probs are computed */
    fl_mlp teacher;
} study_base;

/* Seed s's base model directory under DIR: "base" for seed 0 (a one-seed
 * study's layout), "base_sS" for the others. */
void study_base_dir(int s, char *buf, size_t n);

/* One phase of the study (the sweep, then the distill runs): its plan, the
 * runs of it still to do, and what every run reads. Workers get it by fork
 * (copy-on-write) or, under MPI, build the same one on every rank. */
typedef struct {
    const fl_razor_config *c;
    study_base *bases;        /* one per seed */
    const fl_task_data *train;
    planned_run *runs;
    int n;                    /* planned runs (the whole grid of the phase) */
    int *todo, ntodo;         /* plan indices this process still has to run */
    int run_threads;          /* BLAS/OpenMP threads of every run */
    const char *label;        /* "sweep" or "distill", for messages */
} sweep;

/* Seed s's base outputs and Fisher (study_base.mctx, probs), computed
 * the first time a run of the seed needs them, with the study's --threads
 * as always (so the numbers do not depend on when): a rerun with nothing
 * left to do, or an MPI rank that gets no run of the seed, never pays for
 * them. */
int study_base_ready(const sweep *sw, int s);

/* Threads per run: the cores (--threads, else all) shared by the concurrent
 * runs (--jobs, else one per core) of a whole phase of nplan runs. It
 * depends on the grid, never on how the grid is split over ranks or shards:
 * the same count everywhere gives the same numbers as one process. */
int study_run_threads(const fl_razor_config *c, int nplan);

/* The grid of a phase: every method x learning rate x schedule x epochs x
 * seed, in a fixed order (the order shards are cut from). Run of seed s
 * starts from bases[s] (bases may be NULL: the plan's names only). */
void study_plan(const fl_razor_config *c, const fl_ft_method *methods, int nmethods, const study_base *bases,
                planned_run *runs, int *n);
/* The sweep's methods and the most runs a plan can hold. */
extern const fl_ft_method STUDY_SWEEP[];
extern const int STUDY_NSWEEP;
int study_max_runs(const fl_razor_config *c);
/* Whether plan index i belongs to the config's shard (every index does
 * without --shard). */
int study_in_shard(const fl_razor_config *c, int i);

/* "quick=1 seeds=1 checkpoint_every=0.2", then " methods=sft1,sft2",
 * " sft2=6,8/7,9" and " sft2_soft=1" where they differ from the defaults:
 * what makes two studies' grids the same, as recorded in results.sqlite
 * (table study, key grid). study_grid_parse reads it back into c. */
void study_grid_string(const fl_razor_config *c, char *buf, size_t n);
int study_grid_parse(const char *grid, fl_razor_config *c);
/* The methods of the sweep phase: c's, or the whole STUDY_SWEEP. */
const fl_ft_method *study_methods(const fl_razor_config *c, int *n);

/* A run directory's measured checkpoints (the lines of its metrics.jsonl
 * that hold the key `marker`) and final figures (summary.json, with its
 * wall_time_s, train_s and measure_s) into db, in one transaction. Field i
 * of db (names, nf <= FL_POINTS_MAX_FIELDS) is read from key src[i] (src
 * NULL or src[i] NULL: names[i]); a key a line lacks is NaN. */
int study_commit_jsonl(fl_results *db, const fl_run_key *key, const char *id, const char *dir,
                       const char *const *names, const char *const *src, int nf, const char *marker);

/* One measured checkpoint of a run. */
typedef struct {
    int idx;
    long step;
    double epoch;
    fl_measurement m;
} run_checkpoint;

enum { RUN_DONE = 0, RUN_DIVERGED = 1, RUN_FAILED = 2 };

/* Everything a finished run contributes to the database, held in memory
 * until it is written in one transaction (here, or by MPI rank 0 after
 * the bytes of study_record_pack travelled). */
typedef struct {
    int run;                 /* plan index */
    int status;              /* RUN_DONE, RUN_DIVERGED or RUN_FAILED */
    char error[512];         /* for RUN_DIVERGED and RUN_FAILED */
    double times[5];         /* wall, training, evaluation, predictors, of which the circuit probe (s) */
    fl_measurement final;
    int nckpt, cap;
    run_checkpoint *ckpt;
} run_record;

/* Runs plan[i] (its directory under DIR/runs) into rec. Always gives an
 * outcome (RUN_FAILED with its error when the run could not be done);
 * returns 0. */
int study_record_run(const sweep *sw, int i, run_record *rec);
/* Writes a record's rows (checkpoints, then the run) in one transaction.
 * A RUN_FAILED record writes nothing and returns -1 with its error. */
int study_record_commit(fl_results *db, const sweep *sw, const run_record *rec);
void study_record_free(run_record *rec);

/* A record as bytes and back: ranks run the same build on the same kind of
 * machine, so the structures travel as they are, behind a header that
 * says which build made them. */
int study_record_pack(const run_record *rec, void **buf, size_t *n);
int study_record_unpack(const void *buf, size_t n, run_record *rec);

/* Worker processes on one machine: procs forked workers (at most njobs)
 * each run jobs k = 0 .. njobs - 1 taken from a shared counter, calling
 * job(ctx, k, db) with their own connection to the database at db_path,
 * with `threads` BLAS/OpenMP threads; the parent draws the progress line
 * (finished runs in the database) until they exit. Fails when a worker
 * did (its error printed). */
typedef struct {
    const char *db_path;
    int njobs, procs, threads;
    int progress;
    const char *label;
    int (*job)(void *ctx, int k, fl_results *db);
    void *ctx;
} study_pool;
int study_pool_run(const study_pool *p);

/* Before a study writes out_dir: new (or empty), or holding a study of the
 * same grid (db's record: a rerun resumes it), or - only with overwrite,
 * which moves it aside (*replaced: where; fl_rundir_release it) - anything
 * else. */
int study_claim(const char *out_dir, const char *db, const char *grid, int overwrite, char **replaced);

/* Records which build (fl_build_id) runs the study: "build", the first,
 * and "builds", every build that has added runs; and on which matrix
 * kernels (fl_blas_kernels_id): "blas" and "blas_all". Resuming with
 * another build or other kernels than the first warns (log.h): the
 * finished runs stay as they were made, the new ones come from this
 * process. */
int study_note_build(fl_results *db, const char *out_dir);

/* The MPI world of this process: size 1 when it was not started by an MPI
 * launcher with several processes, or the build has no MPI. */
typedef struct {
    int rank, size;
} study_world;

/* Starts MPI when mpirun (or srun) started several processes. Fails when
 * it did but the build has no MPI. */
int study_mpi_init(study_world *w);
/* Ends MPI; every rank returns rank 0's outcome (rc on rank 0). */
int study_mpi_finish(study_world *w, int rc);
/* Rank 0 sends v to every other rank, which returns it. The others wait
 * without spinning (a rank waiting must not take a core from one at work). */
int study_mpi_share(const study_world *w, int v);
/* Runs study(w, cfg) in this process's MPI world (size 1 outside mpirun):
 * MPI started and ended around it, *writer set on rank 0 (the process that
 * wrote results.sqlite and so runs the analysis). Every rank returns rank
 * 0's outcome. */
int study_in_world(int (*study)(const study_world *w, const void *cfg), const void *cfg, int *writer);

/* A phase's runs over the ranks: rank 0 hands out plan indices from todo
 * (meaningful on rank 0 only) one at a time and writes every outcome into
 * the database at db_path; every rank, rank 0 included (in a second
 * thread), runs what it is handed with `threads` threads.
 *   run:    any rank: runs plan index i (< nplan); its outcome as bytes
 *           (malloc'd) for rank 0. Nonzero when the run failed: its bytes
 *           still go to rank 0 (which reports it and stops the rank).
 *   commit: rank 0: writes an outcome; *ckpts the checkpoints it held.
 *           Nonzero (error set) when the run failed or cannot be written. */
typedef struct {
    const char *db_path, *label;
    int nplan;
    const int *todo;
    int ntodo, threads, progress;
    int (*run)(void *ctx, int i, void **out, size_t *n);
    int (*commit)(void *ctx, fl_results *db, const void *out, size_t n, int *ckpts);
    void *ctx;
} study_jobs;
int study_mpi_jobs(const study_world *w, const study_jobs *j);
/* The razor sweep's runs that way. */
int study_mpi_sweep(const study_world *w, sweep *sw);

/* A phase of runs that are their own commands (the language-model and
 * grok-forget studies): rank 0 (or the only process) lists the plan
 * indices not yet in the database (of the shard, when shard_count > 1)
 * into todo (room for nplan), then worker processes (jobs concurrent, of
 * the cores of --threads) or the MPI ranks train them, each with
 * run_threads threads; each finished run is recorded at once: commit
 * writes its rows, a divergence is marked as such.
 *   id, key:  plan index i's run id and key
 *   train:    trains it: 0, FL_DIVERGED, or -1 (error set)
 *   commit:   writes the finished run's rows (rank 0) */
typedef struct {
    const char *db_path, *label;
    int nplan, shard_index, shard_count;
    int jobs, threads, run_threads, progress;
    const char *(*id)(void *ctx, int i);
    const fl_run_key *(*key)(void *ctx, int i);
    int (*train)(void *ctx, int i);
    int (*commit)(void *ctx, fl_results *db, int i);
    void *ctx;
    int *todo, ntodo;
} study_cmd_phase;
int study_cmd_phase_run(const study_world *w, study_cmd_phase *ph);
/* Threads per run of such a phase: the cores (threads, else all) shared by
 * the concurrent runs (jobs, else one per core), under MPI too, so that a
 * study gives the same numbers however it is spread. */
int study_cmd_run_threads(int threads, int jobs);
/* --lrs: comma-separated learning rates into lrs (at most max, none given
 * twice as fl_same_run_lr sees them). */
int study_parse_lrs(const char *list, double *lrs, int max, int *n);
/* Where such a study keeps the bases it grows: --base-cache, else
 * $FORGETLAB_CACHE, else ~/.cache/forgetlab, else out_dir/bases. */
void study_cache_dir(const char *base_cache, const char *out_dir, char *buf, size_t n);
/* The fields every grid string of such a study holds after its kind word
 * (prefix, e.g. "lm "): seeds, methods (up to 255 bytes), lrs (up to 511)
 * and epochs; -1 naming the kind when one is missing. */
int study_grid_fields(const char *grid, const char *prefix, int *seeds, char methods[256], char lrs[512],
                      int *epochs);

#endif
