/* clmetrics.h: the continual-learning metrics of a task sequence
 * (docs/continual.md) from its accuracy matrix R[t][i], the accuracy on
 * task i after training on task t (T tasks, row-major R[t * T + i]):
 *
 *   average accuracy   mean_i R[T-1][i], after the last task;
 *   BWT                mean_{i<T-1} (R[T-1][i] - R[i][i]): negative when
 *                      learning later tasks lowers earlier ones;
 *   FWT                mean_{i>0} (R[i-1][i] - b[i]), b[i] the accuracy on
 *                      task i of a randomly initialised model of the same
 *                      seed: what earlier tasks give a task before it is
 *                      trained on;
 *   forgetting, first-minus-last (Avalanche): mean_{i<T-1} (R[i][i] -
 *                      R[T-1][i]), the accuracy right after training on
 *                      task i minus the final one (= -BWT);
 *   forgetting, max-minus-last (Mammoth): mean_{i<T-1} (max_{i<=t<T-1}
 *                      R[t][i] - R[T-1][i]), the best accuracy task i had
 *                      at any task boundary before the last, minus the
 *                      final one. The two differ when a task's accuracy
 *                      rises after its own training (backward transfer)
 *                      and then falls. */
#ifndef FORGETLAB_CLMETRICS_H
#define FORGETLAB_CLMETRICS_H

typedef struct {
    double avg_acc, bwt, fwt;
    double forgetting_first; /* Avalanche's definition */
    double forgetting_max;   /* Mammoth's definition */
} fl_cl_metrics;

/* All of them from R[T, T]; b[T] (may be NULL: FWT is NaN) the random
 * model's accuracies. T = 1: BWT, FWT and forgetting are NaN. */
void fl_cl_metrics_compute(const double *R, int T, const double *b, fl_cl_metrics *out);
/* Task i's forgetting by each definition (i < T - 1; NaN for the last). */
void fl_cl_task_forgetting(const double *R, int T, double *first, double *max);

#endif
