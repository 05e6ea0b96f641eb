/* study_continual.h: `forgetlab study continual` (docs/continual.md): one
 * benchmark and scenario (clbench.h), every method of continual.h x seeds,
 * each run's accuracy matrix and boundary KLs into results.sqlite, then
 * the report (report.h: fl_clstudy_analyse).
 *
 * DIR/runs/RUN_ID/accuracy_matrix.npy   R[t][i] (float32, T x T)
 * DIR/results.sqlite   a row per run, boundary t and task i (acc = R[t][i],
 *                      kl_prev = the boundary KL on task i's inputs), and
 *                      per run its metrics (study key kind = continual)
 * DIR/results.csv, metrics.csv, predictors.csv, the plots, index.html */
#ifndef FORGETLAB_STUDY_CONTINUAL_H
#define FORGETLAB_STUDY_CONTINUAL_H

#include "forgetlab/train/continual.h"
#include "forgetlab/io/settings.h"

typedef struct {
    const char *out_dir, *data_dir;
    fl_cl_benchmark bench;
    fl_cl_scenario scenario;
    int quick;           /* 1,000 training examples a task, 1 epoch */
    int seeds, jobs, threads, progress, overwrite;
    int shard_index, shard_count; /* --shard I/N: plan indices i with i % N == I - 1 */
    const char *methods; /* comma-separated (NULL: every method) */
    int ntasks, per_task;
    double validation;   /* > 0: that fraction of the training examples evaluated on, not the test set */
    fl_cl_config cl;     /* every run's hyper-parameters */
} fl_clstudy_config;

void fl_clstudy_defaults(fl_clstudy_config *c);
extern const fl_setting FL_CLSTUDY_SETTINGS[];
extern const int FL_CLSTUDY_NSETTINGS;

/* The measurement columns of its results.sqlite. */
#define FL_CLSTUDY_NFIELDS 12
extern const char *const FL_CLSTUDY_FIELDS[FL_CLSTUDY_NFIELDS];

/* The runs, resuming what is done, on worker processes or, when mpirun
 * (or srun) started several processes, over the MPI ranks (DIR on a file
 * system every rank sees; rank 0 writes results.sqlite). *writer: whether
 * this process wrote it (and so runs the analysis). FL_BAD_REQUEST when
 * the options are wrong (the error says which). */
int fl_clstudy_run(const fl_clstudy_config *c, int *writer);
/* The ids of every run a study's grid (as results.sqlite records it)
 * plans, for `merge` (ids: malloc'd). */
int fl_clstudy_plan_ids(const char *grid, char (**ids)[128], int *n);

#endif
