/* cmd_circuits.c: `forgetlab circuits`, the circuit vectors of a model's
 * subtasks by attribution patching, their circuit stability (Spearman
 * matrix, its mean, classes of equivalent circuits) and its random-split
 * baseline; see docs/circuits.md. */
#include "cli.h"

#include "forgetlab/circuits.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/rundir.h"
#include "forgetlab/threads.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
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
    "  --model PATH       the model (run directory or .safetensors)\n"
    "  --task T           parity, fashion (an MLP from pretrain / finetune) or\n"
    "                     modarith (a transformer from grok)\n"
    "  --subtasks S       by-class (parity, fashion: one per digit / class), by-a or\n"
    "                     by-answer (modarith: one per value of a / of the answer),\n"
    "                     or random:K (K random groups of examples)\n"
    "  --method M         ap-ig (default: node scores with gradients integrated from\n"
    "                     x' to x), ap (node attribution patching), eap or eap-ig\n"
    "                     (edges; modarith)\n"
    "  --steps M          ap-ig, eap-ig: interpolation steps (default 5)\n"
    "  --ig-form F        ap-ig: path (default: the gradient integrated along the path\n"
    "                     each activation takes, so a layer's scores sum to the loss\n"
    "                     change) or average (the mean gradient times a' - a, as\n"
    "                     EAP-IG; not complete behind ReLUs; docs/circuits.md)\n"
    "  --corrupt C        within (default: another example of the same subtask),\n"
    "                     counterfactual (an image of the other parity / another\n"
    "                     class; modarith: a o b' with another b), mean (mean\n"
    "                     activation; ap only) or zero (ap, eap, eap-ig)\n"
    "  --loss L           kl (default: KL from the clean output; not with ap or eap,\n"
    "                     whose gradient vanishes at the clean run), ce or logit-diff\n"
    "  --examples N       examples per subtask (default 200)\n"
    "  --baseline R       random splits for the baseline (default 20; 0: none)\n"
    "  --seed N           seed of the example, corruption and baseline draws (default 0)\n"
    "  --threshold X      Spearman at or above which two subtasks share a class (0.5)\n"
    "  --check-patching N ap or ap-ig: also patch every component for real on N of\n"
    "                     the examples and write the Spearman between scores and\n"
    "                     patched loss changes to DIR/patching.json\n"
    "  --threads N        threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR     datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --out DIR          output directory (not the --model run); --overwrite replaces\n"
    "                     what another command or configuration left there\n"
    "  --help             show this help\n";

enum { O_MODEL = 256, O_TASK, O_SUB, O_METHOD, O_CORRUPT, O_LOSS, O_EX, O_SEED, O_THR, O_THREADS, O_DATA, O_OUT,
       O_STEPS, O_CHECK, O_BASELINE, O_IGFORM, O_OVERWRITE };
static const struct option OPTS[] = {
    {"model", required_argument, 0, O_MODEL},     {"task", required_argument, 0, O_TASK},
    {"subtasks", required_argument, 0, O_SUB},    {"method", required_argument, 0, O_METHOD},
    {"corrupt", required_argument, 0, O_CORRUPT}, {"loss", required_argument, 0, O_LOSS},
    {"examples", required_argument, 0, O_EX},     {"seed", required_argument, 0, O_SEED},
    {"threshold", required_argument, 0, O_THR},   {"threads", required_argument, 0, O_THREADS},
    {"data-dir", required_argument, 0, O_DATA},   {"out", required_argument, 0, O_OUT},
    {"steps", required_argument, 0, O_STEPS},     {"check-patching", required_argument, 0, O_CHECK},
    {"baseline", required_argument, 0, O_BASELINE}, {"ig-form", required_argument, 0, O_IGFORM},
    {"overwrite", no_argument, 0, O_OVERWRITE},
    {0, 0, 0, 0}};

/* --steps and --ig-form, applied after every option is read (their order
 * does not matter). */
static long steps_given;
static int form_given;

/* The request and what only the command needs. */
typedef struct {
    fl_circuits_request r;
    int have_task, modarith, overwrite;
    long threads;
} circuits_args;

