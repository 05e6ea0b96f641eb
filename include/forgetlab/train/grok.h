/* grok.h: training a transformer on modular arithmetic and tracking
 * grokking (docs/grokking.md): memorisation, then generalisation long
 * after, with Nanda et al.'s progress measures along the way.
 *
 * The run directory holds config.json, metrics.jsonl (epoch, train_loss,
 * train_acc, test_loss, test_acc, weight_norm, step_loss (the training
 * batch's loss before the epoch's last update), epoch_ms (that epoch's
 * training time, evaluation excluded), and every measure_every
 * epochs cs (circuit stability across the subtasks a = 0 .. p-1, node
 * attribution patching with b as the counterfactual) and, for + and -,
 * key_freqs, restricted_loss, excluded_loss), summary.json
 * (memorized_epoch, grokked_epoch, final accuracies, wall time),
 * model.safetensors, state.safetensors (the resumable state: weights, AdamW
 * moments, epoch), the plots and, with snapshot_every, the weights every
 * that many epochs in snapshots/epoch_NNNNNN.safetensors. */
#ifndef FORGETLAB_GROK_H
#define FORGETLAB_GROK_H

#include "forgetlab/data/modarith.h"
#include "forgetlab/io/settings.h"
#include "forgetlab/nn/transformer.h"

#include <stdint.h>

typedef struct {
    const char *preset;       /* "nanda", "quick" or NULL (recorded only) */
    int p;
    fl_mod_ops ops;
    int reserve_ops;          /* operation tokens kept untrained for later tasks (grok-forget) */
    int intro_new;            /* training pairs also asked with the first reserved token, towards the uniform
                                 distribution over the p answers (grok-forget's base) */
    double frac;              /* training fraction of all equations */
    int layers, d_model, heads, d_mlp;
    fl_tf_act act;
    int layernorm;
    fl_tf_init_kind init;
    double lr, wd, beta1, beta2;
    int warmup;               /* linear warm-up steps of the learning rate */
    long epochs;
    int batch;                /* 0: full batch */
    int log_every;            /* epochs between metrics lines (and evaluations) */
    int measure_every;        /* epochs between progress measures (multiple of log_every) */
    int checkpoint_every;     /* epochs between resumable checkpoints */
    int key_freqs;            /* how many key frequencies the measures use */
    int cs_examples;          /* equations per subtask for circuit stability (32) */
    int snapshot_every;       /* epochs between kept weight snapshots (0: none) */
    int stop_at_grok;         /* stop at the first logged epoch with test_acc >= 0.95 */
    uint64_t seed;
    int threads;
    int progress;
    int overwrite;            /* replace a run of another command or configuration in the output directory */
} fl_grok_config;

/* The nanda preset (the defaults): p 113, +, 30%, 1 layer, d_model 128,
 * 4 heads, d_mlp 512, ReLU, no LayerNorm, scaled-normal init, AdamW lr 1e-3, wd 1, betas
 * 0.9/0.98, 10 warm-up steps, full batch, 40,000 epochs. */
void fl_grok_defaults(fl_grok_config *c);
/* Applies "nanda" or "quick" (see docs/grokking.md); -1 if unknown. */
int fl_grok_preset(fl_grok_config *c, const char *name);

/* The settings of the grok command over fl_grok_config: its options,
 * --help lines and config.json keys (settings.h). --preset is not among
 * them: it sets many of them at once. */
extern const fl_setting FL_GROK_SETTINGS[];
extern const int FL_GROK_NSETTINGS;

/* Trains into out_dir, resuming from out_dir/state.safetensors when it
 * holds a run of the same configuration. Returns 0, FL_DIVERGED (the
 * loss, a gradient or a weight became non-finite: the error says where),
 * or -1. */
int fl_grok_run(const fl_grok_config *c, const char *out_dir);

/* The dataset a grok model was trained on (p, operations, fraction, seed),
 * from the configuration its checkpoint carries; `model` names it in errors. */
int fl_grok_dataset(const char *model, const char *cfg_text, fl_modarith *d);

#endif
