/* cmd_measure.c: `forgetlab measure`, a fine-tuned model against its base:
 * accuracies, forgetting and every predictor, as one JSON object; or the
 * distributional predictors of anyone's models from their saved logits. */
#include "cli.h"

#include "forgetlab/store/checkpoint.h"
#include "forgetlab/measure/divergence.h"
#include "forgetlab/core/error.h"
#include "forgetlab/measure/measure.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/core/threads.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab measure --base PATH --model PATH [OPTIONS]\n"
    "       forgetlab measure --base-logits A.npy --logits B.npy [OPTIONS]\n"
    "\n"
    "Prints one JSON object: new-task (ParityMNIST) and prior-task (FashionMNIST)\n"
    "test accuracies of both models, forgetting = prior_acc_base - prior_acc, and\n"
    "every predictor of forgetting: forward and reverse KL, total variation, L2 and\n"
    "Jensen-Shannon on the new and the prior task's test inputs; weight change (L1,\n"
    "Fisher-weighted L2, spectral norm, numerical rank per layer); activation change\n"
    "(L1, L2) and linear CKA on the new task's test inputs.\n"
    "\n"
    "Or anyone's models, from their outputs (--base-logits ... --prior-mask): the\n"
    "divergences, and accuracies and forgetting given labels, from logits saved\n"
    "with numpy.save as float32.\n"
    "\n"
    "Options:\n";
static char HELP[8192];

typedef struct {
    const char *base, *model, *data_dir;
    const char *base_logits, *logits, *prior_base_logits, *prior_logits, *labels, *prior_labels, *mask, *prior_mask;
    int fisher_n, threads;
    uint64_t seed;
} args;

