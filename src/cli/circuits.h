/* circuits.h: the parsed options of `forgetlab circuits`, shared by its
 * MLP half (cmd_circuits.c: parity, fashion) and its transformer half
 * (circuits_modarith.c). */
#ifndef FORGETLAB_CLI_CIRCUITS_H
#define FORGETLAB_CLI_CIRCUITS_H

#include "cli.h"

#include "forgetlab/attribution.h"
#include "forgetlab/tasks.h"

typedef struct {
    const char *model, *data_dir, *out, *subtasks, *method;
    fl_task_id task;
    int have_task;
    int modarith;   /* --task modarith */
    int edges;      /* --method eap / eap-ig */
    fl_ap_opts ap;
    long examples, seed, threads, k; /* k: 0 = by-class */
    long baseline;  /* --baseline R: random-split draws */
    long check_patching; /* --check-patching N; 0: no check */
    double threshold;
    int overwrite;  /* --overwrite */
} circuits_args;

/* The transformer half: returns 0, -1, or FL_BAD_REQUEST (exit 2). */
int fl_circuits_modarith(circuits_args *a);

#endif
