/* study.h: the RL's Razor study (SCIENCE.md sections 2-3): pretrain the base
 * model, sweep methods x learning rates x schedules x epochs x seeds,
 * measure every checkpoint, then fit forgetting against every predictor and
 * each method's Pareto frontier, and write the report.
 *
 * DIR/base/             the base model's run directory (reused if present)
 * DIR/runs/RUN_ID/      each fine-tuning run (config, metrics, summary)
 * DIR/results.sqlite    one row per run and per checkpoint (WAL)
 * DIR/results.csv       the checkpoint rows
 * DIR/predictors.csv    predictor, r2, r2_lo, r2_hi, n
 * DIR/frontier.csv      per method: the exponential fit of its frontier
 * DIR/index.html and the plots (PNG and SVG) */
#ifndef FORGETLAB_STUDY_H
#define FORGETLAB_STUDY_H

#include "forgetlab/pretrain.h"

typedef struct {
    const char *out_dir;
    const char *data_dir;
    int quick;          /* 5 learning rates, constant, 1 epoch */
    int seeds;          /* seeds 0 .. seeds-1 */
    int jobs;           /* concurrent runs (processes) */
    int threads;        /* total threads, shared among the jobs */
    int with_distill;   /* add distill runs taught by the best grpo run */
    int keep_models;    /* keep every run's model.safetensors */
    double checkpoint_every;
    int progress;
    fl_pretrain_config pretrain;
} fl_razor_config;

void fl_razor_defaults(fl_razor_config *c);

/* The whole study: sweep (resuming what is done), then the analysis. */
int fl_razor_run(const fl_razor_config *c);

/* The analysis alone, from DIR/results.sqlite: CSVs, fits, plots, report. */
int fl_razor_analyse(const char *dir);

#endif
