/* cmd_eval.c: `forgetlab eval`, a model's accuracy on both tasks, and its
 * logits on one task as a .npy file; for a language model, every skill's
 * exact match and the held-out text's bits per byte. */
#include "cli.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/core/error.h"
#include "forgetlab/train/lm_pretrain.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/train/pretrain.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab eval --model PATH [OPTIONS]\n"
    "\n"
    "Prints one JSON object with the model's accuracy on each task\n"
    "(parity_acc: the argmax digit has the true digit's parity; fashion_acc).\n"
    "\n"
    "For a language model (lm-pretrain's): each skill's exact match on its first N\n"
    "test prompts (greedy completions, checked by the skill's verifier; acc_add,\n"
    "acc_reverse, acc_sort, acc_count), the held-out text's bits per byte (bpb),\n"
    "n and the seed of the skills' train/test split, which is the run's (the\n"
    "model file records it).\n"
    "\n"
    "Options:\n"
    "  --model PATH       run directory or .safetensors file (required)\n"
    "  --prompts N        language model: test prompts per skill (default: the run's\n"
    "                     --eval-prompts; at most 1500, the smallest test set)\n"
    "  --seed S           language model: the split's seed for a model file that\n"
    "                     records none (default 0); must match a recorded one\n"
    "  --split S          train or test (default test)\n"
    "  --task T           parity or fashion: the task whose logits --logits-out writes\n"
    "  --labels-out F     write the true labels [n] of --task on --split to F (.npy, <f4\n"
    "                     holding 0..9: the digit for parity, the class for fashion)\n"
    "  --logits-out F     write the logits [n, 10] of --task on --split to F (.npy, <f4),\n"
    "                     in dataset order\n"
    "  --inputs-out F     write the inputs [n, 785] of --task on --split to F (.npy, <f4:\n"
    "                     the pixels in [0, 1], then the task indicator)\n"
    "  --threads N        threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR     datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --help             show this help\n";

enum { O_MODEL = 256, O_SPLIT, O_TASK, O_LOGITS, O_THREADS, O_DATA, O_LABELS, O_PROMPTS, O_SEED, O_INPUTS };

static const struct option OPTS[] = {
    {"model", required_argument, 0, O_MODEL},
    {"split", required_argument, 0, O_SPLIT},
    {"task", required_argument, 0, O_TASK},
    {"logits-out", required_argument, 0, O_LOGITS}, {"labels-out", required_argument, 0, O_LABELS},
    {"inputs-out", required_argument, 0, O_INPUTS},
    {"threads", required_argument, 0, O_THREADS},
    {"data-dir", required_argument, 0, O_DATA},
    {"prompts", required_argument, 0, O_PROMPTS}, {"seed", required_argument, 0, O_SEED},
    {0, 0, 0, 0}};

typedef struct {
    const char *model, *split, *logits_out, *labels_out, *inputs_out, *data_dir;
    int has_task, has_split, threads;
    fl_task_id task;
    fl_lm_eval_opts lm;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    long n;
    switch (opt) {
    case O_MODEL: a->model = v; return 0;
    case O_LOGITS: a->logits_out = v; return 0;
    case O_LABELS: a->labels_out = v; return 0;
    case O_INPUTS: a->inputs_out = v; return 0;
    case O_DATA: a->data_dir = v; return 0;
    case O_SPLIT:
        if (strcmp(v, "train") && strcmp(v, "test"))
            return fl_error_set("--split: expected train or test, got '%s'", v);
        a->split = v, a->has_split = 1;
        return 0;
    case O_TASK:
        if (fl_task_parse(v, &a->task)) return fl_error_set("--task: expected parity or fashion, got '%s'", v);
        a->has_task = 1;
        return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, 1024, &n)) return -1; a->threads = (int)n; return 0;
    case O_PROMPTS: if (fl_arg_long("prompts", v, 1, 100000, &n)) return -1; a->lm.prompts = (int)n; return 0;
    case O_SEED:
        if (fl_arg_long("seed", v, 0, LONG_MAX, &n)) return -1;
        a->lm.seed = (uint64_t)n, a->lm.has_seed = 1;
        return 0;
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_eval = {"eval", "accuracy of a model on each task; dump logits as .npy", run, HELP};

