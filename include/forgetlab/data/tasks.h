/* tasks.h: the two tasks of the RL's Razor toy, ParityMNIST and
 * FashionMNIST, as 785-feature inputs (784 pixels, then a task indicator:
 * +1 ParityMNIST, -1 FashionMNIST) and 10-way outputs. */
#ifndef FORGETLAB_TASKS_H
#define FORGETLAB_TASKS_H

#include "forgetlab/data/data.h"

#define FL_TASK_DIM 785
#define FL_TASK_CLASSES 10

typedef enum { FL_TASK_PARITY = 0, FL_TASK_FASHION = 1 } fl_task_id;

typedef struct {
    fl_task_id task;
    int n;
    float *x;       /* [n, 785] */
    int *label;     /* [n] the true digit (parity) or class (fashion) */
} fl_task_data;

const char *fl_task_name(fl_task_id t);          /* "parity" / "fashion" */
int fl_task_parse(const char *name, fl_task_id *out);
float fl_task_indicator(fl_task_id t);           /* +1 / -1 */

/* Builds the task's inputs from images (copies; adds the indicator). */
int fl_task_build(fl_task_data *td, fl_task_id t, const fl_images *im);
/* Loads the images of the split from data_dir and builds the task. */
int fl_task_load(fl_task_data *td, fl_task_id t, const char *data_dir, const char *split);
void fl_task_free(fl_task_data *td);

/* Whether answer `pred` is correct for an example of true label `label`:
 * fashion: pred == label; parity: pred % 2 == label % 2. */
int fl_task_correct(fl_task_id t, int label, int pred);

/* Accuracy of logits[n, 10] on the task (argmax answer). */
double fl_task_accuracy(fl_task_id t, const float *logits, const int *label, int n);

#endif
