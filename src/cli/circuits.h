/* circuits.h: what the two halves of `forgetlab circuits` share: the
 * parsed options and the writer of the output directory. cmd_circuits.c
 * handles MLPs (parity, fashion), circuits_modarith.c transformers. */
#ifndef FORGETLAB_CLI_CIRCUITS_H
#define FORGETLAB_CLI_CIRCUITS_H

#include "cli.h"

#include "forgetlab/attribution.h"
#include "forgetlab/tasks.h"

typedef struct {
    const char *model, *data_dir, *out, *subtasks;
    fl_task_id task;
    int have_task;
    int modarith;   /* --task modarith */
    int edges;      /* --method eap */
    fl_ap_opts ap;
    long examples, seed, threads, k; /* k: 0 = by-class */
    long steps;     /* --steps (eap-ig); 0 when not given */
    long check_patching; /* --check-patching N; 0: no check */
    double threshold;
} circuits_args;

/* Name of component c of a model. */
typedef void (*component_name_fn)(const void *model, int c, char *buf, int n);

/* DIR/vectors.npy, spearman.npy, components.json, summary.json, the
 * heatmap and config.json. */
int fl_circuits_write(const circuits_args *a, const char *task, const char *spec, int k, const char *const *names,
                      const int *count, int nc, component_name_fn name_of, const void *model, const float *vec,
                      const double *rho);

/* DIR/patching.json: Spearman between the node scores score[n, nc] and
 * the real patched loss changes change[n, nc] of the same examples. */
int fl_circuits_write_patching(const circuits_args *a, int n, int nc, const float *score, const float *change);

/* The modarith half. */
int fl_circuits_modarith(circuits_args *a);

#endif
