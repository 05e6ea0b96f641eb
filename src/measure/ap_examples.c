/* ap_examples.c: which examples a circuit probe of an MNIST-family task
 * scores and how they are corrupted (attribution.h): the one place the
 * `circuits` command and the study's probe draw them from. */
#include "forgetlab/measure/attribution.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <stdlib.h>
#include <string.h>

void fl_ap_examples_free(fl_ap_examples *ex) {
    free(ex->x), free(ex->xc), free(ex->label), free(ex->count), free(ex->partner);
    memset(ex, 0, sizeof *ex);
}

/* Whether test example j may stand in for one of label `lab`: another
 * class, or for ParityMNIST a digit of the other parity. */
static int other_class(fl_task_id t, int lab, int j_label) {
    return t == FL_TASK_PARITY ? j_label % 2 != lab % 2 : j_label != lab;
}

int fl_ap_examples_build(const fl_task_data *td, int random_k, int per, fl_ap_corrupt corrupt, uint64_t seed,
                         fl_ap_examples *ex) {
    const int k = random_k ? random_k : FL_TASK_CLASSES, D = FL_TASK_DIM;
    memset(ex, 0, sizeof *ex);
    if (random_k && (long)k * per > td->n) per = td->n / k;
    int *perm = malloc(sizeof(int) * (size_t)(td->n > 0 ? td->n : 1)), *idx = malloc(sizeof(int) * (size_t)k * per);
    int rc = -1;
    ex->k = k;
    ex->count = calloc((size_t)k, sizeof(int));
    if (!perm || !idx || !ex->count) {
        fl_error_set("circuit probe: out of memory for %d examples", td->n);
        goto out;
    }
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_EVAL);
    for (int i = 0; i < td->n; i++) perm[i] = i;
    fl_rng_shuffle(&r, perm, td->n);
    for (int i = 0; i < td->n; i++) {
        const int s = random_k ? i / (per > 0 ? per : 1) : td->label[perm[i]];
        if (s < k && ex->count[s] < per) idx[s * per + ex->count[s]++] = perm[i];
    }
    /* Subtasks become contiguous runs; a class with fewer than `per`
     * examples leaves no gap. */
    int n = 0;
    for (int s = 0; s < k; s++) {
        if (!ex->count[s]) {
            fl_error_set("subtask %d has no %s test examples", s, fl_task_name(td->task));
            rc = FL_BAD_REQUEST;
            goto out;
        }
        memmove(idx + n, idx + (size_t)s * per, sizeof(int) * ex->count[s]);
        n += ex->count[s];
    }
    ex->n = n;
    const int input = fl_ap_corrupt_is_input(corrupt);
    ex->x = malloc(sizeof(float) * (size_t)n * D), ex->label = malloc(sizeof(int) * n);
    ex->xc = input ? malloc(sizeof(float) * (size_t)n * D) : NULL;
    ex->partner = corrupt == FL_AP_CORRUPT_WITHIN ? malloc(sizeof(int) * n) : NULL;
    if (!ex->x || !ex->label || (input && !ex->xc) || (corrupt == FL_AP_CORRUPT_WITHIN && !ex->partner)) {
        fl_error_set("circuit probe: out of memory for %d examples", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        memcpy(ex->x + (size_t)i * D, td->x + (size_t)idx[i] * D, sizeof(float) * D);
        ex->label[i] = td->label[idx[i]];
    }
    if (corrupt == FL_AP_CORRUPT_WITHIN) {
        if ((rc = fl_within_partners(ex->count, k, seed, ex->partner)) != 0) goto out;
        for (int i = 0; i < n; i++)
            memcpy(ex->xc + (size_t)i * D, ex->x + (size_t)ex->partner[i] * D, sizeof(float) * D);
    } else if (corrupt == FL_AP_CORRUPT_COUNTERFACTUAL) {
        fl_rng_init(&r, seed, FL_STREAM_CORRUPT);
        for (int i = 0; i < n; i++) {
            int j;
            do j = (int)fl_rng_below(&r, (uint32_t)td->n);
            while (!other_class(td->task, ex->label[i], td->label[j]));
            memcpy(ex->xc + (size_t)i * D, td->x + (size_t)j * D, sizeof(float) * D);
        }
    }
    rc = 0;
out:
    free(perm), free(idx);
    if (rc) fl_ap_examples_free(ex);
    return rc;
}
