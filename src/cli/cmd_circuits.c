/* cmd_circuits.c: `forgetlab circuits`, the circuit vectors of a model's
 * subtasks by attribution patching, and their circuit stability (Spearman
 * matrix, its mean, classes of equivalent circuits); see docs/circuits.md. */
#include "circuits.h"

#include "forgetlab/attribution.h"
#include "forgetlab/checkpoint.h"
#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/npy.h"
#include "forgetlab/plot.h"
#include "forgetlab/rundir.h"
#include "forgetlab/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab circuits --model PATH --task parity|fashion|modarith --subtasks SPEC --out DIR [OPTIONS]\n"
    "\n"
    "Scores every hidden unit and hidden layer of an MLP (parity, fashion: on the\n"
    "task's test split), or every head, MLP and MLP neuron of a grok transformer\n"
    "(modarith: over all its equations; with --method eap every edge of its\n"
    "residual graph), by attribution patching, averages the scores over each subtask's examples\n"
    "(its circuit vector), and compares the subtasks' vectors by Spearman rank\n"
    "correlation. Writes DIR/vectors.npy, spearman.npy, components.json,\n"
    "summary.json (cs, classes), spearman.png/.svg and config.json.\n"
    "\n"
    "Options:\n"
    "  --model PATH       the model (run directory or .safetensors)\n"
    "  --task T           parity, fashion (an MLP from pretrain / finetune) or\n"
    "                     modarith (a transformer from grok)\n"
    "  --subtasks S       by-class (parity, fashion: one per digit / class), by-a or\n"
    "                     by-answer (modarith: one per value of a / of the answer),\n"
    "                     or random:K (K random groups of examples)\n"
    "  --method M         ap (node attribution patching), eap (edges; modarith) or\n"
    "                     eap-ig (edges, gradients integrated over --steps points)\n"
    "  --steps M          eap-ig: interpolation steps (default 5)\n"
    "  --corrupt C        counterfactual (default: an image of the other parity /\n"
    "                     another class; modarith: a o b' with another b), mean\n"
    "                     (mean activation; not for eap) or zero\n"
    "  --loss L           ce (default), logit-diff, or kl (KL from the clean output;\n"
    "                     eap-ig only: its gradient vanishes at the clean run)\n"
    "  --examples N       examples per subtask (default 200)\n"
    "  --seed N           seed of the example and counterfactual draws (default 0)\n"
    "  --threshold X      Spearman at or above which two subtasks share a class (0.5)\n"
    "  --check-patching N modarith, ap: also patch every component for real on N of\n"
    "                     the examples and write the Spearman between scores and\n"
    "                     patched loss changes to DIR/patching.json\n"
    "  --threads N        threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR     datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --out DIR          output directory\n"
    "  --help             show this help\n";

enum { O_MODEL = 256, O_TASK, O_SUB, O_METHOD, O_CORRUPT, O_LOSS, O_EX, O_SEED, O_THR, O_THREADS, O_DATA, O_OUT,
       O_STEPS, O_CHECK };
static const struct option OPTS[] = {
    {"model", required_argument, 0, O_MODEL},     {"task", required_argument, 0, O_TASK},
    {"subtasks", required_argument, 0, O_SUB},    {"method", required_argument, 0, O_METHOD},
    {"corrupt", required_argument, 0, O_CORRUPT}, {"loss", required_argument, 0, O_LOSS},
    {"examples", required_argument, 0, O_EX},     {"seed", required_argument, 0, O_SEED},
    {"threshold", required_argument, 0, O_THR},   {"threads", required_argument, 0, O_THREADS},
    {"data-dir", required_argument, 0, O_DATA},   {"out", required_argument, 0, O_OUT},
    {"steps", required_argument, 0, O_STEPS},    {"check-patching", required_argument, 0, O_CHECK},
    {0, 0, 0, 0}};

