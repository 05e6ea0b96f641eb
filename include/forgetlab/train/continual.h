/* continual.h: learning a sequence of tasks (clbench.h) with the methods of
 * the continual-learning literature, and what each leaves behind: the
 * accuracy matrix and its metrics (clmetrics.h), and at every task
 * boundary the forward KL of the new model from the one before on the new
 * task's inputs and on every earlier task's, and each task's circuit
 * stability across its classes (docs/continual.md).
 *
 *   naive      fine-tuning on each task in turn
 *   joint      training on every task so far at once (the upper bound)
 *   replay     experience replay: each batch joined by as many examples
 *              drawn from a reservoir of `buffer` past ones (replay.h)
 *   ewc        EWC: lambda/2 sum_k F_k (theta - theta_k)^2 over the earlier
 *              tasks k, F_k their exact diagonal Fisher (Kirkpatrick 2017)
 *   online-ewc one running Fisher, gamma F + F_t, anchored at the last task
 *              (Schwarz 2018)
 *   si         Synaptic Intelligence: each weight's importance, the path
 *              integral of -g dtheta over a task over its squared change
 *              plus xi, summed over tasks; c sum Omega (theta - theta*)^2
 *              (Zenke 2017)
 *   lwf        Learning without Forgetting: the previous model's outputs on
 *              the new inputs distilled at temperature T into the earlier
 *              tasks' outputs (Li and Hoiem 2017)
 *   l2sp       L2 to the previous task's weights (Li 2018)
 *   kl         KL(previous model || model) on the new task's inputs: RL's
 *              Razor's predictor as a regulariser
 *   agem       A-GEM: a gradient that would raise the loss on a batch of
 *              the episodic memory is projected (Chaudhry 2019)
 *
 * The model: an MLP 784 - hidden - hidden - outputs (ReLU), AdamW with
 * weight decay 0 and its moments reset at each task. Task-incremental heads
 * are masks over the outputs (clbench.h), in training and at test. */
#ifndef FORGETLAB_CONTINUAL_H
#define FORGETLAB_CONTINUAL_H

#include "forgetlab/data/clbench.h"
#include "forgetlab/measure/clmetrics.h"

#include <stdint.h>

typedef enum {
    FL_CL_NAIVE, FL_CL_JOINT, FL_CL_REPLAY, FL_CL_EWC, FL_CL_ONLINE_EWC, FL_CL_SI, FL_CL_LWF, FL_CL_L2SP,
    FL_CL_KL, FL_CL_AGEM, FL_CL_NMETHODS
} fl_cl_method;

const char *fl_cl_method_name(fl_cl_method m);
int fl_cl_method_parse(const char *s, fl_cl_method *out);

typedef struct {
    fl_cl_method method;
    int hidden;              /* width of the two hidden layers */
    int epochs, batch;       /* per task */
    double lr;
    int buffer;              /* replay, agem: examples kept */
    double ewc_lambda, ewc_gamma;
    double si_c, si_xi;
    double lwf_alpha, lwf_temp;
    double l2sp_lambda, kl_beta;
    int fisher_n;            /* ewc: training examples of a task's Fisher */
    int cs_per;              /* circuit stability: test examples per class (0: not measured) */
    uint64_t seed;
} fl_cl_config;

/* The defaults: ewc_lambda and si_c NaN, which fl_cl_run (and
 * fl_cl_resolve) replace by the published weight for the benchmark and
 * scenario (docs/continual.md has the table and its source). */
void fl_cl_defaults(fl_cl_config *c);
void fl_cl_resolve(fl_cl_config *c, fl_cl_benchmark bench, fl_cl_scenario scenario);

typedef struct {
    int T;
    double R[FL_CL_MAX_TASKS * FL_CL_MAX_TASKS]; /* R[t * T + i]: test accuracy on i after training on t */
    double random[FL_CL_MAX_TASKS];              /* of the model before any training (FWT's reference) */
    /* At boundary t >= 1: KL(model after t-1 || model after t) on the test
     * inputs of task i <= t, over task i's outputs, per example; NaN else. */
    double kl[FL_CL_MAX_TASKS * FL_CL_MAX_TASKS];
    /* At boundary t, for every task i <= t: circuit stability across task
     * i's classes (the circuit probe of the circuit-stability work: AP-IG,
     * KL from the clean output, 5 steps, within-class corruptions, on
     * cs_per test examples of each class) and its random-split baseline. */
    double cs[FL_CL_MAX_TASKS * FL_CL_MAX_TASKS], cs_random[FL_CL_MAX_TASKS * FL_CL_MAX_TASKS];
    fl_cl_metrics metrics;
} fl_cl_result;

/* Learns b's tasks in order with c's method. */
int fl_cl_run(const fl_cl_config *c, const fl_cl_bench *b, fl_cl_result *out);

#endif
