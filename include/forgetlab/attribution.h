/* attribution.h: node attribution patching (AP) for an fl_mlp, and the
 * circuit-stability statistics built on it (SCIENCE.md section 5).
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
 *                          would all be 0: it serves EAP-IG alone, whose
 *                          gradients are taken away from the clean run.
 *
 * Scores are computed on the clean point's gradient with one forward on x,
 * one on x' (counterfactual only) and one backward, for a batch of examples
 * at once. */
#ifndef FORGETLAB_ATTRIBUTION_H
#define FORGETLAB_ATTRIBUTION_H

#include "forgetlab/mlp.h"
#include "forgetlab/tasks.h"

typedef enum { FL_AP_LOSS_CE = 0, FL_AP_LOSS_LOGIT_DIFF = 1, FL_AP_LOSS_KL = 2 } fl_ap_loss;
typedef enum {
    FL_AP_CORRUPT_COUNTERFACTUAL = 0, /* a' = activation on the caller's x' */
    FL_AP_CORRUPT_MEAN = 1,           /* a' = mean activation over a reference set */
    FL_AP_CORRUPT_ZERO = 2            /* a' = 0 */
} fl_ap_corrupt;

typedef struct {
    fl_ap_loss loss;
    fl_ap_corrupt corrupt;
    int parity;              /* non-zero: logit-diff's wrong classes are the other parity */
    const float *mean_acts;  /* MEAN: [fl_ap_nunits] from fl_ap_mean_acts */
    int ig_steps;            /* transformer edges: EAP-IG's m (0: plain EAP) */
} fl_ap_opts;

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
const char *fl_ap_corrupt_name(fl_ap_corrupt c);

/* Target class of each example (see above) from the clean logits [n, 10]. */
void fl_ap_targets(fl_task_id t, const float *logits, const int *label, int n, int *target);

/* Per-example loss of logits[n, V] (losses[n]); dlogits[n, V] (may be NULL)
 * receives dloss_b / dlogits_b (overwritten, not accumulated). KL is taken
 * at the clean run itself here: 0, with a zero gradient. */
void fl_ap_loss_eval(fl_ap_loss loss, int parity, const float *logits, const int *target,
                     int n, int V, float *losses, float *dlogits);

/* Mean post-ReLU activation of every hidden unit over x[n] (mean[nunits]). */
int fl_ap_mean_acts(const fl_mlp *m, const float *x, int n, float *mean);

/* AP scores of n examples: scores[n, ncomponents]. xc[n, dims[0]] is the
 * corrupted input for COUNTERFACTUAL (ignored otherwise, may be NULL). */
int fl_ap_scores(const fl_mlp *m, const fl_ap_opts *o, const float *x, const float *xc,
                 const int *target, int n, float *scores);

/* Real activation patching, the quantity AP estimates: the per-example loss
 * (losses[n]) when the activation of unit `unit` of hidden layer `layer` is
 * set to value[b] in the run on x[b]; unit -1 patches the whole layer from
 * value[n, width]; layer -1 is the clean loss. */
int fl_patch_unit_loss(const fl_mlp *m, fl_ap_loss loss, int parity, const float *x,
                       const int *target, int n, int layer, int unit, const float *value,
                       float *losses);

/* Circuit vectors of k subtasks: the examples x[n] (with corrupted xc and
 * true labels) are grouped by subtask, count[s] consecutive examples each;
 * vec[s, ncomponents] is the mean AP score of subtask s's examples, with the
 * targets of fl_ap_targets for task t. */
int fl_circuit_vectors(const fl_mlp *m, const fl_ap_opts *o, fl_task_id t, const float *x,
                       const float *xc, const int *label, const int *count, int k, float *vec);

/* Circuit stability of k circuit vectors vec[k, c]: rho[k, k] their Spearman
 * correlations (average ranks for ties; NaN if a vector is constant). */
void fl_cs_matrix(const float *vec, int k, int c, double *rho);
/* Mean of the finite off-diagonal entries (NaN if none). */
double fl_cs_mean(const double *rho, int k);
/* Connected components of the graph with an edge i-j where rho >= thr:
 * cls[i] = index of i's class, classes numbered in order of their smallest
 * member. Returns the number of classes. */
int fl_cs_classes(const double *rho, int k, double thr, int *cls);

#endif
