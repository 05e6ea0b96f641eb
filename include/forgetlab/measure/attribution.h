/* attribution.h: node attribution patching (AP) for an fl_mlp, and the
 * circuit-stability statistics built on it (docs/circuits.md).
 *
 * Components. For every hidden layer l (the ReLU output of Linear l, l <
 * nlayers-1) each unit j is one component, named "layers.{l}.unit.{j}", and
 * the layer as a whole is one more, named "layers.{l}" (its score is the sum
 * of its units' scores). Order in a score vector: all units of layer 0, all
 * units of layer 1, ..., then the whole layers 0, 1, ... .
 *
 * Convention. For a clean input x and a corrupted activation a' (from a
 * corrupted input x', the mean over a reference set, or 0):
 *
 *     score_k = (a'_k - a_k) * dL/da_k   evaluated on the CLEAN run x,
 *
 * the first-order estimate of L(run on x with a_k patched to a'_k) - L(x).
 * L is a loss (lower is better), so a positive score means that putting the
 * corrupted value into the unit hurts the model: the unit carries
 * information the clean input needs. Scores stay signed. (TransformerLens's
 * demo takes the gradient at x' and the opposite sign.)
 *
 * Losses (per example, on the clean run):
 *   FL_AP_LOSS_CE          -log softmax(z)[t] of the target class t;
 *   FL_AP_LOSS_LOGIT_DIFF  max_{w wrong} z_w - z_t, the NEGATED logit
 *                          difference, so that it is a loss like CE. The
 *                          gradient goes to the best wrong logit only.
 * The target t: the true class; for ParityMNIST, where the answer is any
 * digit of the right parity, the model's own argmax when that is of the
 * right parity, else the true digit (fl_ap_targets), and with parity set
 * the "wrong" classes are the digits of the other parity.
 *   FL_AP_LOSS_KL          KL(clean output || output). It is 0 with a zero
 *                          gradient at the clean run, so AP and EAP scores
 *                          would all be 0: it serves the integrated-gradient
 *                          methods alone, whose gradients are taken away
 *                          from the clean run.
 *
 * Corruptions: WITHIN and COUNTERFACTUAL are both an input x' the caller
 * supplies (another example of the same subtask, fl_within_partners; or one
 * of another class or answer); they differ only in how x' was chosen. MEAN
 * and ZERO replace the activation itself.
 *
 * AP scores use the clean point's gradient: one forward on x, one on x'
 * (input corruptions) and one backward, for a batch of examples at once.
 *
 * AP-IG (ig_steps = M > 0; docs/circuits.md, integrated gradients for nodes)
 * takes the loss's gradient at inputs interpolated from x' to x (pixels for
 * MLPs, embeddings for transformers), x_j = x' + (j/M)(x - x'), j = 1..M,
 * the loss keeping the clean run's target and, for KL, the clean output as
 * its reference. Only input corruptions define such a path. Two estimators:
 *
 *   FL_IG_PATH (default)  score_k = -sum_j (g_k(x_{j-1}) + g_k(x_j))/2
 *                                    (a_k(x_j) - a_k(x_{j-1})), x_0 = x',
 *                         g = dL/da: the gradient integrated along the path
 *                         the activation actually takes (a node's
 *                         "conductance"), by the trapezoidal rule (M + 1
 *                         gradients). A whole layer's scores sum to
 *                         L(x') - L(x) up to O(1/M^2), for every layer.
 *   FL_IG_AVERAGE         score_k = (a'_k - a_k) (1/M) sum_j dL/da_k(x_j):
 *                         the mean gradient times the straight difference,
 *                         the form of EAP-IG and of the circuit-stability
 *                         code. It equals PATH where a_k moves linearly
 *                         along the path; behind ReLUs it does not, and a
 *                         layer's scores miss L(x') - L(x) by 6-20% on the
 *                         default base model whatever M (docs/circuits.md).
 *
 * Completeness is checked in tests/measure/test_attribution_ig.c. */
#ifndef FORGETLAB_ATTRIBUTION_H
#define FORGETLAB_ATTRIBUTION_H

#include "forgetlab/nn/mlp.h"
#include "forgetlab/measure/stability.h"
#include "forgetlab/data/tasks.h"

typedef enum { FL_AP_LOSS_CE = 0, FL_AP_LOSS_LOGIT_DIFF = 1, FL_AP_LOSS_KL = 2 } fl_ap_loss;
typedef enum {
    FL_AP_CORRUPT_COUNTERFACTUAL = 0, /* a' = activation on the caller's x' */
    FL_AP_CORRUPT_MEAN = 1,           /* a' = mean activation over a reference set */
    FL_AP_CORRUPT_ZERO = 2,           /* a' = 0 */
    FL_AP_CORRUPT_WITHIN = 3          /* a' = activation on the caller's x', another
                                         example of the same subtask */
} fl_ap_corrupt;

/* Whether the corruption is an input x' (within, counterfactual). */
static inline int fl_ap_corrupt_is_input(fl_ap_corrupt c) {
    return c == FL_AP_CORRUPT_COUNTERFACTUAL || c == FL_AP_CORRUPT_WITHIN;
}

typedef enum { FL_IG_PATH = 0, FL_IG_AVERAGE = 1 } fl_ig_form;

typedef struct {
    fl_ap_loss loss;
    fl_ap_corrupt corrupt;
    int parity;              /* non-zero: logit-diff's wrong classes are the other parity */
    const float *mean_acts;  /* MEAN: [fl_ap_nunits] from fl_ap_mean_acts */
    int ig_steps;            /* M of AP-IG / EAP-IG; 0: plain AP / EAP */
    fl_ig_form ig_form;      /* AP-IG's estimator (see above); EAP-IG always averages */
} fl_ap_opts;

