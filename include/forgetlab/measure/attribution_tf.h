/* attribution_tf.h: attribution patching for the transformer
 * (docs/circuits.md), with the conventions of attribution.h: scores are
 * (a' - a) . dL/da at the CLEAN run, summed over positions and dimensions,
 * signed, positive when the corrupted value would raise the loss.
 *
 * Nodes, per block l, in this order:
 *   blocks.{l}.attn.head.{h}     head h's output z_h before the output
 *                                projection (patching z_h and patching the
 *                                head's contribution z_h W_O,h^T to the
 *                                residual stream are the same thing, and give
 *                                the same first-order score);
 *   blocks.{l}.mlp               the MLP's output (d_model);
 *   blocks.{l}.mlp.neuron.{j}    neuron j after its activation.
 *
 * Edges (EAP): score(u -> v) = (out_u(x') - out_u(x)) . dL/d(input of v)|x,
 * where out_u is u's write into the residual stream (the embedding, a head's
 * z_h W_O,h^T, an MLP's output) and the input of v is what v reads from the
 * stream along its own path only: a head's query, key or value input (three
 * separate nodes), an MLP's input, or the unembedding's. Every u earlier in
 * the stream than v gives an edge. EAP-IG (o->ig_steps = m >= 1) averages
 * that gradient over m runs whose block-0 input is the interpolated
 * embedding e(x') + k/m (e(x) - e(x')), k = 1..m (e(x') = 0 for zero
 * corruption); the loss keeps the clean target. Edges need a model without LayerNorm
 * (the path gradients of a LayerNorm'd stream are not separable per node).
 *
 * Models must have loss_last set (one output position). The model's
 * gradient slab is used as scratch and left zeroed. */
#ifndef FORGETLAB_ATTRIBUTION_TF_H
#define FORGETLAB_ATTRIBUTION_TF_H

#include "forgetlab/measure/attribution.h"
#include "forgetlab/measure/stability.h"
#include "forgetlab/data/modarith.h"
#include "forgetlab/nn/transformer.h"

int fl_ap_tf_ncomponents(const fl_transformer *m);
void fl_ap_tf_component_name(const fl_transformer *m, int c, char *buf, int n);
/* The component c's (layer, kind, index). */
void fl_ap_tf_component(const fl_transformer *m, int c, int *layer, fl_tf_component *kind, int *index);

/* Floats per example of every node's activation stacked (for mean
 * ablation): per block z [Tq, d], mlp [Tq, d], post [Tq, d_mlp]. */
size_t fl_ap_tf_nacts(const fl_transformer *m);
/* Mean of the stacked activations over tok[n, ctx] (mean[nacts]). */
int fl_ap_tf_mean_acts(fl_transformer *m, const int *tok, int n, float *mean);

/* Node scores of n examples, AP or with ig_steps = M > 0 AP-IG (the
 * gradients averaged over block-0 inputs interpolated from e(x') to e(x),
 * attribution.h): scores[n, ncomponents]. tokc[n, ctx]: the corrupted
 * inputs (WITHIN and COUNTERFACTUAL only). target[n]: the class the loss is
 * about. */
int fl_ap_tf_scores(fl_transformer *m, const fl_ap_opts *o, const int *tok, const int *tokc, const int *target,
                   int n, float *scores);

/* Per-example loss with one component patched (fl_tf_patch); patch NULL:
 * the clean loss. The quantity node scores estimate. ref[n, n_out]: KL's
 * reference, the clean logits (fl_tf_logits); NULL where the loss is not KL. */
int fl_ap_tf_patched_loss(fl_transformer *m, fl_ap_loss loss, const int *tok, const int *target, const float *ref,
                         int n, const fl_tf_patch *patch, float *losses);
/* The logits [n, n_out] of tok[n, ctx] (loss_last models). */
int fl_tf_logits(fl_transformer *m, const int *tok, int n, float *logits);
/* m on tok [n, T] with its embedding replaced by emb (an integrated
 * gradient's point), the loss o->loss of its logits (against target; ref:
 * the KL's reference logits) and its gradient back through the model
 * (parameter gradients zeroed first): a holds the run's activations and
 * gradients, losses and dlogits [n], [n, V] the loss's. */
