/* stability.h: circuit stability (docs/circuits.md) from per-example
 * attribution scores, whatever model or method produced them: the circuit
 * vector of each subtask (the mean score of its examples), the Spearman
 * matrix between subtasks, its mean off-diagonal entry (CS), classes of
 * equivalent circuits, and the size-matched random-split baseline without
 * which a CS cannot be read.
 *
 * Subtasks are contiguous: the first count[0] examples are subtask 0, the
 * next count[1] subtask 1, and so on. */
#ifndef FORGETLAB_STABILITY_H
#define FORGETLAB_STABILITY_H

#include <stdint.h>

/* Circuit vectors vec[k, c] of the scores[n, c] of n = sum(count) examples:
 * the mean score over each subtask's examples (NaN for an empty one). */
void fl_cs_group_means(const float *scores, int c, const int *count, int k, float *vec);

/* Spearman correlations rho[k, k] of k circuit vectors vec[k, c] (average
 * ranks for ties; NaN where a vector is constant). */
void fl_cs_matrix(const float *vec, int k, int c, double *rho);
/* Mean of the finite off-diagonal entries (NaN if none): the CS. */
double fl_cs_mean(const double *rho, int k);
/* Connected components of the graph with an edge i-j where rho >= thr:
 * cls[i] = index of i's class, classes numbered in order of their smallest
 * member. Returns the number of classes, or -1 when out of memory. */
int fl_cs_classes(const double *rho, int k, double thr, int *cls);

/* The random-split baseline: the same n examples' scores, shuffled and cut
 * into k groups of the sizes count[] (R draws), each draw's CS computed as
 * above. mean is their mean; lo/hi the 2.5% and 97.5% quantiles (linear
 * interpolation between order statistics). A CS inside [lo, hi] is what
 * any grouping of these examples would give. */
typedef struct {
    double mean, lo, hi;
    int draws;
} fl_cs_baseline;
/* The draws come from (seed, FL_STREAM_BASELINE). */
int fl_cs_random_baseline(const float *scores, int c, const int *count, int k, int draws, uint64_t seed,
                          fl_cs_baseline *out);

/* Everything above at once: vec[k, c] and rho[k, k] (either may be NULL),
 * the CS, and the baseline when draws > 0 (else its fields are NaN). */
typedef struct {
    double cs;
    fl_cs_baseline random;
} fl_cs_stats;
int fl_cs_compute(const float *scores, int c, const int *count, int k, int draws, uint64_t seed, float *vec,
                  double *rho, fl_cs_stats *st);

/* Within-subtask corruption partners: partner[i] is another example of i's
 * own subtask, drawn by a seeded shuffle of each subtask and a rotation by
 * one (a derangement: nobody is their own partner, and every example
 * serves as a partner exactly once). Draws from (seed, FL_STREAM_CORRUPT).
 * A subtask of fewer than two examples has no partner: FL_BAD_REQUEST. */
int fl_within_partners(const int *count, int k, uint64_t seed, int *partner);

#endif
