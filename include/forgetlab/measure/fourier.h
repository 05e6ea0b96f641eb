/* fourier.h: Nanda et al.'s progress measures for a transformer trained on
 * a + b mod p (docs/grokking.md): the Fourier spectrum of the token
 * embedding, its key frequencies, and the restricted and excluded losses.
 *
 * Frequencies are k = 0 .. (p-1)/2 with w_k = 2 pi k / p; frequency k's
 * basis vectors over the tokens a = 0..p-1 are cos(w_k a) and sin(w_k a),
 * each normalised to unit length (k = 0: the constant vector). */
#ifndef FORGETLAB_FOURIER_H
#define FORGETLAB_FOURIER_H

/* norms[k] = the L2 norm of the embedding W_E[0..p-1, :] ([p, d], rows are
 * tokens) projected onto frequency k's basis vectors, k = 0 .. p/2
 * (p/2 + 1 values, integer division). */
void fl_fourier_embed_norms(const float *W_E, int p, int d, double *norms);

/* The nkey frequencies (from 1 up) with the largest norms, in descending
 * order of norm; returns how many were written (at most p/2). */
int fl_fourier_key_freqs(const double *norms, int p, int nkey, int *key);

/* The key frequencies' share of the embedding's non-constant spectrum:
 * sum over key k of norms[k]^2 over the sum over k >= 1 (0 .. 1; near 1
 * once a grokked model's embedding has kept only its key frequencies).
 * NaN when the non-constant spectrum is zero. */
double fl_fourier_key_share(const double *norms, int p, const int *key, int nkey);

/* Restricted and excluded loss from the logits [n, p] of every equation
 * (a[i], b[i]) -> y[i] of the task c = a + sign*b mod p (sign +1 or -1;
 * n = p*p, every pair once). With u_k, v_k the unit vectors cos / sin of
 * w_k (a + sign b) over the n equations and P the projection of each
 * logit column onto span{u_k, v_k : k key}:
 *   restricted logits = column means + P(logits), its mean cross-entropy
 *                       over all n equations;
 *   excluded logits   = logits - P(logits), its mean cross-entropy over the
 *                       training equations (train[i] != 0).
 * Returns -1 (with an error) when the inputs are not such a grid. */
int fl_fourier_losses(const float *logits, const int *a, const int *b, const int *y, const unsigned char *train,
                      int n, int p, int sign, const int *key, int nkey, double *restricted, double *excluded);

#endif
