/* clmetrics.c: average accuracy, backward and forward transfer and both
 * definitions of forgetting from a task sequence's accuracy matrix
 * (clmetrics.h). */
#include "forgetlab/measure/clmetrics.h"

#include <math.h>
#include <stddef.h>

/* Task i's forgetting by both definitions (i < T - 1). */
static void task_forgetting(const double *R, int T, int i, double *first, double *max) {
    const double last = R[(size_t)(T - 1) * T + i];
    double best = R[(size_t)i * T + i];
    for (int t = i + 1; t < T - 1; t++) best = fmax(best, R[(size_t)t * T + i]);
    *first = R[(size_t)i * T + i] - last;
    *max = best - last;
}

void fl_cl_task_forgetting(const double *R, int T, double *first, double *max) {
    for (int i = 0; i < T - 1; i++) task_forgetting(R, T, i, &first[i], &max[i]);
    first[T - 1] = max[T - 1] = NAN;
}

void fl_cl_metrics_compute(const double *R, int T, const double *b, fl_cl_metrics *out) {
    const double *last = R + (size_t)(T - 1) * T;
    double acc = 0, ff = 0, fm = 0, fwt = 0;
    for (int i = 0; i < T; i++) acc += last[i];
    for (int i = 0; i < T - 1; i++) {
        double f, m;
        task_forgetting(R, T, i, &f, &m);
        ff += f, fm += m;
    }
    for (int i = 1; i < T && b; i++) fwt += R[(size_t)(i - 1) * T + i] - b[i];
    out->avg_acc = acc / T;
    /* BWT is first-minus-last forgetting with the opposite sign. */
    out->forgetting_first = T > 1 ? ff / (T - 1) : NAN;
    out->forgetting_max = T > 1 ? fm / (T - 1) : NAN;
    out->bwt = -out->forgetting_first;
    out->fwt = T > 1 && b ? fwt / (T - 1) : NAN;
}
