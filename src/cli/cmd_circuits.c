/* cmd_circuits.c: `forgetlab circuits`, the circuit vectors of a model's
 * subtasks by attribution patching, their circuit stability (Spearman
 * matrix, its mean, classes of equivalent circuits) and its random-split
 * baseline; see docs/circuits.md. */
#include "cli.h"

#include "forgetlab/report/circuits.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/store/rundir.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab circuits --model PATH --task parity|fashion|modarith --subtasks SPEC --out DIR [OPTIONS]\n"
    "\n"
    "Scores every hidden unit and hidden layer of an MLP (parity, fashion: on the\n"
    "task's test split), or every head, MLP and MLP neuron of a grok transformer\n"
    "(modarith: over all its equations; with --method eap / eap-ig every edge of its\n"
    "residual graph), by attribution patching, averages the scores over each\n"
    "subtask's examples (its circuit vector), and compares the subtasks' vectors by\n"
    "Spearman rank correlation. CS, their mean, comes with the CS of the same\n"
    "examples split into random groups of the same sizes: a CS inside that band is\n"
    "what any grouping would give. Writes DIR/scores.npy (every example), vectors.npy,\n"
    "spearman.npy, components.json, summary.json (cs, cs_random, cs_random_lo,\n"
    "cs_random_hi, classes), spearman.png/.svg and config.json.\n"
    "\n"
    "The defaults are the circuit-stability papers' configuration: KL from the\n"
    "clean output, integrated gradients over 5 steps, another example of the same\n"
    "subtask as the corruption.\n"
    "\n"
    "Options:\n"
    "  --out DIR               output directory (not the --model run); --overwrite\n"
    "                          replaces what another command or configuration left\n"
    "                          there\n";
static const char HELP_TAIL[] =
    "  --threads N             threads for BLAS and OpenMP (default: all cores)\n"
    "  --help                  show this help\n";
static char HELP[8192];

enum { O_OUT = 256, O_THREADS, O_OVERWRITE };
static const struct option OPTS[] = {{"out", required_argument, 0, O_OUT},
                                     {"threads", required_argument, 0, O_THREADS},
                                     {"overwrite", no_argument, 0, O_OVERWRITE},
                                     {0, 0, 0, 0}};

/* The request and what only the command needs. */
typedef struct {
    fl_circuits_request r;
    int overwrite;
    long threads;
} circuits_args;

static int handle(int opt, const char *v, void *ctx) {
    circuits_args *a = ctx;
    switch (opt) {
    case O_OUT: a->r.out = v; return 0;
    case O_OVERWRITE: a->overwrite = 1; return 0;
    case O_THREADS: return fl_arg_long("threads", v, 0, FL_MAX_THREADS, &a->threads);
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_circuits = {"circuits", "circuit vectors of a model's subtasks and their circuit stability",
                                    run, HELP};

static int run(int argc, char **argv) {
    circuits_args a = {0};
    fl_circuits_defaults(&a.r);
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, FL_CIRCUITS_SETTINGS, FL_CIRCUITS_NSETTINGS, &a.r, HELP_TAIL);
    int rc = fl_parse_settings(argc, argv, &fl_cmd_circuits, FL_CIRCUITS_SETTINGS, FL_CIRCUITS_NSETTINGS, &a.r, OPTS,
                               handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (fl_circuits_resolve(&a.r)) return fl_usage_error("circuits", "%s", fl_error_msg());
    /* What defines a circuits directory, for a rerun to find the same one:
     * the settings with a config.json key. */
    cJSON *id = cJSON_CreateObject();
    fl_settings_to_json(id, FL_CIRCUITS_SETTINGS, FL_CIRCUITS_NSETTINGS, &a.r);
    char *identity = cJSON_PrintUnformatted(id), *replaced = NULL;
    cJSON_Delete(id);
    rc = fl_out_is_not_input(a.r.out, a.r.model, "--model") ||
         fl_rundir_claim(a.r.out, "circuits", identity, a.overwrite, &replaced);
    free(identity);
    if (rc) return fl_fail("circuits");
    fl_set_threads((int)a.threads);
    rc = fl_circuits_run(&a.r);
    fl_rundir_release(replaced, rc == 0);
    if (rc == FL_BAD_REQUEST) return fl_usage_error("circuits", "%s", fl_error_msg());
    return rc ? fl_fail("circuits") : FL_EXIT_OK;
}
