/* seqset.h: sets of token sequences, each a prompt and its completion, as
 * the language model's fine-tuning and measurements use them: built from
 * text or sampled from a model, laid out as batches for the forward pass
 * (the positions that predict a completion token marked), and scored: a
 * model's log-probabilities at every completion token's position. */
#ifndef FORGETLAB_SEQSET_H
#define FORGETLAB_SEQSET_H

#include "forgetlab/nn/gpt.h"

#include <stddef.h>

typedef struct {
    int n;               /* sequences */
    int rows;            /* completion tokens over all of them */
    int *off;            /* [n + 1]: sequence i is tok[off[i] .. off[i + 1]) */
    int *plen, *clen;    /* [n] */
    int *tok;            /* each prompt, then its completion, back to back */
    int cap_n, cap_tok;
} fl_seqset;

void fl_seqset_init(fl_seqset *s);
void fl_seqset_free(fl_seqset *s);
/* Empties the set, keeping its memory. */
void fl_seqset_clear(fl_seqset *s);
/* Appends a sequence (plen >= 1, clen >= 1). */
int fl_seqset_add(fl_seqset *s, const int *prompt, int plen, const int *comp, int clen);
/* The same from text, each byte a token. */
int fl_seqset_add_text(fl_seqset *s, const char *prompt, const char *comp);
/* Sequence i's completion as text into buf (n bytes, cut to fit). */
void fl_seqset_completion(const fl_seqset *s, int i, char *buf, size_t n);
/* Sequence i's prompt as text into buf (n bytes, cut to fit). */
void fl_seqset_prompt(const fl_seqset *s, int i, char *buf, size_t n);

/* Samples one completion of each of the n text prompts from m (in chunks
 * of the cache's size, the chunk's draws seeded by o->seed + its index)
 * and appends the sequences; logp (optional, at least the new tokens'
 * count) receives each sampled token's log-probability under m. */
int fl_seqset_sample(fl_seqset *s, const fl_gpt *m, fl_gpt_cache *c, const char *const *prompts, int n,
                     const fl_sample_opts *o, float *logp);

/* Sequences [i0, i0 + B) as a batch for fl_gpt_forward: tok and tgt [B, T]
 * (T: the longest sequence's length - 1; padding 0) and w [B, T] (1 at the
 * positions that predict a completion token, else 0). Returns T. */
int fl_seqset_batch(const fl_seqset *s, int i0, int B, int *tok, int *tgt, float *w);
/* The largest T of any batch of s (its longest sequence's length - 1). */
int fl_seqset_max_t(const fl_seqset *s);

/* m on every sequence of s, B at a time through a (allocated for at least
 * B sequences of fl_seqset_max_t positions): at every completion token's
 * position, in order (rows of s), the log-softmax logp [rows, V], the
 * token's own log-probability tok_logp [rows] and the final LayerNorm's
 * output hidden [rows, C]; each optional. */
int fl_seqset_score(const fl_seqset *s, const fl_gpt *m, fl_gpt_acts *a, int B, float *logp, float *tok_logp,
                    float *hidden);

#endif
