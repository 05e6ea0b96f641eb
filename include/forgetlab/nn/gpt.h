/* gpt.h: the byte-level language model: a GPT-2 style decoder (nanoGPT's
 * layout) over bytes. Token and learned position embeddings, n_layer
 * blocks of
 *     x = x + c_proj(Attn(c_attn(ln_1(x))));  x = x + c_proj(GELU(c_fc(ln_2(x))))
 * a final LayerNorm, and the output layer tied to the token embedding
 * (logits = ln_f(x) wte^T, no bias). Parameters carry nanoGPT's names, so
 * nanoGPT's GPT loads them (lm_head.weight is wte when written out):
 *
 *   transformer.wte.weight [V, C]     transformer.wpe.weight [ctx, C]
 *   transformer.h.{i}.ln_1.{weight,bias} [C]
 *   transformer.h.{i}.attn.c_attn.weight [3C, C], .bias [3C]   (q, k, v stacked)
 *   transformer.h.{i}.attn.c_proj.weight [C, C], .bias [C]
 *   transformer.h.{i}.ln_2.{weight,bias} [C]
 *   transformer.h.{i}.mlp.c_fc.weight [4C, C], .bias [4C]
 *   transformer.h.{i}.mlp.c_proj.weight [C, 4C], .bias [C]
 *   transformer.ln_f.{weight,bias} [C]
 *
 * The loss is the mean cross-entropy of the next byte over the positions
 * a mask selects (all of them without one), so fine-tuning can score
 * completions only. GELU is the exact (erf) form, as nanoGPT's nn.GELU. */
#ifndef FORGETLAB_GPT_H
#define FORGETLAB_GPT_H

#include "forgetlab/core/blob.h"
#include "forgetlab/core/rng.h"

#include <stddef.h>
#include <stdint.h>

#define FL_GPT_MAX_LAYERS 12

typedef struct {
    int vocab;    /* 256 bytes, plus any special tokens */
    int ctx;      /* the longest sequence */
    int n_layer, n_embd, n_head;
} fl_gpt_config;

typedef struct {
    int ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, fcp_w, fcp_b;
} fl_gpt_block_views;

typedef struct {
    fl_gpt_config cfg;
    fl_blob blob;
    int wte, wpe, lnf_w, lnf_b;
    fl_gpt_block_views blk[FL_GPT_MAX_LAYERS];
} fl_gpt;

/* Checks the configuration; the error names the field. */
int fl_gpt_config_check(const fl_gpt_config *c);
/* "vocab=256 ctx=128 layers=4 embd=128 heads=4": the spec a checkpoint
 * records, and back (checked). */
void fl_gpt_spec_string(const fl_gpt_config *c, char *buf, size_t n);
int fl_gpt_parse_spec(const char *spec, fl_gpt_config *c);
/* The parameters fl_gpt_create would allocate (-1 with the error set). */
int64_t fl_gpt_param_count(const fl_gpt_config *c);
/* Allocates the model (parameters zero). */
int fl_gpt_create(fl_gpt *m, const fl_gpt_config *c);
void fl_gpt_free(fl_gpt *m);
/* GPT-2's initialisation: weights N(0, 0.02), the two c_proj of each
 * block N(0, 0.02 / sqrt(2 n_layer)), biases 0, LayerNorms 1 and 0. */
void fl_gpt_init(fl_gpt *m, fl_rng *rng);

/* The activations of a batch of B sequences of T <= ctx tokens, kept for
 * the backward pass, and the backward pass' buffers. Per layer l:
 *   x [B,T,C] the residual entering it; ln1, ln2 [B,T,C]; qkv [B,T,3C];
 *   q, k, v, z [B,T,C] (z: the heads side by side); att [B,NH,T,T];
 *   x2 [B,T,C] = x + c_proj(z); fc, fch [B,T,4C] (before and after GELU).
 * Then xf [B,T,C] the last residual, lnf [B,T,C], logits and probs [B,T,V]. */
