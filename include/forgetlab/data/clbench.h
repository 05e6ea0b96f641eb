/* clbench.h: the continual-learning benchmarks (docs/continual.md;
 * docs/continual.md), built from the data forgetlab already has:
 *
 *   split-mnist     5 tasks of 2 digits each (0/1, 2/3, ...), from the
 *                   8,000 / 2,000 MNIST digits
 *   split-fashion   5 tasks of 2 Fashion-MNIST classes each (60,000 / 10,000)
 *   permuted-mnist  T tasks (10 by default): all ten digits, each task's
 *                   pixels shuffled by its own seeded permutation
 *   rotated-mnist   T tasks: all ten digits rotated by t * 180 / T degrees
 *                   (bilinear, about the image centre, zero outside)
 *
 * and the three scenarios of van de Ven and Tolias, which differ in what the
 * model must tell apart and whether it is told the task:
 *
 *   task     task-incremental: the task is known; each task has its own
 *            head (outputs), the others' logits masked in training and at
 *            test (split: 10 outputs, task t's head its two classes;
 *            permuted/rotated: 10 outputs per task)
 *   domain   domain-incremental: the task is not known and need not be: the
 *            same outputs serve every task (split: 2 outputs, the even or
 *            odd member of the pair; permuted/rotated: the 10 digits)
 *   class    class-incremental: the task is not known and must be inferred:
 *            one output per class of every task, no mask (split: 10;
 *            permuted/rotated: 10 per task)
 *
 * Inputs are the 784 pixels in [0, 1]. */
#ifndef FORGETLAB_CLBENCH_H
#define FORGETLAB_CLBENCH_H

#include <stdint.h>

#define FL_CL_MAX_TASKS 20
#define FL_CL_DIM 784

typedef enum { FL_CL_SPLIT_MNIST, FL_CL_SPLIT_FASHION, FL_CL_PERMUTED_MNIST, FL_CL_ROTATED_MNIST, FL_CL_NBENCH } fl_cl_benchmark;
typedef enum { FL_CL_TASK_IL, FL_CL_DOMAIN_IL, FL_CL_CLASS_IL, FL_CL_NSCENARIO } fl_cl_scenario;

const char *fl_cl_benchmark_name(fl_cl_benchmark b);
int fl_cl_benchmark_parse(const char *s, fl_cl_benchmark *out);
const char *fl_cl_scenario_name(fl_cl_scenario s);
int fl_cl_scenario_parse(const char *s, fl_cl_scenario *out);

/* One task's examples: inputs and the target among the model's outputs. */
typedef struct {
    int n;
    float *x;   /* [n, 784] */
    int *y;     /* [n] */
} fl_cl_set;

typedef struct {
    fl_cl_benchmark bench;
    fl_cl_scenario scenario;
    int ntasks, nout;                 /* tasks; the model's outputs */
    fl_cl_set train[FL_CL_MAX_TASKS], test[FL_CL_MAX_TASKS];
    /* The outputs a task's examples are scored over: [head_first,
     * head_first + head_size); the rest are masked (task-incremental), or
     * every output (the other scenarios). */
    int head_first[FL_CL_MAX_TASKS], head_size[FL_CL_MAX_TASKS];
} fl_cl_bench;

/* Builds the benchmark: ntasks (0: 5 for split, 10 otherwise; split
 * benchmarks have exactly 5), at most per_task training examples per task
 * (0: all; a seeded shuffle picks them), the permutations from (seed,
 * FL_STREAM_DATA). Errors name what is wrong (a task count, missing data). */
int fl_cl_bench_load(fl_cl_bench *b, fl_cl_benchmark bench, fl_cl_scenario scenario, int ntasks, int per_task,
                     const char *data_dir, uint64_t seed);
/* For choosing hyper-parameters without the test set: a fraction frac
 * (0 < frac < 1) of each task's training examples, drawn from (seed,
 * FL_STREAM_VALIDATION), becomes its evaluation set in place of the test
 * examples, and the rest its training set (in their order). */
int fl_cl_bench_hold_out(fl_cl_bench *b, double frac, uint64_t seed);
void fl_cl_bench_free(fl_cl_bench *b);

/* An image rotated by deg degrees (counter-clockwise) about its centre,
 * bilinear, zero outside: out[rows * cols]. */
void fl_rotate_image(float *out, const float *in, int rows, int cols, double deg);

#endif
