/* measure.h: everything forgetlab reports about a fine-tuned model against
 * its base (docs/razor.md): accuracies on the new task (ParityMNIST)
 * and the prior task (FashionMNIST), forgetting, and every predictor.
 *
 * What depends only on the base model (its log-probabilities on both test
 * sets, its accuracies, its diagonal Fisher) is computed once, in a context,
 * and reused for every checkpoint of every run of a study. */
#ifndef FORGETLAB_MEASURE_H
#define FORGETLAB_MEASURE_H

#include "forgetlab/measure/activations.h"
#include "forgetlab/measure/attribution.h"
#include "forgetlab/measure/divergence.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/data/tasks.h"

/* cJSON stays out of the public headers: users pass its objects through. */
struct cJSON;
#include <stdint.h>

/* The prior task's circuit probe (circuit_probe.c): `per_class` Fashion
 * test images of each class with their corruption partners, the probe's
 * options, and the base model's circuit vectors on them. */
typedef struct {
    fl_ap_opts opts;                     /* the probe (fl_circuit_probe_default) */
    fl_ap_examples ex;                   /* images and partners for opts.corrupt */
    fl_ap_examples ex_cf;                /* the first 20 of each class's images,
                                            counterfactual partners
                                            (circuit_stability_ce_ap) */
    int nc;                              /* components per circuit vector */
    float *base_vec;                     /* [10, nc] */
    uint64_t seed;
} fl_circuit_probe;

typedef struct {
    double cs, cs_random, cs_random_lo, cs_random_hi; /* the probe's CS and its baseline */
    double drift;                        /* mean Spearman with the base's vectors */
    double cs_ce_ap;                     /* CS of the first probe (CE, AP, counterfactual) */
} fl_circuit_probe_result;

/* The default probe: KL from the clean output, AP-IG with 5 steps, within-
 * class corruptions (the circuit-stability code's configuration). */
void fl_circuit_probe_default(fl_ap_opts *o);
/* opts NULL: the default. */
int fl_circuit_probe_init(fl_circuit_probe *p, const fl_mlp *base, const fl_task_data *prior_test,
                          int per_class, const fl_ap_opts *opts, uint64_t seed);
void fl_circuit_probe_free(fl_circuit_probe *p);
/* The probe's figures for m, and its circuit vectors into vec [10, nc]
 * when vec is not NULL. */
int fl_circuit_probe_measure(const fl_circuit_probe *p, const fl_mlp *m, float *vec, fl_circuit_probe_result *out);

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
    fl_circuit_probe_result circuit;     /* on the prior task's classes */
    double eval_s, predictors_s;         /* where the time went: accuracies and
                                            log-probs; everything else */
    double circuit_s;                    /* of predictors_s, the circuit probe's */
} fl_measurement;

/* (ours) The Fisher is estimated on the first fisher_n images of the prior
 * task's TRAINING split with one label sampled per image from the base;
 * every command and the study use FL_MEASURE_FISHER_N of them unless told. */
#define FL_MEASURE_FISHER_N 2000
#define FL_MEASURE_FISHER_N_TEXT "2000" /* the same, for help texts */
/* probe: the circuit probe's options (NULL: fl_circuit_probe_default). */
int fl_measure_ctx_init(fl_measure_ctx *ctx, const fl_mlp *base, const char *data_dir,
                        int fisher_n, const fl_ap_opts *probe, uint64_t seed);
/* A context of the new task alone (its test inputs and the base's outputs
 * on them; no prior-task data is read): measurements from it have the
 * new-task and weight figures, and NaN for the prior task's, forgetting
 * and the circuits'. What a forgetting budget decides on (docs/budget.md). */
int fl_measure_ctx_init_new(fl_measure_ctx *ctx, const fl_mlp *base, const char *data_dir, uint64_t seed);
void fl_measure_ctx_free(fl_measure_ctx *ctx);

/* with_rank: also the SVD-based numerical rank of each layer's update (the
 * costliest figure; a study computes it for final models only). */
int fl_measure_model(const fl_measure_ctx *ctx, const fl_mlp *m, int with_rank,
                     fl_measurement *out);

/* The keys of PRODUCT.md: new_acc_base, new_acc, prior_acc_base, prior_acc,
 * forgetting, forward_kl_new, reverse_kl_new, tv_new, l2_dist_new, js_new,
 * forward_kl_prior, reverse_kl_prior, tv_prior, l2_dist_prior, js_prior,
 * weight_l1, weight_fisher_l2, weight_spectral, weight_rank (array, when
 * computed), act_l1, act_l2, cka, circuit_stability, circuit_stability_random,
 * circuit_drift, circuit_stability_ce_ap. */
struct cJSON *fl_measurement_json(const fl_measurement *r);

/* The scalar figures of a measurement, in a fixed order: names[i] (static
 * strings, the JSON keys above) and vals[i]. Returns their number
 * (FL_MEASURE_NFIELDS). The per-layer ranks are not among them. */
#define FL_MEASURE_NFIELDS 25
int fl_measurement_fields(const fl_measurement *r, const char **names, double *vals);

#endif
