/* tasks.c: ParityMNIST and FashionMNIST as the model sees them: 784 pixels
 * plus the task indicator, so one network can tell the two tasks apart, and
 * the correctness rule each task grades answers by. */
#include "forgetlab/data/tasks.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TASK_PIXELS (FL_TASK_DIM - 1)

const char *fl_task_name(fl_task_id t) { return t == FL_TASK_PARITY ? "parity" : "fashion"; }

int fl_task_parse(const char *name, fl_task_id *out) {
    if (name && strcmp(name, "parity") == 0) {
        *out = FL_TASK_PARITY;
        return 0;
    }
    if (name && strcmp(name, "fashion") == 0) {
        *out = FL_TASK_FASHION;
        return 0;
    }
    return fl_error_set("%s: unknown task (expected parity or fashion)", name ? name : "(null)");
}

float fl_task_indicator(fl_task_id t) { return t == FL_TASK_PARITY ? 1.0f : -1.0f; }

int fl_task_build(fl_task_data *td, fl_task_id t, const fl_images *im) {
    memset(td, 0, sizeof *td);
    td->task = t;
    if (im->rows * im->cols != TASK_PIXELS)
        return fl_error_set("%s: images of %dx%d pixels, the task needs 28x28 (%d)",
                            fl_task_name(t), im->rows, im->cols, TASK_PIXELS);
    for (int i = 0; i < im->n; i++)
        if (im->label[i] < 0 || im->label[i] >= FL_TASK_CLASSES)
            return fl_error_set("%s: label %d of example %d is outside 0..%d", fl_task_name(t),
                                im->label[i], i, FL_TASK_CLASSES - 1);
    size_t n = im->n > 0 ? (size_t)im->n : 0;
    const size_t bytes = (n ? n : 1) * FL_TASK_DIM * sizeof(float);
    td->x = fl_malloc(bytes, "task inputs");
    td->label = fl_malloc((n ? n : 1) * sizeof(int), "task labels");
    if (!td->x || !td->label) {
        fl_task_free(td);
        return -1;
    }
    fl_advise_huge(td->x, bytes);
    const float ind = fl_task_indicator(t);
    for (size_t i = 0; i < n; i++) {
        float *row = td->x + i * FL_TASK_DIM;
        memcpy(row, im->x + i * TASK_PIXELS, TASK_PIXELS * sizeof(float));
        row[TASK_PIXELS] = ind;
    }
    if (n) memcpy(td->label, im->label, n * sizeof(int));
    td->n = (int)n;
    return 0;
}

int fl_task_load(fl_task_data *td, fl_task_id t, const char *data_dir, const char *split) {
    memset(td, 0, sizeof *td);
    td->task = t;
    fl_images im;
    int rc = t == FL_TASK_PARITY ? fl_mnist_load(data_dir, split, &im)
                                 : fl_fashion_load(data_dir, split, &im);
    if (rc == 0) rc = fl_task_build(td, t, &im);
    fl_images_free(&im);
    return rc;
}

void fl_task_free(fl_task_data *td) {
    if (!td) return;
    free(td->x);
    free(td->label);
    fl_task_id t = td->task;
    memset(td, 0, sizeof *td);
    td->task = t;
}

int fl_task_correct(fl_task_id t, int label, int pred) {
    if (pred < 0 || pred >= FL_TASK_CLASSES) return 0;
    return t == FL_TASK_PARITY ? pred % 2 == label % 2 : pred == label;
}

double fl_task_accuracy(fl_task_id t, const float *logits, const int *label, int n) {
    if (n <= 0) return 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * FL_TASK_CLASSES;
        /* A row with a NaN gives no answer, so it counts as wrong rather
         * than as whichever class the comparisons happen to leave. */
        int pred = 0;
        for (int c = 0; c < FL_TASK_CLASSES; c++) {
            if (isnan(z[c])) {
                pred = -1;
                break;
            }
            if (z[c] > z[pred]) pred = c;
        }
        hits += fl_task_correct(t, label[i], pred);
    }
    return (double)hits / n;
}
