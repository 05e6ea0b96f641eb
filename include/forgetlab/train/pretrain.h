/* pretrain.h: the joint pretraining of the RL's Razor base model on
 * ParityMNIST + FashionMNIST (docs/razor.md), and evaluation of a
 * model on both tasks. */
#ifndef FORGETLAB_PRETRAIN_H
#define FORGETLAB_PRETRAIN_H

#include "forgetlab/nn/mlp.h"
#include "forgetlab/io/settings.h"
#include "forgetlab/data/tasks.h"

#include <stdint.h>

typedef struct {
    const char *data_dir;  /* NULL: the default (see data.h) */
    const char *spec;      /* model widths, "785-512-256-10" */
    int per_task;          /* training images drawn from each task */
    int epochs;
    int batch;
    double lr, weight_decay, beta1, beta2;
    double clip;           /* gradient-norm clip, 0 = off */
    uint64_t seed;
    int threads;           /* 0: all cores */
    int log_every;         /* steps between metrics lines */
    int checkpoint_every;  /* epochs between resumable states (DIR/state.safetensors) */
    int progress;          /* draw a progress bar (when stderr is a tty) */
    int overwrite;         /* replace a run of another command or configuration in the output directory */
} fl_pretrain_config;

void fl_pretrain_defaults(fl_pretrain_config *c);

/* The settings of the pretrain command over fl_pretrain_config: its
 * options, --help lines and config.json keys (settings.h). */
extern const fl_setting FL_PRETRAIN_SETTINGS[];
extern const int FL_PRETRAIN_NSETTINGS;

/* Trains, evaluates, and writes the run directory out_dir. A state left
 * in out_dir by a killed run of the same configuration (and thread count)
 * is resumed: the result is the uninterrupted run's. */
int fl_pretrain_run(const fl_pretrain_config *c, const char *out_dir);

/* Accuracy of m on a task's data; logits_out[n, 10] receives the logits when
 * not NULL. */
int fl_eval_task(const fl_mlp *m, const fl_task_data *td, double *acc, float *logits_out);

#endif
