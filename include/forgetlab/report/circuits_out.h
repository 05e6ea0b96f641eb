/* circuits_out.h: the output directory of `forgetlab circuits`:
 *
 *   scores.npy       [n, c] every example's scores, subtask after subtask
 *                    (summary.json's examples gives the group sizes)
 *   vectors.npy      [k, c] circuit vectors (float32)
 *   spearman.npy     [k, k] their Spearman matrix
 *   components.json  the c component (or edge) names
 *   summary.json     cs, cs_random, cs_random_lo, cs_random_hi,
 *                    baseline_draws, classes, threshold, subtasks, examples,
 *                    components
 *   spearman.png/.svg the matrix as a heatmap, CS and its baseline in the title
 *   config.json      what was measured and how (method, loss, corruption,
 *                    steps, examples, seed and its streams) */
#ifndef FORGETLAB_CIRCUITS_OUT_H
#define FORGETLAB_CIRCUITS_OUT_H

#include "forgetlab/measure/attribution.h"

/* Name of component c of a model. */
typedef void (*fl_component_name_fn)(const void *model, int c, char *buf, int n);

typedef struct {
    const char *model_path, *task, *spec, *subtasks, *method;
    const char *data_dir;        /* NULL for modarith (every equation) */
    const fl_ap_opts *opts;
    long examples, seed;
    double threshold;
    int k;                       /* subtasks */
    const char *const *names;    /* [k] */
    const int *count;            /* [k] examples per subtask */
    int nc;                      /* components (or edges) */
    fl_component_name_fn name_of;
    const void *model;
    const float *scores;         /* [sum(count), nc] */
    const float *vec;            /* [k, nc] */
    const double *rho;           /* [k, k] */
    const fl_cs_stats *stats;
} fl_circuits_result;

int fl_circuits_write(const char *dir, const fl_circuits_result *r);

/* DIR/patching.json: Spearman between the node scores score[n, nc] and
 * the real patched loss changes change[n, nc] of the same examples, over
 * (example, component) pairs and over the components' means; the two
 * arrays as patching_scores.npy and patching_changes.npy. */
int fl_circuits_write_patching(const char *dir, int n, int nc, const float *score, const float *change,
                               double *pairs, double *means);

#endif
