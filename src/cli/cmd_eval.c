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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
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
    "Options:\n";
static char HELP[8192];

typedef struct {
    const char *model, *split, *logits_out, *labels_out, *inputs_out, *data_dir;
    int has_task, has_split, threads;
    fl_task_id task;
    fl_lm_eval_opts lm;
} args;

#define OWNER(field, member) ((args *)((char *)(field) - offsetof(args, member)))
#define COWNER(field, member) ((const args *)((const char *)(field) - offsetof(args, member)))

static int parse_split(const char *v, void *field) {
    if (strcmp(v, "train") && strcmp(v, "test")) return fl_error_set("expected train or test, got '%s'", v);
    OWNER(field, split)->split = v, OWNER(field, split)->has_split = 1;
    return 0;
}
static int parse_task(const char *v, void *field) {
    if (fl_task_parse(v, field)) return fl_error_set("expected parity or fashion, got '%s'", v);
    OWNER(field, task)->has_task = 1;
    return 0;
}
static void format_task(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", COWNER(field, task)->has_task ? fl_task_name(*(const fl_task_id *)field) : "none");
}
static int parse_seed(const char *v, void *field) {
    long s;
    if (fl_parse_long("seed", v, 0, LONG_MAX, &s)) return fl_error_set("expected an integer >= 0, got '%s'", v);
    OWNER(field, lm.seed)->lm.seed = (uint64_t)s, OWNER(field, lm.seed)->lm.has_seed = 1;
    return 0;
}
static void format_seed(const void *field, char *buf, size_t n) {
    const args *a = COWNER(field, lm.seed);
    if (a->lm.has_seed) snprintf(buf, n, "%llu", (unsigned long long)a->lm.seed);
    else snprintf(buf, n, "none");
}

#define F(field) offsetof(args, field)
static const fl_setting SETTINGS[] = {
    {"model", FL_SET_STRING, F(model), 0, 0, "PATH", "run directory or .safetensors file (required)", NULL, NULL, NULL},
    {"prompts", FL_SET_INT, F(lm.prompts), 1, 100000, "N",
     "language model: test prompts per skill (default: the run's --eval-prompts; at most 1500, the smallest test "
     "set)", NULL, NULL, NULL},
    {"seed", FL_SET_CUSTOM, F(lm.seed), 0, 0, "S",
     "language model: the split's seed for a model file that records none (default 0); must match a recorded one",
     NULL, parse_seed, format_seed},
    {"split", FL_SET_STRING, F(split), 0, 0, "S", "train or test", NULL, parse_split, NULL},
    {"task", FL_SET_CUSTOM, F(task), 0, 0, "T", "parity or fashion: the task whose logits --logits-out writes (default "
     "none)", NULL, parse_task, format_task},
    {"labels-out", FL_SET_STRING, F(labels_out), 0, 0, "F",
     "write the true labels [n] of --task on --split to F (.npy, <f4 holding 0..9: the digit for parity, the class "
     "for fashion)", NULL, NULL, NULL},
    {"logits-out", FL_SET_STRING, F(logits_out), 0, 0, "F",
     "write the logits [n, 10] of --task on --split to F (.npy, <f4), in dataset order", NULL, NULL, NULL},
    {"inputs-out", FL_SET_STRING, F(inputs_out), 0, 0, "F",
     "write the inputs [n, 785] of --task on --split to F (.npy, <f4: the pixels in [0, 1], then the task "
     "indicator)", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
enum { NSETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

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
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, SETTINGS, NSETTINGS, &a, "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_eval, SETTINGS, NSETTINGS, &a, NULL, NULL, NULL, NULL, NULL);
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