typedef struct {
    int B, T;
    float *x[FL_GPT_MAX_LAYERS + 1], *ln1[FL_GPT_MAX_LAYERS], *ln2[FL_GPT_MAX_LAYERS], *qkv[FL_GPT_MAX_LAYERS];
    float *q[FL_GPT_MAX_LAYERS], *k[FL_GPT_MAX_LAYERS], *v[FL_GPT_MAX_LAYERS], *z[FL_GPT_MAX_LAYERS];
    float *att[FL_GPT_MAX_LAYERS], *x2[FL_GPT_MAX_LAYERS], *fc[FL_GPT_MAX_LAYERS], *fch[FL_GPT_MAX_LAYERS];
    float *m1[FL_GPT_MAX_LAYERS], *r1[FL_GPT_MAX_LAYERS], *m2[FL_GPT_MAX_LAYERS], *r2[FL_GPT_MAX_LAYERS];
    float *lnf, *mf, *rf, *logits, *probs, *nll; /* nll [B,T]: each position's -log p(target) */
    /* backward scratch, reused layer by layer */
    float *dx, *dln, *dqkv, *dq, *dk, *dv, *dz, *dfc, *dfch, *dlogits;
    float *dscore; /* [B, n_head, T, T]: attention's scratch, shared by the layers */
    const int *tok, *targets;
    const float *mask;
    double mask_sum;
    /* Attribution's hooks (attribution_gpt.c), unset for training: embeds
     * [B,T,C], when set, is the block-0 input instead of the token and
     * position embeddings (the embedding then gets no gradient); where set,
     * the backward pass copies the gradient of the loss with respect to
     * each layer's heads z [B,T,C], attention output (what it adds to the
     * stream) and MLP output [B,T,C], and MLP neurons after GELU [B,T,4C],
     * and to the block-0 input, into these. */
    const float *embeds;
    float *g_z[FL_GPT_MAX_LAYERS], *g_attn[FL_GPT_MAX_LAYERS], *g_mlp[FL_GPT_MAX_LAYERS], *g_fch[FL_GPT_MAX_LAYERS];
    float *g_embed;
    float *mem;
} fl_gpt_acts;

int fl_gpt_acts_alloc(fl_gpt_acts *a, const fl_gpt *m, int B, int T);
void fl_gpt_acts_free(fl_gpt_acts *a);

/* The forward pass over tok [B,T] (B, T within the allocation). With
 * targets [B,T], returns the mean cross-entropy over the positions where
 * mask [B,T] is non-zero (weighted by it; NULL: every position), else NaN.
 * The logits stay in a->logits. */
float fl_gpt_forward(const fl_gpt *m, fl_gpt_acts *a, const int *tok, const int *targets, const float *mask, int B,
                     int T);
/* Adds the gradient of the last forward pass' loss to m->blob's grads. */
void fl_gpt_backward(fl_gpt *m, fl_gpt_acts *a);
/* Adds the gradient of any loss of the last forward pass' logits, given
 * as its gradient a->dlogits [B,T,V] filled by the caller (the fine-tuning
 * objectives beyond the cross-entropy: weighted log-likelihoods, a KL term). */
void fl_gpt_backward_logits(fl_gpt *m, fl_gpt_acts *a);

/* Incremental decoding with a key/value cache: B sequences, each at its
 * own length, advance one token per step; every layer keeps the keys and
 * values of every position so far, so a step costs one position's work. */
typedef struct {
    int B;
    int *len;                      /* [B] positions filled */
    float *k[FL_GPT_MAX_LAYERS], *v[FL_GPT_MAX_LAYERS]; /* [B, ctx, C] */
    float *x, *ln, *qkv, *z, *x2, *fc, *fch, *att, *mean, *rstd;
    float *logits;                 /* [B, vocab]: each sequence's next-token logits */
    float *next;                   /* [B, vocab] scratch of a step */
    float *mem;
} fl_gpt_cache;
int fl_gpt_cache_alloc(fl_gpt_cache *c, const fl_gpt *m, int B);
void fl_gpt_cache_free(fl_gpt_cache *c);
/* Empties every sequence. */
void fl_gpt_cache_reset(fl_gpt_cache *c);
/* Feeds tok[b] at position len[b] of every sequence b with active[b]
 * (NULL: all) and leaves the next token's logits in c->logits. -1 when a
 * sequence is full (its length would pass the context). */
int fl_gpt_step(const fl_gpt *m, fl_gpt_cache *c, const int *tok, const unsigned char *active);

typedef struct {
    double temperature;  /* 0: greedy */
    int top_k;           /* 0: the whole vocabulary */
    int max_new;         /* tokens to sample at most */
    int stop;            /* a token that ends a completion (kept); -1: none */
    uint64_t seed;       /* of the sampling stream (FL_STREAM_SAMPLE) */
} fl_sample_opts;

/* Completes B prompts (prompt b: plen[b] >= 1 tokens, plen[b] + max_new
 * <= ctx): out[b * max_new ...] receives up to max_new tokens, out_len[b]
 * how many (the stop token included when it came), and logp[b * max_new
 * ...] (optional) each sampled token's log-probability under the model
 * itself (temperature 1, no top-k: what the RL methods need).
 * Deterministic for a seed. */
int fl_gpt_sample(const fl_gpt *m, fl_gpt_cache *c, const int *const *prompts, const int *plen, int B,
                  const fl_sample_opts *o, int *out, int *out_len, float *logp);

#endif