static int handle(int opt, const char *v, void *ctx) {
    circuits_args *a = ctx;
    switch (opt) {
    case O_MODEL: a->model = v; return 0;
    case O_OUT: a->out = v; return 0;
    case O_DATA: a->data_dir = v; return 0;
    case O_TASK:
        a->have_task = 1;
        if (!strcmp(v, "modarith")) return a->modarith = 1, 0;
        return fl_task_parse(v, &a->task);
    case O_SUB:
        a->subtasks = v;
        if (!strcmp(v, "by-class")) return a->k = 0, 0;
        if (!strcmp(v, "by-a") || !strcmp(v, "by-answer")) return 0; /* modarith: checked there */
        if (!strncmp(v, "random:", 7)) return fl_arg_long("subtasks random:K", v + 7, 2, 1000, &a->k);
        return fl_error_set("--subtasks: expected by-class, by-a, by-answer or random:K");
    case O_METHOD:
        if (!strcmp(v, "ap")) return a->edges = 0, 0;
        if (!strcmp(v, "eap")) return a->edges = 1, 0;
        if (!strcmp(v, "eap-ig")) return a->edges = 1, a->ap.ig_steps = a->ap.ig_steps ? a->ap.ig_steps : 5, 0;
        return fl_error_set("--method %s: expected ap, eap or eap-ig", v);
    case O_STEPS: return fl_arg_long("steps", v, 1, 1000, &a->steps);
    case O_CHECK: return fl_arg_long("check-patching", v, 1, 100000, &a->check_patching);
    case O_CORRUPT: return fl_ap_corrupt_parse(v, &a->ap.corrupt);
    case O_LOSS:
        return fl_ap_loss_parse(v, &a->ap.loss);
    case O_EX: return fl_arg_long("examples", v, 1, 100000, &a->examples);
    case O_SEED: return fl_arg_long("seed", v, 0, INT64_MAX, &a->seed);
    case O_THR: return fl_arg_double("threshold", v, -1, 1, &a->threshold);
    case O_THREADS: return fl_arg_long("threads", v, 0, 1024, &a->threads);
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_circuits = {"circuits", "circuit vectors of a model's subtasks and their circuit stability",
                                    run, HELP};

/* Picks the subtasks' examples: idx[k * per] (a subtask's examples are
 * contiguous), count[k]. By class: the first `per` of each class in a
 * seeded shuffle (fewer if the class has fewer); random:K: consecutive
 * groups of one seeded shuffle. */
static int pick(const circuits_args *a, const fl_task_data *td, int k, int per, int *idx, int *count) {
    fl_rng r;
    fl_rng_init(&r, (uint64_t)a->seed, FL_STREAM_EVAL);
    int *perm = fl_malloc((size_t)td->n * sizeof(int), "circuits");
    if (!perm) return -1;
    for (int i = 0; i < td->n; i++) perm[i] = i;
    fl_rng_shuffle(&r, perm, td->n);
    for (int s = 0; s < k; s++) count[s] = 0;
    for (int i = 0; i < td->n; i++) {
        int s = a->k ? i / per : td->label[perm[i]];
        if (s < k && count[s] < per) idx[s * per + count[s]++] = perm[i];
    }
    free(perm);
    return 0;
}

int fl_circuits_write(const circuits_args *a, const char *task, const char *spec, int k, const char *const *names,
                      const int *count, int nc, component_name_fn name_of, const void *model, const float *vec,
                      const double *rho) {
    int rc = -1, *cls = malloc((size_t)k * sizeof(int));
    float *rf = malloc((size_t)k * k * sizeof(float));
    char *p = NULL;
    cJSON *comp = cJSON_CreateArray(), *sum = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    if (!cls || !rf) goto out;
    for (int i = 0; i < k * k; i++) rf[i] = (float)rho[i];
    int64_t vs[2] = {k, nc}, rs[2] = {k, k};
#define PATH(name) (free(p), p = fl_path_join(a->out, name))
    if (fl_npy_write(PATH("vectors.npy"), vec, 2, vs) || fl_npy_write(PATH("spearman.npy"), rf, 2, rs)) goto out;
    for (int c = 0; c < nc; c++) {
        char nm[160];
        name_of(model, c, nm, sizeof nm);
        cJSON_AddItemToArray(comp, cJSON_CreateString(nm));
    }
    if (fl_json_write_file(PATH("components.json"), comp)) goto out;
    double cs = fl_cs_mean(rho, k);
    int ncls = fl_cs_classes(rho, k, a->threshold, cls);
    cJSON_AddItemToObject(sum, "cs", cs == cs ? cJSON_CreateNumber(cs) : cJSON_CreateNull());
    cJSON *classes = cJSON_AddArrayToObject(sum, "classes");
    for (int c = 0; c < ncls; c++) {
        cJSON *one = cJSON_CreateArray();
        for (int s = 0; s < k; s++)
            if (cls[s] == c) cJSON_AddItemToArray(one, cJSON_CreateString(names[s]));
        cJSON_AddItemToArray(classes, one);
    }
    cJSON_AddNumberToObject(sum, "threshold", a->threshold);
    cJSON_AddItemToObject(sum, "subtasks", cJSON_CreateStringArray(names, k));
    cJSON_AddItemToObject(sum, "examples", cJSON_CreateIntArray(count, k));
    cJSON_AddNumberToObject(sum, "components", nc);
    if (fl_json_write_file(PATH("summary.json"), sum)) goto out;
    char title[160];
    snprintf(title, sizeof title, "Spearman of circuit vectors, %s (CS = %.3f)", task, cs);
    if (fl_heatmap_save(title, rho, k, k, names, names, -1, 1, PATH("spearman"))) goto out;
    cJSON_AddStringToObject(cfg, "command", "circuits");
    cJSON_AddStringToObject(cfg, "version", FORGETLAB_VERSION);
    cJSON_AddStringToObject(cfg, "model", a->model);
    cJSON_AddStringToObject(cfg, "spec", spec);
    cJSON_AddStringToObject(cfg, "task", task);
    cJSON_AddStringToObject(cfg, "subtasks", a->subtasks);
    cJSON_AddStringToObject(cfg, "method", a->ap.ig_steps ? "eap-ig" : a->edges ? "eap" : "ap");
    if (a->ap.ig_steps) cJSON_AddNumberToObject(cfg, "steps", a->ap.ig_steps);
    cJSON_AddStringToObject(cfg, "corrupt", fl_ap_corrupt_name(a->ap.corrupt));
    cJSON_AddStringToObject(cfg, "loss", fl_ap_loss_name(a->ap.loss));
    cJSON_AddNumberToObject(cfg, "examples", (double)a->examples);
    cJSON_AddNumberToObject(cfg, "seed", (double)a->seed);
    cJSON_AddStringToObject(cfg, "streams", "examples: eval (5), counterfactuals: sample (4)");
    cJSON_AddNumberToObject(cfg, "threshold", a->threshold);
    if (!a->modarith) {
        cJSON_AddStringToObject(cfg, "data_dir", fl_data_dir(a->data_dir));
        cJSON_AddStringToObject(cfg, "split", "test");
    } else {
        cJSON_AddStringToObject(cfg, "split", "all equations");
    }
    if (fl_json_write_file(PATH("config.json"), cfg)) goto out;
#undef PATH
    rc = 0;
out:
    free(p), free(cls), free(rf);
    cJSON_Delete(comp), cJSON_Delete(sum), cJSON_Delete(cfg);
    return rc;
}

static void mlp_component_name(const void *m, int c, char *buf, int n) { fl_ap_component_name(m, c, buf, n); }

static int circuits(circuits_args *a) {
    fl_mlp m = {0};
    fl_task_data td = {0};
    int rc = -1, k = a->k ? (int)a->k : FL_TASK_CLASSES, per = (int)a->examples, nc = 0, n = 0;
    int *idx = NULL, *count = NULL, *lab = NULL;
    float *x = NULL, *xc = NULL, *mean = NULL, *vec = NULL;
    double *rho = NULL;
    char (*names)[24] = NULL;
    const char **np = NULL;
    if (fl_mlp_load(a->model, &m, NULL)) goto out;
    if (m.dims[0] != FL_TASK_DIM || m.dims[m.nlayers] != FL_TASK_CLASSES || m.nlayers < 2) {
        fl_error_set("%s: expected an MLP with hidden layers, %d inputs and %d outputs", a->model,
                     FL_TASK_DIM, FL_TASK_CLASSES);
        goto out;
    }
    if (fl_task_load(&td, a->task, fl_data_dir(a->data_dir), "test")) goto out;
    if (a->k && (long)k * per > td.n) per = td.n / k;
    nc = fl_ap_ncomponents(&m);
    idx = malloc((size_t)k * per * sizeof(int)), count = malloc((size_t)k * sizeof(int));
    names = malloc((size_t)k * sizeof *names), np = malloc((size_t)k * sizeof *np);
    if (!idx || !count || !names || !np) { fl_error_set("out of memory"); goto out; }
    if (pick(a, &td, k, per, idx, count)) goto out;
    for (int s = 0; s < k; s++) {
        /* Fashion classes by name, digits by value, random groups by number. */
        static const char *const FASHION[10] = {"T-shirt", "trouser", "pullover", "dress", "coat",
                                                "sandal", "shirt", "sneaker", "bag", "boot"};
        if (a->k) snprintf(names[s], sizeof names[s], "group %d", s);
        else if (a->task == FL_TASK_FASHION) snprintf(names[s], sizeof names[s], "%s", FASHION[s]);
        else snprintf(names[s], sizeof names[s], "%d", s);
        np[s] = names[s];
        if (!count[s]) { fl_error_set("subtask %s has no test examples", names[s]); goto out; }
        /* Close the gaps left by classes with fewer examples than asked. */
        memmove(idx + n, idx + (size_t)s * per, (size_t)count[s] * sizeof(int));
        n += count[s];
    }
    x = fl_malloc((size_t)n * FL_TASK_DIM * sizeof(float), "circuits inputs");
    xc = fl_malloc((size_t)n * FL_TASK_DIM * sizeof(float), "circuits inputs");
    lab = fl_malloc((size_t)n * sizeof(int), "labels");
    vec = fl_calloc((size_t)k * nc, sizeof(float), "circuit vectors");
    rho = fl_malloc((size_t)k * k * sizeof(double), "spearman");
    if (!x || !xc || !lab || !vec || !rho) goto out;
    fl_rng r;
    fl_rng_init(&r, (uint64_t)a->seed, FL_STREAM_SAMPLE);
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * FL_TASK_DIM, td.x + (size_t)idx[i] * FL_TASK_DIM, FL_TASK_DIM * sizeof(float));
        lab[i] = td.label[idx[i]];
        if (a->ap.corrupt != FL_AP_CORRUPT_COUNTERFACTUAL) continue;
        /* Counterfactual: a uniformly drawn test image of the other parity
         * (ParityMNIST) or of another class (Fashion). */
        int j;
        do j = (int)fl_rng_below(&r, (uint32_t)td.n);
        while (a->task == FL_TASK_PARITY ? td.label[j] % 2 == lab[i] % 2 : td.label[j] == lab[i]);
        memcpy(xc + (size_t)i * FL_TASK_DIM, td.x + (size_t)j * FL_TASK_DIM, FL_TASK_DIM * sizeof(float));
    }
    if (a->ap.corrupt == FL_AP_CORRUPT_MEAN) {
        if (!(mean = fl_malloc((size_t)fl_ap_nunits(&m) * sizeof(float), "means"))) goto out;
        if (fl_ap_mean_acts(&m, td.x, td.n, mean)) goto out;
        a->ap.mean_acts = mean;
    }
    a->ap.parity = a->task == FL_TASK_PARITY;
    if (fl_circuit_vectors(&m, &a->ap, a->task, x, xc, lab, count, k, vec)) goto out;
    fl_cs_matrix(vec, k, nc, rho);
    char spec[128];
    fl_mlp_spec_string(&m, spec, sizeof spec);
    if (fl_mkdirs(a->out) || fl_circuits_write(a, fl_task_name(a->task), spec, k, np, count, nc, mlp_component_name,
                                               &m, vec, rho))
        goto out;
    printf("circuits: %s, %d subtasks x %d components, CS = %.4f -> %s\n", fl_task_name(a->task), k, nc,
           fl_cs_mean(rho, k), a->out);
    rc = 0;
out:
    free(idx), free(count), free(lab), free(names), free(np);
    free(x), free(xc), free(mean), free(vec), free(rho);
    fl_task_free(&td);
    fl_mlp_free(&m);
    return rc;
}