/* 0 when the options make sense (have_inputs: the caller supplies x'),
 * else -1 with the reason: an input corruption without inputs, mean
 * ablation without means, integrated gradients without an input path,
 * KL without integrated gradients. */
int fl_ap_check(const fl_ap_opts *o, int have_inputs);

/* Hidden units in all (sum of hidden widths) and components (units + one
 * per hidden layer). */
int fl_ap_nunits(const fl_mlp *m);
int fl_ap_ncomponents(const fl_mlp *m);
/* Name of component c ("layers.0.unit.17", "layers.1"). */
void fl_ap_component_name(const fl_mlp *m, int c, char *buf, int n);

/* parse/name helpers for the command line: 0 or -1 (error set). */
int fl_ap_loss_parse(const char *s, fl_ap_loss *out);
int fl_ap_corrupt_parse(const char *s, fl_ap_corrupt *out);
const char *fl_ap_loss_name(fl_ap_loss l);
/* "ap" (ig_steps = 0) or "ap-ig" (ig_steps = 5 unless already set). */
int fl_ap_method_parse(const char *s, fl_ap_opts *o);
/* "path" or "average". */
int fl_ig_form_parse(const char *s, fl_ig_form *out);
/* "ap-ig steps=5 form=path loss=kl corrupt=within": what a probe is, for configs. */
void fl_ap_opts_string(const fl_ap_opts *o, char *buf, int n);
const char *fl_ap_corrupt_name(fl_ap_corrupt c);

/* Target class of each example (see above) from the clean logits [n, 10]. */
void fl_ap_targets(fl_task_id t, const float *logits, const int *label, int n, int *target);

/* Per-example loss of logits[n, V] (losses[n]); dlogits[n, V] (may be NULL)
 * receives dloss_b / dlogits_b (overwritten, not accumulated). ref[n, V]:
 * the clean run's logits, KL's reference; NULL takes logits as their own
 * reference (KL 0 with a zero gradient). */
void fl_ap_loss_eval(fl_ap_loss loss, int parity, const float *logits, const int *target, const float *ref,
                     int n, int V, float *losses, float *dlogits);

/* Mean post-ReLU activation of every hidden unit over x[n] (mean[nunits]). */
int fl_ap_mean_acts(const fl_mlp *m, const float *x, int n, float *mean);

/* AP or AP-IG scores of n examples: scores[n, ncomponents]. xc[n, dims[0]]
 * is the corrupted input for WITHIN and COUNTERFACTUAL (ignored otherwise,
 * may be NULL). */
int fl_ap_scores(const fl_mlp *m, const fl_ap_opts *o, const float *x, const float *xc,
                 const int *target, int n, float *scores);

/* Real activation patching, the quantity AP estimates: the per-example loss
 * (losses[n]) when the activation of unit `unit` of hidden layer `layer` is
 * set to value[b] in the run on x[b]; unit -1 patches the whole layer from
 * value[n, width]; layer -1 is the clean loss. ref[n, 10]: KL's reference,
 * the clean logits (NULL for the other losses). */
int fl_patch_unit_loss(const fl_mlp *m, fl_ap_loss loss, int parity, const float *x,
                       const int *target, const float *ref, int n, int layer, int unit, const float *value,
                       float *losses);

/* Real activation patching of every component, the quantity the scores
 * estimate: change[n, ncomponents] = L(x with the component set to its
 * corrupted value) - L(x), for task t's examples (targets as
 * fl_ap_task_scores; KL from the clean output). One patched pass per
 * component. */
int fl_ap_patched_changes(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const float *x, const float *xc,
                          const int *label, int n, float *change);

/* Per-example AP / AP-IG scores[n, ncomponents] of task t's examples
 * x[n] (true labels label[n]; corrupted inputs xc[n] where the corruption
 * is an input), with the targets of fl_ap_targets. */
int fl_ap_task_scores(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const float *x, const float *xc,
                      const int *label, int n, float *scores);

/* The examples of a circuit probe on an MNIST-family task: k subtasks of
 * contiguous examples (count[s] each), their true labels, and the corrupted
 * inputs xc (NULL for mean and zero ablation).
 *   by class (random_k = 0): the first `per` test examples of each class
 *     in a seeded shuffle (fewer where a class has fewer);
 *   random_k = K: K consecutive groups of `per` from the same shuffle.
 * The shuffle draws from (seed, FL_STREAM_EVAL), so the examples do not
 * depend on the corruption; the corruptions from (seed, FL_STREAM_CORRUPT):
 *   within: another example of the same subtask (fl_within_partners);
 *   counterfactual: a uniform draw among the test examples of the other
 *     parity (ParityMNIST) or another class (Fashion). */
typedef struct {
    int n, k;
    float *x, *xc;   /* [n, 785] */
    int *label;      /* [n] */
    int *count;      /* [k] */
    int *partner;    /* within: xc[i] is x[partner[i]]; NULL otherwise */
} fl_ap_examples;
int fl_ap_examples_build(const fl_task_data *td, int random_k, int per, fl_ap_corrupt corrupt, uint64_t seed,
                         fl_ap_examples *ex);
void fl_ap_examples_free(fl_ap_examples *ex);
/* fl_ap_task_scores of a probe's examples; within-subtask partners share
 * the first layer's work with the clean run. */
int fl_ap_examples_scores(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const fl_ap_examples *ex,
                          float *scores);

#endif
