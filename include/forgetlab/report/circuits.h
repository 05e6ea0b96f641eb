/* circuits.h: the `circuits` measurement of a model, start to finish: its
 * subtasks' examples (and their corruptions), every example's attribution
 * scores, the circuit vectors, their Spearman matrix and circuit stability
 * with its random-split baseline, written to a directory (circuits_out.h);
 * optionally every component patched for real on some examples beside its
 * score. One entry point per kind of model; `forgetlab circuits` parses its
 * options into a request and calls one (docs/circuits.md). */
#ifndef FORGETLAB_CIRCUITS_H
#define FORGETLAB_CIRCUITS_H

#include "forgetlab/measure/attribution.h"
#include "forgetlab/io/settings.h"
#include "forgetlab/data/tasks.h"

typedef struct {
    /* The settings (FL_CIRCUITS_SETTINGS). */
    const char *model;     /* run directory or .safetensors */
    const char *task_name; /* parity, fashion (MLPs) or modarith (a grok transformer) */
    const char *subtasks;  /* by-class, by-a, by-answer or random:K */
    const char *method;    /* ap-ig, ap, eap or eap-ig */
    fl_ap_opts ap;         /* loss, corruption, steps and form (-1: not given) */
    long examples;         /* per subtask */
    long baseline;         /* random-split draws (0: none) */
    long seed;             /* of the example, corruption and baseline draws */
    double threshold;      /* Spearman at or above which two subtasks share a class */
    long check_patching;   /* examples patched for real (0: none) */
    const char *data_dir;  /* MLPs: the datasets (NULL: the default) */
    const char *out;       /* output directory, claimed by the caller */
    /* Derived from them by fl_circuits_resolve. */
    fl_task_id task;       /* MLPs */
    int modarith, edges;   /* a transformer; edges of its residual graph (eap, eap-ig) */
    long k;                /* random:K groups; 0: by class, by a or by answer */
} fl_circuits_request;

/* The defaults: ap-ig, KL, within-subtask partners, 200 examples, 20
 * baseline draws, threshold 0.5. */
void fl_circuits_defaults(fl_circuits_request *r);
/* The settings of the circuits command over fl_circuits_request (settings.h);
 * the ones with a config.json key define a circuits directory. */
extern const fl_setting FL_CIRCUITS_SETTINGS[];
extern const int FL_CIRCUITS_NSETTINGS;
/* Checks the request and fills in what follows from it: 0, or
 * FL_BAD_REQUEST (error.h) naming what cannot go together. */
int fl_circuits_resolve(fl_circuits_request *r);

/* Measures, writes r->out, and checks against real patching when asked:
 * an MLP on parity or fashion (its test split), or a grok transformer over
 * all its equations (its dataset rebuilt from the configuration it
 * carries). 0, -1 (error set) or FL_BAD_REQUEST. */
int fl_circuits_run(fl_circuits_request *r);

#endif