static int run(int argc, char **argv) {
    circuits_args a = {.examples = 200, .threshold = 0.5};
    int rc = fl_parse_args(argc, argv, &fl_cmd_circuits, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.model || !a.have_task || !a.subtasks || !a.out)
        return fl_usage_error("circuits", "--model, --task, --subtasks and --out are required");
    if (a.steps) {
        if (!a.ap.ig_steps) return fl_usage_error("circuits", "--steps is for --method eap-ig");
        a.ap.ig_steps = (int)a.steps;
    }
    /* Combinations that cannot mean anything are usage errors. */
    const int by_operand = !strcmp(a.subtasks, "by-a") || !strcmp(a.subtasks, "by-answer");
    if (!a.modarith && (a.edges || by_operand))
        return fl_usage_error("circuits", "%s is for transformers (--task modarith)",
                              a.edges ? "--method eap" : "--subtasks by-a / by-answer");
    if (a.modarith && !strcmp(a.subtasks, "by-class"))
        return fl_usage_error("circuits", "--task modarith: subtasks are by-a, by-answer or random:K");
    if (a.ap.loss == FL_AP_LOSS_KL && !a.ap.ig_steps)
        return fl_usage_error("circuits", "--loss kl: its gradient vanishes at the clean run, so AP and EAP scores "
                                          "are all 0 (use --method eap-ig)");
    if (a.check_patching && (!a.modarith || a.edges))
        return fl_usage_error("circuits", "--check-patching is for node attribution (--method ap) of transformers "
                                          "(--task modarith)");
    if (a.edges && a.ap.corrupt == FL_AP_CORRUPT_MEAN)
        return fl_usage_error("circuits", "--method eap: corruption must be counterfactual or zero");
    fl_set_threads((int)a.threads);
    if (a.modarith) return fl_circuits_modarith(&a) ? fl_fail("circuits") : FL_EXIT_OK;
    return circuits(&a) ? fl_fail("circuits") : FL_EXIT_OK;
}
