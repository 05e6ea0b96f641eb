/* cmd_eval.c: `forgetlab eval`, a model's accuracy on both tasks, and its
 * logits on one task as a .npy file. */
#include "cli.h"

#include "forgetlab/checkpoint.h"
#include "forgetlab/error.h"
#include "forgetlab/npy.h"
#include "forgetlab/pretrain.h"
#include "forgetlab/threads.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: forgetlab eval --model PATH [OPTIONS]\n"
    "\n"
    "Prints one JSON object with the model's accuracy on each task\n"
    "(parity_acc: the argmax digit has the true digit's parity; fashion_acc).\n"
    "\n"
    "Options:\n"
    "  --model PATH       run directory or .safetensors file (required)\n"
    "  --split S          train or test (default test)\n"
    "  --task T           parity or fashion: the task whose logits --logits-out writes\n"
    "  --labels-out F     write the true labels [n] of --task on --split to F (.npy, <f4\n"
    "                     holding 0..9: the digit for parity, the class for fashion)\n"
    "  --logits-out F     write the logits [n, 10] of --task on --split to F (.npy, <f4),\n"
    "                     in dataset order\n"
    "  --threads N        threads for BLAS and OpenMP (default: all cores)\n"
    "  --data-dir DIR     datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --help             show this help\n";

enum { O_MODEL = 256, O_SPLIT, O_TASK, O_LOGITS, O_THREADS, O_DATA, O_LABELS };

static const struct option OPTS[] = {
    {"model", required_argument, 0, O_MODEL},
    {"split", required_argument, 0, O_SPLIT},
    {"task", required_argument, 0, O_TASK},
    {"logits-out", required_argument, 0, O_LOGITS}, {"labels-out", required_argument, 0, O_LABELS},
    {"threads", required_argument, 0, O_THREADS},
    {"data-dir", required_argument, 0, O_DATA},
    {0, 0, 0, 0}};

typedef struct {
    const char *model, *split, *logits_out, *labels_out, *data_dir;
    int has_task, threads;
    fl_task_id task;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    long n;
    switch (opt) {
    case O_MODEL: a->model = v; return 0;
    case O_LOGITS: a->logits_out = v; return 0;
    case O_LABELS: a->labels_out = v; return 0;
    case O_DATA: a->data_dir = v; return 0;
    case O_SPLIT:
        if (strcmp(v, "train") && strcmp(v, "test"))
            return fl_error_set("--split: expected train or test, got '%s'", v);
        a->split = v;
        return 0;
    case O_TASK:
        if (fl_task_parse(v, &a->task)) return fl_error_set("--task: expected parity or fashion, got '%s'", v);
        a->has_task = 1;
        return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, 1024, &n)) return -1; a->threads = (int)n; return 0;
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_eval = {"eval", "accuracy of a model on each task; dump logits as .npy", run, HELP};

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
    if ((a.logits_out || a.labels_out) && !a.has_task)
        return fl_usage_error("eval", "--logits-out and --labels-out need --task parity|fashion");
    fl_set_threads(a.threads);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "split", a.split);
    if (evaluate(&a, out)) {
        cJSON_Delete(out);
        return fl_fail("eval");
    }
    char *text = cJSON_Print(out);
    puts(text);
    free(text);
    cJSON_Delete(out);
    return FL_EXIT_OK;
}
