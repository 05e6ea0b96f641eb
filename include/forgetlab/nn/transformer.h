/* transformer.h: a decoder-only transformer for short token sequences.
 *
 * Token and learned positional embeddings, then n_layers blocks of
 *     x = x + Attn(LN1(x));  x = x + MLP(LN2(x))
 * (the LayerNorms only with cfg.layernorm; Nanda et al.'s grokking model has
 * none), an optional final LayerNorm, and an untied unembedding. Every
 * Linear is a PyTorch nn.Linear (weight [out, in] and bias), so a model
 * loads into the PyTorch reference by name:
 *
 *   embed.weight [vocab, d]           pos_embed.weight [ctx, d]
 *   blocks.{l}.ln1.weight / .bias [d]               (layernorm only)
 *   blocks.{l}.attn.{q,k,v,o}.weight [d, d] / .bias [d]
 *   blocks.{l}.ln2.weight / .bias [d]               (layernorm only)
 *   blocks.{l}.mlp.fc_in.weight [d_mlp, d] / .bias [d_mlp]
 *   blocks.{l}.mlp.fc_out.weight [d, d_mlp] / .bias [d]
 *   ln_f.weight / .bias [d]                          (layernorm only)
 *   unembed.weight [n_out, d] / .bias [n_out]
 *
 * Head h of a block owns rows h*d_head .. (h+1)*d_head-1 of q, k and v's
 * weights and the same columns of o's.
 *
 * Two shortcuts compute only what the loss needs. With loss_last set, the
 * loss reads the last position only, and the last block computes only what
 * that needs: keys and values at every position, but the query, the
 * attention output, the MLP and the unembedding at the last position alone.
 * And block 0's input at a position depends on nothing but the token and
 * the position, so its LayerNorm and its q, k, v projections are computed
 * once per (token, position) pair, vocab * ctx rows (342 for the grokking
 * model instead of 3 * 3,830 per step), and gathered per sequence; their
 * gradients are summed back per pair. */
#ifndef FORGETLAB_TRANSFORMER_H
#define FORGETLAB_TRANSFORMER_H

#include "forgetlab/core/blob.h"
#include "forgetlab/core/rng.h"

#include <stdint.h>

#define FL_TF_MAX_LAYERS 8

typedef enum { FL_TF_RELU, FL_TF_GELU } fl_tf_act;

typedef struct {
    int vocab;       /* input token ids 0 .. vocab-1 */
    int n_out;       /* output classes (rows of the unembedding) */
    int ctx;         /* sequence length */
    int n_layers, d_model, n_heads, d_mlp;
    fl_tf_act act;
    int layernorm;   /* pre-LayerNorm in each block and before the unembedding */
    int loss_last;   /* outputs at the last position only */
} fl_tf_config;

/* Views of one block (-1 where absent). */
typedef struct {
    int ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
    int ln2_w, ln2_b, in_w, in_b, out_w, out_b;
} fl_tf_block_views;

typedef struct {
    fl_tf_config cfg;
    int d_head;
    fl_blob blob;
    int wte, wpe, lnf_w, lnf_b, wu, bu;
    fl_tf_block_views blk[FL_TF_MAX_LAYERS];
} fl_transformer;

/* One block's activations for a batch of B sequences, and their gradients
 * (d-prefixed, same shapes). T = ctx; Tq = 1 for the last block when
 * loss_last, else T.
 *   x      [B,T,d]   the residual stream entering the block
 *   h      [B,T,d]   LN1(x), or x itself without LayerNorm
 *   hq     [B,Tq,d]  h at the query positions (h itself when Tq = T)
 *   xq     [B,Tq,d]  x at the query positions (x itself when Tq = T)
 * Block 0 reads the (token, position) tables of fl_tf_acts instead of h
 * and hq, and of x only the query positions xq are filled (all of them,
 * and h and hq too, when fl_tf_acts.embeds is set).
 *   q [B,Tq,d]  k, v [B,T,d]  att [B,heads,Tq,T]
 *   z      [B,Tq,d]  the heads' outputs side by side, before o
 *   attn   [B,Tq,d]  o(z): the attention layer's output
 *   mid    [B,Tq,d]  xq + attn
 *   h2     [B,Tq,d]  LN2(mid), or mid itself
 *   pre, post [B,Tq,d_mlp]  the MLP's neurons before and after the activation
 *   mlp    [B,Tq,d]  the MLP's output; the next block's x is mid + mlp */