/* A language model: its skills and held-out text (lm_pretrain.h), printed.
 * FL_BAD_REQUEST when --seed contradicts the run's. */
static int evaluate_lm(args *a) {
    a->lm.data_dir = a->data_dir;
    fl_lm_eval_result r;
    const int rc = fl_lm_eval_checkpoint(a->model, &a->lm, &r);
    if (rc) return rc;
    char *text = fl_lm_eval_result_json(&r);
    if (!text) return fl_error_set("out of memory");
    puts(text);
    free(text);
    if (!r.seed_recorded)
        fprintf(stderr, "forgetlab eval: %s records no run seed; the skills' split uses seed %llu (--seed)\n",
                a->model, (unsigned long long)r.seed);
    return 0;
}

static int evaluate(const args *a, cJSON *out) {
    fl_mlp m;
    if (fl_mlp_load(a->model, &m, NULL)) return -1;
    const char *dir = fl_data_dir(a->data_dir);
    int rc = 0;
    for (int t = 0; t < 2 && rc == 0; t++) {
        fl_task_data td;
        if ((rc = fl_task_load(&td, (fl_task_id)t, dir, a->split))) break;
        float *logits = fl_malloc((size_t)td.n * FL_TASK_CLASSES * sizeof(float), "logits");
        double acc = 0;
        rc = logits ? fl_eval_task(&m, &td, &acc, logits) : -1;
        if (rc == 0 && a->logits_out && a->task == (fl_task_id)t) {
            int64_t shape[2] = {td.n, FL_TASK_CLASSES};
            rc = fl_npy_write(a->logits_out, logits, 2, shape);
        }
        if (rc == 0 && a->inputs_out && a->task == (fl_task_id)t) {
            int64_t shape[2] = {td.n, FL_TASK_DIM};
            rc = fl_npy_write(a->inputs_out, td.x, 2, shape);
        }
        if (rc == 0 && a->labels_out && a->task == (fl_task_id)t) {
            /* Labels as float32, so the one .npy writer serves. */
            for (int i = 0; i < td.n; i++) logits[i] = (float)td.label[i];
            int64_t shape[1] = {td.n};
            rc = fl_npy_write(a->labels_out, logits, 1, shape);
        }
        char key[32];
        snprintf(key, sizeof key, "%s_acc", fl_task_name((fl_task_id)t));
        cJSON_AddNumberToObject(out, key, acc);
        snprintf(key, sizeof key, "%s_n", fl_task_name((fl_task_id)t));
        cJSON_AddNumberToObject(out, key, td.n);
        free(logits);
        fl_task_free(&td);
    }
    fl_mlp_free(&m);
    return rc;
}

static int run(int argc, char **argv) {
    args a = {.split = "test"};
    int rc = fl_parse_args(argc, argv, &fl_cmd_eval, OPTS, handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.model) return fl_usage_error("eval", "--model PATH is required");
    if ((a.logits_out || a.labels_out || a.inputs_out) && !a.has_task)
        return fl_usage_error("eval", "--logits-out, --labels-out and --inputs-out need --task parity|fashion");
    fl_set_threads(a.threads);
    char arch[32];
    if (fl_checkpoint_arch(a.model, arch, sizeof arch)) return fl_fail("eval");
    const int lm = strcmp(arch, "gpt") == 0;
    if (lm && (a.has_split || a.has_task))
        return fl_usage_error("eval", "--split, --task, --logits-out, --labels-out and --inputs-out are for the image tasks, not "
                              "a language model");
    if (!lm && (a.lm.prompts || a.lm.has_seed))
        return fl_usage_error("eval", "--prompts and --seed are for a language model, not a model of arch '%s'", arch);
    cJSON *out = lm ? NULL : cJSON_CreateObject();
    if (out) cJSON_AddStringToObject(out, "split", a.split);
    rc = lm ? evaluate_lm(&a) : evaluate(&a, out);
    if (rc == 0 && out) {
        char *text = cJSON_Print(out);
        puts(text);
        free(text);
    }
    cJSON_Delete(out);
    if (rc == FL_BAD_REQUEST) return fl_usage_error("eval", "%s", fl_error_msg());
    return rc ? fl_fail("eval") : FL_EXIT_OK;
}
