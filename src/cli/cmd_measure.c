/* cmd_measure.c: `forgetlab measure`, a fine-tuned model against its base:
 * accuracies, forgetting and every predictor, as one JSON object. */
#include "cli.h"

#include "forgetlab/checkpoint.h"
#include "forgetlab/measure.h"
#include "forgetlab/threads.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static const char HELP[] =
    "usage: forgetlab measure --base PATH --model PATH [OPTIONS]\n"
    "\n"
    "Prints one JSON object: new-task (ParityMNIST) and prior-task (FashionMNIST)\n"
    "test accuracies of both models, forgetting = prior_acc_base - prior_acc, and\n"
    "every predictor of forgetting: forward and reverse KL, total variation, L2 and\n"
    "Jensen-Shannon on the new and the prior task's test inputs; weight change (L1,\n"
    "Fisher-weighted L2, spectral norm, numerical rank per layer); activation change\n"
    "(L1, L2) and linear CKA on the new task's test inputs.\n"
    "\n"
    "Options:\n"
    "  --base PATH        the base model (run directory or .safetensors)\n"
    "  --model PATH       the fine-tuned model\n"
    "  --fisher-n N       prior-task training images for the base's Fisher (default 2000)\n"
    "  --seed N           seed of the Fisher's label draws (default 0)\n"
    "  --threads N        threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR     datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --help             show this help\n";

enum { O_BASE = 256, O_MODEL, O_FISHER, O_SEED, O_THREADS, O_DATA };
static const struct option OPTS[] = {
    {"base", required_argument, 0, O_BASE},     {"model", required_argument, 0, O_MODEL},
    {"fisher-n", required_argument, 0, O_FISHER}, {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS}, {"data-dir", required_argument, 0, O_DATA},
    {0, 0, 0, 0}};

typedef struct {
    const char *base, *model, *data_dir;
    long fisher_n, seed, threads;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    switch (opt) {
    case O_BASE: a->base = v; return 0;
    case O_MODEL: a->model = v; return 0;
    case O_DATA: a->data_dir = v; return 0;
    case O_FISHER: return fl_arg_long("fisher-n", v, 1, 60000, &a->fisher_n);
    case O_SEED: return fl_arg_long("seed", v, 0, INT64_MAX, &a->seed);
    case O_THREADS: return fl_arg_long("threads", v, 0, 1024, &a->threads);
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_measure = {"measure", "compare a fine-tuned model with its base: forgetting and its predictors",
                                   run, HELP};

static int measure(const args *a) {
    fl_mlp base = {0}, m = {0};
    fl_measure_ctx ctx = {0};
    fl_measurement r;
    int rc = -1;
    if (fl_mlp_load(a->base, &base, NULL) || fl_mlp_load(a->model, &m, NULL)) goto out;
    if (fl_measure_ctx_init(&ctx, &base, fl_data_dir(a->data_dir), (int)a->fisher_n, NULL,
                            (uint64_t)a->seed)) goto out;
    if (fl_measure_model(&ctx, &m, 1, &r)) goto out;
    cJSON *j = fl_measurement_json(&r);
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
    rc = 0;
out:
    fl_measure_ctx_free(&ctx);
    fl_mlp_free(&m);
    fl_mlp_free(&base);
    return rc;
}

static int run(int argc, char **argv) {
    args a = {.fisher_n = 2000};
    int rc = fl_parse_args(argc, argv, &fl_cmd_measure, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.base || !a.model) return fl_usage_error("measure", "--base PATH and --model PATH are required");
    fl_set_threads((int)a.threads);
    return measure(&a) ? fl_fail("measure") : FL_EXIT_OK;
}
