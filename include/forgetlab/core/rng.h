/* rng.h: the seeded random number generator.
 *
 * xoshiro256** seeded through splitmix64. A generator is identified by a
 * (seed, stream) pair: every purpose (weight init, data order, label draws,
 * action sampling, ...) gets its own stream, so adding draws for one purpose
 * never shifts the numbers another purpose sees. The streams are named
 * constants below and recorded in config.json beside the seed. */
#ifndef FORGETLAB_RNG_H
#define FORGETLAB_RNG_H

#include <stdint.h>

typedef struct fl_rng {
    uint64_t s[4];
} fl_rng;

/* Stream identifiers: one per purpose. Values are part of the
 * reproducibility contract: never renumber them. */
enum {
    FL_STREAM_INIT = 1,    /* parameter initialisation */
    FL_STREAM_DATA = 2,    /* shuffling, subset choice */
    FL_STREAM_LABELS = 3,  /* labels drawn once per example (ParityMNIST) */
    FL_STREAM_SAMPLE = 4,  /* actions sampled from a policy */
    FL_STREAM_EVAL = 5,    /* sampling inside measurements */
    FL_STREAM_SPLIT = 6,   /* the fixed MNIST train/test split */
    FL_STREAM_CORRUPT = 7, /* corruption partners of attribution (within-subtask) */
    FL_STREAM_BASELINE = 8, /* random-split baselines of circuit stability */
    FL_STREAM_BOOTSTRAP = 9, /* resampled runs and seeds of a study's intervals */
    FL_STREAM_VALIDATION = 10 /* examples held out of training for validation */
};

/* Seed used for the MNIST 8,000/2,000 split: fixed, so every run of every
 * seed sees the same test set. */
#define FL_SPLIT_SEED UINT64_C(20250101)

void fl_rng_init(fl_rng *r, uint64_t seed, uint64_t stream);
uint64_t fl_rng_u64(fl_rng *r);
/* Uniform in [0, 1): 24 random bits for float, 53 for double. */
float fl_rng_float(fl_rng *r);
double fl_rng_double(fl_rng *r);
/* Uniform integer in [0, n), unbiased (n > 0). */
uint32_t fl_rng_below(fl_rng *r, uint32_t n);
/* Standard normal (Box-Muller; one value per call, no cached pair so the
 * stream stays a pure function of the number of calls). */
double fl_rng_normal(fl_rng *r);
/* Fisher-Yates shuffle of an int array. */
void fl_rng_shuffle(fl_rng *r, int *a, int n);
/* Index drawn from a discrete distribution p[0..n-1] (sums to ~1). */
int fl_rng_categorical(fl_rng *r, const float *p, int n);

#endif