void fl_tf_run_embedded(fl_transformer *m, fl_tf_acts *a, const fl_ap_opts *o, float *emb, const int *tok,
                        const int *target, const float *ref, int n, float *losses, float *dlogits);

/* Real activation patching of every node, the quantity its score
 * estimates to first order: change[n, ncomponents] = L(x with the node set
 * to its corrupted value) - L(x), one patched pass per node. */
int fl_ap_tf_patched_changes(fl_transformer *m, const fl_ap_opts *o, const int *tok, const int *tokc,
                            const int *target, int n, float *change);
/* Edges: their number, names ("embed->blocks.0.attn.head.1.q", ...), and
 * EAP scores[n, nedges] (WITHIN, COUNTERFACTUAL or ZERO corruption: the upstream
 * outputs of tokc, or 0). */
int fl_eap_nedges(const fl_transformer *m);
void fl_eap_edge_name(const fl_transformer *m, int e, char *buf, int n);
int fl_eap_scores(fl_transformer *m, const fl_ap_opts *o, const int *tok, const int *tokc, const int *target,
                  int n, float *scores);

/* Per-example scores[n, ncomponents] (edges: [n, nedges]) of nodes (AP,
 * AP-IG) or edges (EAP, EAP-IG); circuit vectors and stability follow from
 * them (stability.h). */
int fl_tf_scores(fl_transformer *m, const fl_ap_opts *o, int edges, const int *tok, const int *tokc,
                 const int *target, int n, float *scores);

/* Subtasks of a modular-arithmetic task: one per value of a (k = p), one
 * per answer c (k = p), or k random groups. */
typedef enum { FL_MOD_SUB_BY_A, FL_MOD_SUB_BY_ANSWER, FL_MOD_SUB_RANDOM } fl_mod_sub_kind;
typedef struct {
    fl_mod_sub_kind kind;
    int k;          /* number of subtasks (p for by-a and by-answer) */
    int per;        /* examples per subtask at most */
    uint64_t seed;  /* example order and counterfactual draws (FL_STREAM_EVAL),
                       within-subtask partners (FL_STREAM_CORRUPT) */
    fl_ap_corrupt corrupt; /* what tokc holds: COUNTERFACTUAL, WITHIN, else a copy of tok */
} fl_mod_subtasks;

/* Parses "by-a", "by-answer" or "random:K" for modulus p into sub (per and
 * seed untouched). */
int fl_mod_subtasks_parse(const char *s, int p, fl_mod_subtasks *sub);

/* The examples of those subtasks over all the task's equations, train and
 * test, subtask after subtask: each subtask's first `per` equations of a
 * seeded shuffle, tok and tokc [n, ctx], target[n] (the true answer);
 * count[k] per subtask. tokc: for COUNTERFACTUAL a o b' with b' != b drawn
 * uniformly (b' != 0 for division), so the answer changes; for WITHIN
 * another equation of the same subtask (fl_within_partners). A subtask with
 * no equations, or one equation under WITHIN: FL_BAD_REQUEST. Freed with
 * fl_mod_examples_free. */
typedef struct {
    int n;
    int *tok, *tokc, *target;
} fl_mod_examples;
int fl_mod_examples_build(const fl_modarith *d, const fl_mod_subtasks *sub, fl_mod_examples *ex, int *count);
void fl_mod_examples_free(fl_mod_examples *ex);

/* Circuit stability of a modular-arithmetic model over sub's subtasks
 * (examples as fl_mod_examples_build draws them), with its random-split
 * baseline of `draws` draws (stability.h). */
int fl_mod_cs(fl_transformer *m, const fl_modarith *d, const fl_ap_opts *o, int edges, const fl_mod_subtasks *sub,
              int draws, fl_cs_stats *st);

/* What the grokking runs measure (docs/grokking.md): circuit stability
 * by-a (st[0]) and by-answer (st[1]) with the default probe (KL from the
 * clean output, AP-IG with 5 steps, another equation of the same subtask as
 * the corruption), at most `per` equations per subtask, each with its
 * baseline of FL_MOD_CS_DRAWS random splits. */
#define FL_MOD_CS_DRAWS 20
int fl_mod_cs_grok(fl_transformer *m, const fl_modarith *d, int per, uint64_t seed, fl_cs_stats st[2]);

#endif
