/* circuits.h: the `circuits` measurement of a model, start to finish: its
 * subtasks' examples (and their corruptions), every example's attribution
 * scores, the circuit vectors, their Spearman matrix and circuit stability
 * with its random-split baseline, written to a directory (circuits_out.h);
 * optionally every component patched for real on some examples beside its
 * score. One entry point per kind of model; `forgetlab circuits` parses its
 * options into a request and calls one (docs/circuits.md). */
#ifndef FORGETLAB_CIRCUITS_H
#define FORGETLAB_CIRCUITS_H

#include "forgetlab/attribution.h"
#include "forgetlab/tasks.h"

typedef struct {
    const char *model;     /* run directory or .safetensors */
    const char *data_dir;  /* MLPs: the datasets (NULL: the default) */
    const char *out;       /* output directory, claimed by the caller */
    const char *subtasks;  /* by-class, by-a, by-answer or random:K, as given */
    const char *method;    /* ap, ap-ig, eap or eap-ig, as given */
    fl_task_id task;       /* MLPs: parity or fashion */
    int edges;             /* eap / eap-ig: edges of the residual graph (transformers) */
    fl_ap_opts ap;         /* loss, corruption, steps, form */
    long examples;         /* per subtask */
    long seed;             /* of the example, corruption and baseline draws */
    long k;                /* random:K groups; 0: by class */
    long baseline;         /* random-split draws (0: none) */
    long check_patching;   /* examples patched for real (0: none) */
    double threshold;      /* Spearman at or above which two subtasks share a class */
} fl_circuits_request;

/* An MLP on parity or fashion (its test split). 0, -1 (error set), or
 * FL_BAD_REQUEST (error.h) when the request cannot be met (exit 2). */
int fl_circuits_mlp(fl_circuits_request *r);
/* A grok transformer, over all its equations (its dataset rebuilt from the
 * configuration it carries). Returns as fl_circuits_mlp. */
int fl_circuits_modarith(fl_circuits_request *r);

#endif
