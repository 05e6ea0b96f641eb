/* trainstate.h: the resumable state of a training run, one safetensors
 * file beside the model (DIR/state.safetensors).
 *
 * It holds everything the next step depends on: the weights and both AdamW
 * moments (tensors "<name>", "adam_m.<name>", "adam_v.<name>"), the
 * optimizer's step count, the state of every RNG stream still in use, the
 * loop's counters and other numbers, integer arrays such as a minibatch
 * order, other float arrays (a budgeted run's kept weights), and the run's
 * configuration. A run reloaded from it continues exactly where it was
 * saved, so a killed run, rerun with the same arguments and thread count,
 * ends bitwise identical to an uninterrupted one. The file is written
 * atomically; a state written under another configuration is refused. */
#ifndef FORGETLAB_TRAINSTATE_H
#define FORGETLAB_TRAINSTATE_H

#include "forgetlab/core/blob.h"
#include "forgetlab/core/rng.h"

typedef struct {
    const char *name;
    fl_rng *rng;
} fl_trainstate_rng;

typedef struct {
    const char *name;
    long *value;
} fl_trainstate_long;

typedef struct {
    const char *name;
    int *data;
    int n;          /* exact values only: |v| < 2^24 (stored as F32) */
} fl_trainstate_ints;

typedef struct {
    const char *name;
    double *value;  /* exact: written with 17 significant digits */
} fl_trainstate_double;

typedef struct {
    const char *name;
    float *data;
    size_t n;
} fl_trainstate_floats;

typedef struct {
    const char *kind;       /* "grok", "pretrain", ...: checked on load */
    const char *config;     /* the configuration text that must match */
    fl_blob *blob;
    long *opt_t;
    const fl_trainstate_rng *rngs;
    int nrngs;
    const fl_trainstate_long *longs;
    int nlongs;
    const fl_trainstate_ints *ints;
    int nints;
    const fl_trainstate_double *doubles;
    int ndoubles;
    const fl_trainstate_floats *floats;
    int nfloats;
} fl_trainstate;

int fl_trainstate_save(const char *path, const fl_trainstate *s);
/* Fills everything s points to from path. Returns 1 when loaded, 0 when
 * path does not exist, -1 (error naming the file) when it is unreadable,
 * of another kind or configuration, or lacks an entry. */
int fl_trainstate_load(const char *path, const fl_trainstate *s);

#endif