static int handle(int opt, const char *v, void *ctx) {
    circuits_args *a = ctx;
    switch (opt) {
    case O_MODEL: a->r.model = v; return 0;
    case O_OUT: a->r.out = v; return 0;
    case O_OVERWRITE: a->overwrite = 1; return 0;
    case O_DATA: a->r.data_dir = v; return 0;
    case O_TASK:
        a->have_task = 1;
        if (!strcmp(v, "modarith")) return a->modarith = 1, 0;
        return fl_task_parse(v, &a->r.task);
    case O_SUB:
        a->r.subtasks = v;
        if (!strcmp(v, "by-class")) return a->r.k = 0, 0;
        if (!strcmp(v, "by-a") || !strcmp(v, "by-answer")) return 0; /* modarith: checked there */
        if (!strncmp(v, "random:", 7)) return fl_arg_long("subtasks random:K", v + 7, 2, 1000, &a->r.k);
        return fl_error_set("--subtasks: expected by-class, by-a, by-answer or random:K");
    case O_METHOD:
        if (strcmp(v, "ap") && strcmp(v, "ap-ig") && strcmp(v, "eap") && strcmp(v, "eap-ig"))
            return fl_error_set("--method %s: expected ap-ig, ap, eap or eap-ig", v);
        a->r.method = v;
        return 0;
    case O_STEPS: return fl_arg_long("steps", v, 1, 1000, &steps_given);
    case O_IGFORM: return fl_ig_form_parse(v, &a->r.ap.ig_form) ? -1 : (form_given = 1, 0);
    case O_CHECK: return fl_arg_long("check-patching", v, 1, 100000, &a->r.check_patching);
    case O_CORRUPT: return fl_ap_corrupt_parse(v, &a->r.ap.corrupt);
    case O_LOSS: return fl_ap_loss_parse(v, &a->r.ap.loss);
    case O_EX: return fl_arg_long("examples", v, 1, 100000, &a->r.examples);
    case O_BASELINE: return fl_arg_long("baseline", v, 0, 10000, &a->r.baseline);
    case O_SEED: return fl_arg_long("seed", v, 0, INT64_MAX, &a->r.seed);
    case O_THR: return fl_arg_double("threshold", v, -1, 1, &a->r.threshold);
    case O_THREADS: return fl_arg_long("threads", v, 0, 1 << 20, &a->threads);
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_circuits = {"circuits", "circuit vectors of a model's subtasks and their circuit stability",
                                    run, HELP};

static int run(int argc, char **argv) {
    circuits_args a = {.r = {.examples = 200, .threshold = 0.5, .baseline = 20, .method = "ap-ig"}};
    a.r.ap.loss = FL_AP_LOSS_KL, a.r.ap.corrupt = FL_AP_CORRUPT_WITHIN;
    steps_given = 0, form_given = 0;
    int rc = fl_parse_args(argc, argv, &fl_cmd_circuits, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.r.model || !a.have_task || !a.r.subtasks || !a.r.out)
        return fl_usage_error("circuits", "--model, --task, --subtasks and --out are required");
    const int ig = !strcmp(a.r.method, "ap-ig") || !strcmp(a.r.method, "eap-ig");
    a.r.edges = a.r.method[0] == 'e';
    if (steps_given && !ig) return fl_usage_error("circuits", "--steps is for --method ap-ig or eap-ig");
    if (form_given && strcmp(a.r.method, "ap-ig")) return fl_usage_error("circuits", "--ig-form is for --method ap-ig");
    a.r.ap.ig_steps = ig ? (steps_given ? (int)steps_given : 5) : 0;
    /* Combinations that cannot mean anything are usage errors. */
    const int by_operand = !strcmp(a.r.subtasks, "by-a") || !strcmp(a.r.subtasks, "by-answer");
    if (!a.modarith && (a.r.edges || by_operand))
        return fl_usage_error("circuits", "%s is for transformers (--task modarith)",
                              a.r.edges ? "--method eap / eap-ig" : "--subtasks by-a / by-answer");
    if (a.modarith && !strcmp(a.r.subtasks, "by-class"))
        return fl_usage_error("circuits", "--task modarith: subtasks are by-a, by-answer or random:K");
    if (a.r.ap.loss == FL_AP_LOSS_KL && !ig)
        return fl_usage_error("circuits", "--loss kl: its gradient vanishes at the clean run, so %s scores are all 0 "
                                          "(use --method %s)",
                              a.r.method, a.r.edges ? "eap-ig" : "ap-ig");
    if (ig && !fl_ap_corrupt_is_input(a.r.ap.corrupt) && !(a.r.edges && a.r.ap.corrupt == FL_AP_CORRUPT_ZERO))
        return fl_usage_error("circuits", "--method %s integrates along the path from x' to x: --corrupt must be "
                                          "within or counterfactual",
                              a.r.method);
    if (a.r.check_patching && a.r.edges)
        return fl_usage_error("circuits", "--check-patching is for node attribution (--method ap or ap-ig)");
    if (a.r.edges && a.r.ap.corrupt == FL_AP_CORRUPT_MEAN)
        return fl_usage_error("circuits", "--method %s: corruption must be within, counterfactual or zero", a.r.method);
    /* What defines a circuits directory, for a rerun to find the same one. */
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "model", a.r.model);
    cJSON_AddStringToObject(id, "task", a.modarith ? "modarith" : fl_task_name(a.r.task));
    cJSON_AddStringToObject(id, "subtasks", a.r.subtasks);
    cJSON_AddStringToObject(id, "method", a.r.method);
    cJSON_AddStringToObject(id, "loss", fl_ap_loss_name(a.r.ap.loss));
    cJSON_AddStringToObject(id, "corrupt", fl_ap_corrupt_name(a.r.ap.corrupt));
    cJSON_AddNumberToObject(id, "examples", (double)a.r.examples);
    cJSON_AddNumberToObject(id, "seed", (double)a.r.seed);
    char *identity = cJSON_PrintUnformatted(id), *replaced = NULL;
    cJSON_Delete(id);
    rc = fl_out_is_not_input(a.r.out, a.r.model, "--model") ||
         fl_rundir_claim(a.r.out, "circuits", identity, a.overwrite, &replaced);
    free(identity);
    if (rc) return fl_fail("circuits");
    fl_set_threads((int)a.threads);
    rc = a.modarith ? fl_circuits_modarith(&a.r) : fl_circuits_mlp(&a.r);
    fl_rundir_release(replaced, rc == 0);
    if (rc == FL_BAD_REQUEST) return fl_usage_error("circuits", "%s", fl_error_msg());
    return rc ? fl_fail("circuits") : FL_EXIT_OK;
}
