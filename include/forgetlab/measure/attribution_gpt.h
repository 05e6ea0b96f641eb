/* attribution_gpt.h: attribution patching for the language model (gpt.h),
 * with the conventions of attribution.h: a score is the first-order
 * estimate of L(the node set to its corrupted value) - L(clean), signed,
 * positive when the corrupted value hurts.
 *
 * Nodes, in this order: "embed" (the block-0 input: token and position
 * embeddings), then for each layer l:
 *   h.{l}.attn.head.{h}     head h's output z_h before the projection
 *   h.{l}.attn              the attention's write to the stream, c_proj(z)
 *   h.{l}.mlp               the MLP's write to the stream
 *   h.{l}.mlp.neuron.{j}    neuron j after GELU (4 n_embd of them)
 * each summed over positions and dimensions.
 *
 * The metric: KL(clean output || output) of the next byte at the prompt's
 * last position (the answer's first byte), which is 0 with a zero gradient
 * at the clean run, so the scores are AP-IG's, path form (attribution.h):
 * block-0 inputs interpolated from the corrupted prompt's embeddings to the
 * clean one's at M + 1 points, score = -sum_j (g(x_{j-1}) + g(x_j))/2 .
 * (a(x_j) - a(x_{j-1})). So "embed" scores KL(clean || corrupted output)
 * up to O(1/M^2) (completeness), the heads of a layer sum to its "attn",
 * and its neurons to its "mlp" (linear maps: exactly, up to rounding). */
#ifndef FORGETLAB_ATTRIBUTION_GPT_H
#define FORGETLAB_ATTRIBUTION_GPT_H

#include "forgetlab/nn/gpt.h"

int fl_ap_gpt_ncomponents(const fl_gpt *m);
void fl_ap_gpt_component_name(const fl_gpt *m, int c, char *buf, int n);

/* scores[n, ncomponents] of n prompts tok[n, T] against their corrupted
 * versions tokc[n, T] (same length), over M >= 1 steps. The model's
 * gradient slab is scratch, left zeroed. */
int fl_ap_gpt_scores(fl_gpt *m, const int *tok, const int *tokc, int n, int T, int M, float *scores);

#endif
