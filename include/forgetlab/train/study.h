/* study.h: the RL's Razor study (docs/razor.md): pretrain the base
 * model, sweep methods x learning rates x schedules x epochs x seeds,
 * measure every checkpoint, then fit forgetting against every predictor and
 * each method's Pareto frontier, and write the report.
 *
 * DIR/base/             the base model's run directory (reused if present)
 * DIR/runs/RUN_ID/      each fine-tuning run (config, metrics, summary)
 * DIR/results.sqlite    one row per run and per checkpoint (WAL)
 * DIR/results.csv       the checkpoint rows
 * DIR/predictors.csv    predictor, r2, r2_lo, r2_hi, n, spearman, side
 * DIR/frontier.csv      per method: the exponential fit of its frontier
 * DIR/index.html and the plots (PNG and SVG)
 *
 * The runs go to forked worker processes, or, when the study is started by
 * mpirun (or srun) with several processes and the build has MPI, over the
 * ranks: rank 0 owns results.sqlite and writes what the others send.
 * A shard (--shard I/N) runs the I-th of N disjoint parts of the grid into
 * its own directory; fl_razor_merge combines the shards into one study. */
#ifndef FORGETLAB_STUDY_H
#define FORGETLAB_STUDY_H

#include "forgetlab/measure/attribution.h"
#include "forgetlab/train/finetune.h"
#include "forgetlab/train/pretrain.h"
#include "forgetlab/io/settings.h"

#define FL_STUDY_MAX_LRS 16

typedef struct {
    const char *out_dir;
    const char *data_dir;
    int quick;          /* 5 learning rates, constant, 1 epoch */
    int seeds;          /* seeds 0 .. seeds-1 */
    int jobs;           /* concurrent runs (processes) */
    int threads;        /* total threads, shared among the jobs */
    int with_distill;   /* add distill runs taught by the best grpo run (fl_razor_resolve) */
    int keep_models;    /* keep every run's model.safetensors */
    double checkpoint_every;
    int progress;
    int shard_index;    /* 1 .. shard_count; shard_count 0: the whole grid */
    int shard_count;
    fl_pretrain_config pretrain;
    fl_ap_opts probe;   /* the circuit probe (fl_circuit_probe_default) */
    int overwrite;      /* replace another study (grid, probe) or another command's run in out_dir */
    int nlrs;           /* 0: the grid's learning rates; else lrs[0..nlrs) */
    double lrs[FL_STUDY_MAX_LRS];
    int nmethods;       /* 0: the whole sweep; else methods[0..nmethods) of it */
    fl_ft_method methods[FL_FT_NMETHODS];
    int sft2_labels[2][2], sft2_soft; /* sft2's target pairs and hard/soft targets (fl_finetune_config) */
    /* What the options ask for, which fl_razor_resolve turns into the
     * fields above. */
    int no_distill;     /* --no-distill: no distill runs */
    int need_distill;   /* --with-distill: distill runs, or an error */
    int cs_plain;       /* --cs-method ap: the probe without integrated gradients */
    int cs_steps;       /* --cs-steps; 0: the probe's default */
} fl_razor_config;

void fl_razor_defaults(fl_razor_config *c);

/* The options of `study razor`, each setting a field of fl_razor_config;
 * none has a config.json key (the study records its grid and circuit
 * probe in results.sqlite). The first FL_STUDY_NHELP have --help lines;
 * the rest are legacy, still accepted. */
extern const fl_setting FL_STUDY_SETTINGS[];
extern const int FL_STUDY_NSETTINGS;
extern const int FL_STUDY_NHELP;

/* Once the options are read: checks what they ask for together (the
 * circuit probe; distill runs need grpo and the whole grid) and sets
 * with_distill and the probe's integrated-gradient steps. 0, or -1 with
 * the error set naming the options. */
int fl_razor_resolve(fl_razor_config *c);

/* The whole study: the sweep, resuming what is done. *writer: whether this
 * process wrote results.sqlite (rank 0 under MPI), so the caller knows who
 * runs the analysis (fl_razor_analyse, report.h). */
int fl_razor_run(const fl_razor_config *c, int *writer);

/* Combines the study directories dirs[0..n) (the shards of one grid, run
 * by one version with the same base model and threads per run) into out.
 * Refuses missing runs unless partial. *added (if not NULL): the runs it
 * copied that out did not hold. */
int fl_razor_merge(const char *const *dirs, int n, const char *out, int partial, int *added);

/* Whether this build can spread a study over MPI ranks. */
int fl_razor_has_mpi(void);

#endif