typedef struct {
    int Tq;
    float *x, *h, *hq, *xq, *q, *k, *v, *att, *z, *attn, *mid, *h2, *pre, *post, *mlp;
    float *ln1_mean, *ln1_rstd, *ln2_mean, *ln2_rstd;
    float *dx, *dh, *dhq, *dxq, *dq, *dk, *dv, *dz, *dattn, *dmid, *dh2, *dpre, *dpost, *dmlp;
    float *dscore; /* [B, H, Tq, T]: attention's scratch for the score gradients */
} fl_tf_block_acts;

/* Activation patching: the forward pass overwrites one component's
 * activation with values[B, Tq, width] (width: d_head for a head, d_model
 * for the MLP's output, 1 for one neuron) right after computing it, so
 * everything downstream sees the patched value. */
typedef enum { FL_TF_HEAD, FL_TF_MLP, FL_TF_NEURON } fl_tf_component;
typedef struct {
    int layer;
    fl_tf_component kind;
    int index;                   /* head or neuron; unused for the MLP */
    const float *values;
} fl_tf_patch;

typedef struct {
    int cap_B, B;
    const int *tok;              /* [B,T], borrowed from the caller */
    const fl_tf_patch *patch;    /* NULL: an ordinary forward pass */
    /* Not NULL: block 0's input [B, T, d] instead of the embedding of tok
     * (for integrated gradients along interpolated embeddings). Block 0
     * then runs per sequence, and the backward pass stops at blk[0].dx:
     * the embedding weights get no gradient. */
    const float *embeds;
    /* Block 0 per (token v, position t) pair, row v*T + t of U = vocab*T:
     * the embedding xt, ht = LN1(xt) (or xt), and its projections. */
    int U;
    int *ttok;                   /* [U] the token of each row: v */
    float *xt, *ht, *qt, *kt, *vt, *tln_mean, *tln_rstd;
    float *dxt, *dht, *dqt, *dkt, *dvt;
    fl_tf_block_acts blk[FL_TF_MAX_LAYERS];
    float *res, *dres;           /* [B,Tq,d] the final residual stream */
    float *hf, *dhf;             /* [B,Tq,d] LN_f(res), or res itself */
    float *lnf_mean, *lnf_rstd;
    float *logits;               /* [B,Tq,n_out] */
    float *mem;
} fl_tf_acts;

/* Checks the configuration (positive sizes, d_model divisible by n_heads,
 * at most FL_TF_MAX_LAYERS layers). On failure the error names the field. */
int fl_tf_config_check(const fl_tf_config *c);
/* Allocates the model (parameters zero). */
int fl_tf_create(fl_transformer *m, const fl_tf_config *c);
/* The number of parameters fl_tf_create would allocate (-1 with an error
 * when the configuration is invalid), without allocating them. */
int64_t fl_tf_param_count(const fl_tf_config *c);
void fl_tf_free(fl_transformer *m);
/* Initialisation schemes. FL_TF_INIT_TORCH is PyTorch's default:
 * nn.Embedding N(0, 1), nn.Linear U(+-1/sqrt(in)) for weight and bias.
 * FL_TF_INIT_SCALED is Nanda et al.'s: every matrix N(0, 1/fan_in) with
 * fan_in = d_model for the embeddings, biases 0; its much smaller initial
 * weight norm is what lets weight decay reach the generalising solution
 * within their 40k epochs. LayerNorms start at weight 1, bias 0 in both.
 * Draws in view order from rng. */
typedef enum { FL_TF_INIT_TORCH, FL_TF_INIT_SCALED } fl_tf_init_kind;
void fl_tf_init(fl_transformer *m, fl_tf_init_kind kind, fl_rng *rng);

int fl_tf_acts_alloc(fl_tf_acts *a, const fl_transformer *m, int cap_B);
void fl_tf_acts_free(fl_tf_acts *a);
/* Rows of output per sequence: 1 with loss_last, else ctx. */
int fl_tf_out_positions(const fl_transformer *m);

/* Forward pass of tok[B, ctx]; returns the logits [B, out_positions, n_out]
 * (a pointer into acts). B <= cap_B. */
const float *fl_tf_forward(const fl_transformer *m, fl_tf_acts *a, const int *tok, int B);
/* Backward from dlogits [B, out_positions, n_out]: accumulates into the
 * blob's grads, and leaves every activation's gradient in acts (zeroed
 * first), for attribution. Needs the forward's acts. */
void fl_tf_backward(fl_transformer *m, fl_tf_acts *a, const float *dlogits);

/* Writes "ctx=3 layers=1 d_model=128 heads=4 d_mlp=512 act=relu ln=0
 * last=1 vocab=114 n_out=113" (the checkpoint's spec) and parses it back. */
void fl_tf_spec_string(const fl_tf_config *c, char *buf, int n);
int fl_tf_parse_spec(const char *spec, fl_tf_config *c);

/* Saving and loading: checkpoint.h. */

#endif