#define F(field) offsetof(args, field)
#define PATH_ROW(flag, field, arg, help) {flag, FL_SET_STRING, F(field), 0, 0, arg, help, NULL, NULL, NULL}
static const fl_setting SETTINGS[] = {
    PATH_ROW("base", base, "PATH", "the base model (run directory or .safetensors)"),
    PATH_ROW("model", model, "PATH", "the fine-tuned model"),
    PATH_ROW("base-logits", base_logits, "A", "the base model's logits on the new task's inputs, [n, V] (or [n, T, V] "
             "with --mask)"),
    PATH_ROW("logits", logits, "B", "the fine-tuned model's on the same inputs"),
    PATH_ROW("prior-base-logits", prior_base_logits, "C", "the base model's on the prior task's inputs"),
    PATH_ROW("prior-logits", prior_logits, "D", "the fine-tuned model's on the prior task's inputs"),
    PATH_ROW("labels", labels, "L", "the new task's labels [n] (integers) -> new_acc_base, new_acc"),
    PATH_ROW("prior-labels", prior_labels, "L", "the prior task's -> prior_acc_base, prior_acc, forgetting"),
    PATH_ROW("mask", mask, "M", "[n, T] (non-zero: a position to score), for sequences' logits"),
    PATH_ROW("prior-mask", prior_mask, "M", "the same for the prior task's"),
    {"fisher-n", FL_SET_INT, F(fisher_n), 1, 60000, "N", "prior-task training images for the base's Fisher", NULL,
     NULL, NULL},
    {"seed", FL_SET_U64, F(seed), 0, 9.2e18, "N", "seed of the Fisher's label draws", NULL, NULL, NULL},
    FL_SETTING_THREADS(F(threads)),
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef PATH_ROW
#undef F
enum { NSETTINGS = sizeof SETTINGS / sizeof *SETTINGS };

static int run(int argc, char **argv);
const fl_command fl_cmd_measure = {"measure", "compare a fine-tuned model with its base: forgetting and its predictors",
                                   run, HELP};

static int measure(const args *a) {
    fl_mlp base = {0}, m = {0};
    fl_measure_ctx ctx = {0};
    fl_measurement r;
    int rc = -1;
    if (fl_mlp_load(a->base, &base, NULL) || fl_mlp_load(a->model, &m, NULL)) goto out;
    if (fl_measure_ctx_init(&ctx, &base, fl_data_dir(a->data_dir), a->fisher_n, NULL, a->seed)) goto out;
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

/* One model pair's logits as rows [n, V]: both files float32 of the same
 * shape, [n, V] or [n, T, V] (then the rows at the mask's non-zero
 * positions), every value finite. Errors name the file. */
typedef struct {
    float *z0, *z1;
    int n, V;
} logit_rows;

static int load_rows(const char *base, const char *model, const char *mask, logit_rows *r) {
    float *a = NULL, *b = NULL, *m = NULL;
    int na = 0, nb = 0, nm = 0, rc = -1;
    int64_t sa[FL_NPY_MAX_DIMS], sb[FL_NPY_MAX_DIMS], sm[FL_NPY_MAX_DIMS];
    memset(r, 0, sizeof *r);
    if (fl_npy_read(base, &a, &na, sa) || fl_npy_read(model, &b, &nb, sb)) goto out;
    if (na != 2 && na != 3) {
        fl_error_set("%s: %d dimensions: expected [n, classes] or [n, T, V]", base, na);
        goto out;
    }
    int same = na == nb;
    for (int d = 0; same && d < na; d++) same = sa[d] == sb[d];
    if (!same) {
        fl_error_set("%s: its shape differs from %s's", model, base);
        goto out;
    }
    if ((na == 3) != (mask != NULL)) {
        fl_error_set(na == 3 ? "%s: sequences' logits [n, T, V] need --mask (or --prior-mask) [n, T]"
                             : "%s: a mask is for sequences' logits [n, T, V]", base);
        goto out;
    }
    const int64_t rows = na == 3 ? sa[0] * sa[1] : sa[0], V = sa[na - 1];
    if (rows < 1 || V < 2 || rows * V > 2000000000) {
        fl_error_set("%s: %lld rows of %lld classes", base, (long long)rows, (long long)V);
        goto out;
    }
    for (int64_t i = 0; i < rows * V; i++)
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            fl_error_set("%s: element %lld is not finite", isfinite(a[i]) ? model : base, (long long)i);
            goto out;
        }
    int64_t keep = rows;
    if (mask) {
        if (fl_npy_read(mask, &m, &nm, sm)) goto out;
        if (nm != 2 || sm[0] != sa[0] || sm[1] != sa[1]) {
            fl_error_set("%s: expected the shape [%lld, %lld] of the logits' first two dimensions", mask,
                         (long long)sa[0], (long long)sa[1]);
            goto out;
        }
        keep = 0;
        for (int64_t i = 0; i < rows; i++)
            if (m[i] != 0) {
                memmove(a + keep * V, a + i * V, sizeof(float) * (size_t)V);
                memmove(b + keep * V, b + i * V, sizeof(float) * (size_t)V);
                keep++;
            }
        if (keep == 0) {
            fl_error_set("%s: no position selected", mask);
            goto out;
        }
    }
    r->z0 = a, r->z1 = b, r->n = (int)keep, r->V = (int)V;
    a = b = NULL;
    rc = 0;
out:
    free(a), free(b), free(m);
    return rc;
}

/* Accuracy of logits rows against labels (their count must match). */
static int accuracy(const char *path, const logit_rows *r, const float *z, double *acc) {
    int *y = NULL;
    int64_t n = 0;
    if (fl_npy_read_ints(path, &y, &n)) return -1;
    int rc = n == r->n ? 0 : fl_error_set("%s: %lld labels for %d rows of logits", path, (long long)n, r->n);
    int hits = 0;
    for (int i = 0; i < r->n && rc == 0; i++) {
        if (y[i] >= r->V) rc = fl_error_set("%s: label %d of example %d is not one of the %d classes", path, y[i], i, r->V);
        const float *row = z + (size_t)i * r->V;
        int best = 0;
        for (int v = 1; v < r->V; v++) best = row[v] > row[best] ? v : best;
        hits += best == y[i];
    }
    *acc = (double)hits / r->n;
    free(y);
    return rc;
}

static void add_divergences(cJSON *j, const fl_divergences *d, const char *side) {
    const char *names[5] = {"forward_kl", "reverse_kl", "tv", "l2_dist", "js"};
    const double v[5] = {d->forward_kl, d->reverse_kl, d->tv, d->l2, d->js};
    for (int k = 0; k < 5; k++) {
        char key[32];
        snprintf(key, sizeof key, "%s_%s", names[k], side);
        cJSON_AddNumberToObject(j, key, v[k]);
    }
}

/* The predictors of `measure` from saved logits (anyone's models). */
static int measure_logits(const args *a) {
    logit_rows nw = {0}, pr = {0};
    fl_divergences dn, dp;
    cJSON *j = cJSON_CreateObject();
    int rc = load_rows(a->base_logits, a->logits, a->mask, &nw);
    if (rc == 0) rc = fl_divergences_logits(&dn, nw.z0, nw.z1, nw.n, nw.V);
    if (rc == 0) add_divergences(j, &dn, "new");
    const int prior = a->prior_base_logits != NULL;
    if (rc == 0 && prior) rc = load_rows(a->prior_base_logits, a->prior_logits, a->prior_mask, &pr);
    if (rc == 0 && prior) rc = fl_divergences_logits(&dp, pr.z0, pr.z1, pr.n, pr.V);
    if (rc == 0 && prior) add_divergences(j, &dp, "prior");
    double b = 0, m = 0;
    if (rc == 0 && a->labels && (rc = accuracy(a->labels, &nw, nw.z0, &b)) == 0 &&
        (rc = accuracy(a->labels, &nw, nw.z1, &m)) == 0) {
        cJSON_AddNumberToObject(j, "new_acc_base", b);
        cJSON_AddNumberToObject(j, "new_acc", m);
    }
    if (rc == 0 && a->prior_labels && (rc = accuracy(a->prior_labels, &pr, pr.z0, &b)) == 0 &&
        (rc = accuracy(a->prior_labels, &pr, pr.z1, &m)) == 0) {
        cJSON_AddNumberToObject(j, "prior_acc_base", b);
        cJSON_AddNumberToObject(j, "prior_acc", m);
        cJSON_AddNumberToObject(j, "forgetting", b - m);
    }
    if (rc == 0) {
        cJSON_AddNumberToObject(j, "n_new", nw.n);
        if (prior) cJSON_AddNumberToObject(j, "n_prior", pr.n);
        char *text = cJSON_Print(j);
        puts(text);
        free(text);
    }
    cJSON_Delete(j);
    free(nw.z0), free(nw.z1), free(pr.z0), free(pr.z1);
    return rc;
}

static int run(int argc, char **argv) {
    args a = {.fisher_n = FL_MEASURE_FISHER_N};
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, SETTINGS, NSETTINGS, &a, "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_measure, SETTINGS, NSETTINGS, &a, NULL, NULL, NULL, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (a.base_logits || a.logits || a.prior_base_logits || a.prior_logits) {
        if (a.base || a.model)
            return fl_usage_error("measure", "either --base/--model or --base-logits/--logits, not both");
        if (!a.base_logits || !a.logits)
            return fl_usage_error("measure", "--base-logits and --logits go together");
        if (!a.prior_base_logits != !a.prior_logits)
            return fl_usage_error("measure", "--prior-base-logits and --prior-logits go together");
        if (a.prior_labels && !a.prior_base_logits)
            return fl_usage_error("measure", "--prior-labels needs --prior-base-logits and --prior-logits");
        return measure_logits(&a) ? fl_fail("measure") : FL_EXIT_OK;
    }
    if (!a.base || !a.model) return fl_usage_error("measure", "--base PATH and --model PATH are required");
    fl_set_threads(a.threads);
    return measure(&a) ? fl_fail("measure") : FL_EXIT_OK;
}
