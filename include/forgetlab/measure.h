/* measure.h: everything forgetlab reports about a fine-tuned model against
 * its base (SCIENCE.md section 2): accuracies on the new task (ParityMNIST)
 * and the prior task (FashionMNIST), forgetting, and every predictor.
 *
 * What depends only on the base model (its log-probabilities on both test
 * sets, its accuracies, its diagonal Fisher) is computed once, in a context,
 * and reused for every checkpoint of every run of a study. */
#ifndef FORGETLAB_MEASURE_H
#define FORGETLAB_MEASURE_H

#include "forgetlab/activations.h"
#include "forgetlab/divergence.h"
#include "forgetlab/mlp.h"
#include "forgetlab/tasks.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* The prior task's circuit probe (circuit_drift.c): per_class test images
 * of each FashionMNIST class with counterfactual partners, and the base
 * model's circuit vectors on them. */
typedef struct {
    float *x, *xc;                       /* [n, 785], grouped by class */
    int *label;
    int count[FL_TASK_CLASSES];
    int nc;                              /* components per circuit vector */
    float *base_vec;                     /* [10, nc] */
} fl_circuit_probe;

int fl_circuit_probe_init(fl_circuit_probe *p, const fl_mlp *base, const fl_task_data *prior_test,
                          int per_class, uint64_t seed);
void fl_circuit_probe_free(fl_circuit_probe *p);
/* Circuit vectors of m (into vec [10, nc] if not NULL), their circuit
 * stability (mean off-diagonal Spearman) and, if drift is not NULL, the mean
 * Spearman of each class's vector with the base's. */
int fl_circuit_probe_measure(const fl_circuit_probe *p, const fl_mlp *m, float *vec, double *cs, double *drift);

typedef struct {
    const fl_mlp *base;
    fl_task_data new_test, prior_test;   /* ParityMNIST test, FashionMNIST test */
    float *logp0_new, *logp0_prior;      /* base log-probabilities [n, 10] */
    float *fisher;                       /* base diagonal Fisher, blob.n entries */
    fl_act_record base_new;              /* base activations on new_test */
    fl_circuit_probe probe;              /* prior-task circuits of the base */
    double new_acc_base, prior_acc_base;
    uint64_t seed;                       /* for the spectral-norm starts */
} fl_measure_ctx;

typedef struct {
    double new_acc_base, new_acc, prior_acc_base, prior_acc, forgetting;
    fl_divergences new_div, prior_div;
    double weight_l1, weight_fisher_l2, weight_spectral;
    int nlayers, weight_rank[FL_MLP_MAX_LAYERS];
    fl_act_change act;                   /* on the new task's test inputs */
    double circuit_stability, circuit_drift; /* on the prior task's classes */
    double eval_s, predictors_s;         /* where the time went: accuracies and
                                            log-probs; everything else */
} fl_measurement;

/* (ours) The Fisher is estimated on the first fisher_n images of the prior
 * task's TRAINING split with one label sampled per image from the base. */
int fl_measure_ctx_init(fl_measure_ctx *ctx, const fl_mlp *base, const char *data_dir,
                        int fisher_n, uint64_t seed);
void fl_measure_ctx_free(fl_measure_ctx *ctx);

/* with_rank: also the SVD-based numerical rank of each layer's update (the
 * costliest figure; a study computes it for final models only). */
int fl_measure_model(const fl_measure_ctx *ctx, const fl_mlp *m, int with_rank,
                     fl_measurement *out);

/* The keys of PRODUCT.md: new_acc_base, new_acc, prior_acc_base, prior_acc,
 * forgetting, forward_kl_new, reverse_kl_new, tv_new, l2_dist_new, js_new,
 * forward_kl_prior, reverse_kl_prior, tv_prior, l2_dist_prior, js_prior,
 * weight_l1, weight_fisher_l2, weight_spectral, weight_rank (array, when
 * computed), act_l1, act_l2, cka, circuit_stability, circuit_drift. */
cJSON *fl_measurement_json(const fl_measurement *r);

/* The scalar figures of a measurement, in a fixed order: names[i] (static
 * strings, the JSON keys above) and vals[i]. Returns their number
 * (FL_MEASURE_NFIELDS). The per-layer ranks are not among them. */
#define FL_MEASURE_NFIELDS 23
int fl_measurement_fields(const fl_measurement *r, const char **names, double *vals);

#endif
