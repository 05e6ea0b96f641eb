/* study_lm.h: RL's Razor on the language model (`forgetlab study lm`,
 * docs/lm.md): the pretrained base of each seed (pretrained once into a
 * cache, or given), fine-tuned on word completion by every method of
 * lm_finetune.h over a grid of learning rates that ends at the rate the base's
 * pretraining ended at, every checkpoint measured (lm_measure.h); then the
 * distill runs, taught by each seed's best grpo run; then the analysis and
 * report of `study razor` (report.h) on the language model's measurements.
 * sft-teacher's teacher for seed s is a grpo run (the grid's top rate, on
 * seed s's split of the new task) of seed s + 1's base, made once and
 * kept beside the bases.
 *
 * DIR/runs/RUN_ID/      each lm-finetune run (resumable on its own)
 * DIR/results.sqlite    one row per run and per checkpoint (study key kind = lm)
 * DIR/results.csv, predictors.csv, frontier.csv, methods.csv, the plots,
 * index.html            as `study razor` writes them */
#ifndef FORGETLAB_STUDY_LM_H
#define FORGETLAB_STUDY_LM_H

#include "forgetlab/train/lm_finetune.h"
#include "forgetlab/io/settings.h"

#define FL_LMSTUDY_MAX_LRS 16

typedef struct {
    const char *out_dir, *data_dir;
    int quick;             /* the quick base and grid (minutes on 2 cores) */
    int seeds;             /* seeds 0 .. seeds-1: each its own base and runs */
    int jobs, threads;     /* concurrent runs; all threads, shared among them */
    int progress, overwrite, no_distill;
    int sft_epochs;        /* the supervised methods' epochs (0: --epochs), with as many checkpoints */
    const char *methods;   /* comma-separated (NULL: every method) */
    const char *lrs;       /* comma-separated learning rates (NULL: the grid's) */
    const char *base;      /* a pretrained language model for every seed (no pretraining) */
    const char *base_cache;/* where bases are pretrained and kept (NULL: $FORGETLAB_CACHE,
                              else ~/.cache/forgetlab) */
    int shard_index, shard_count; /* --shard I/N: plan indices i with i % N == I - 1 (no distill) */
    fl_lmft_config ft;     /* every run's settings but method, lr, seed and base */
} fl_lmstudy_config;

void fl_lmstudy_defaults(fl_lmstudy_config *c);
extern const fl_setting FL_LMSTUDY_SETTINGS[];
extern const int FL_LMSTUDY_NSETTINGS;

/* The ids of every run a study's grid (as results.sqlite records it) plans,
 * for `merge` (ids: malloc'd). */
int fl_lmstudy_plan_ids(const char *grid, char (**ids)[128], int *n);

/* The sweep and distill runs, resuming what is done, on worker processes
 * or, when mpirun (or srun) started several processes, over the MPI ranks
 * (DIR on a file system every rank sees; rank 0 writes results.sqlite).
 * *writer: whether this process wrote it (and so runs the analysis).
 * FL_BAD_REQUEST when the options are wrong. */
int fl_lmstudy_run(const fl_lmstudy_config *c, int *writer);

#endif
