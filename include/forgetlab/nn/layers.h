/* layers.h: the forward and backward passes of every layer and loss.
 *
 * Conventions (after llm.c): tensors are row-major float arrays; B is the
 * batch, C the input width, OC the output width, V the number of classes.
 * Backward functions ACCUMULATE (+=) into their gradient outputs, so a
 * caller zeroes gradients once per step and several losses can add up.
 * Any gradient output may be NULL when it is not needed. */
#ifndef FORGETLAB_LAYERS_H
#define FORGETLAB_LAYERS_H

/* Linear: out[B,OC] = inp[B,C] @ W[OC,C]^T + b[OC]  (b may be NULL).
 * W is stored [out, in] as in PyTorch's nn.Linear. */
void fl_linear_forward(float *out, const float *inp, const float *W,
                       const float *b, int B, int C, int OC);
/* dinp[B,C] += dout @ W;  dW[OC,C] += dout^T @ inp;  db[OC] += sum_B dout. */
void fl_linear_backward(float *dinp, float *dW, float *db, const float *dout,
                        const float *inp, const float *W, int B, int C, int OC);

/* ReLU: out = max(inp, 0), elementwise over N values. out may equal inp. */
void fl_relu_forward(float *out, const float *inp, long N);
/* dinp += dout * (inp > 0); inp is the ReLU's input (pre-activation). */
void fl_relu_backward(float *dinp, const float *dout, const float *inp, long N);

/* Row-wise softmax and log-softmax of logits[B,V] (max-subtracted). */
void fl_softmax_forward(float *probs, const float *logits, int B, int V);
void fl_log_softmax_forward(float *logp, const float *logits, int B, int V);
/* dlogits += probs * (dprobs - sum_j dprobs_j probs_j). */
void fl_softmax_backward(float *dlogits, const float *dprobs,
                         const float *probs, int B, int V);
/* dlogits += dlogp - probs * sum_j dlogp_j  (probs = softmax(logits)). */
void fl_log_softmax_backward(float *dlogits, const float *dlogp,
                             const float *probs, int B, int V);

/* Cross-entropy with hard labels: losses[b] = -logp[b, y[b]].
 * Returns the mean over the batch. losses may be NULL. */
float fl_crossentropy_forward(float *losses, const float *logp, const int *y,
                              int B, int V);
/* Gradient of scale * sum_b losses[b] w.r.t. the logits, fused through the
 * softmax: dlogits += scale * (probs - onehot(y)). Use scale = 1/B for the
 * mean. */
void fl_crossentropy_backward(float *dlogits, const float *probs, const int *y,
                              int B, int V, float scale);

/* Cross-entropy with soft targets q[B,V]: losses[b] = -sum_v q[b,v] logp[b,v].
 * Returns the batch mean. */
float fl_soft_crossentropy_forward(float *losses, const float *logp,
                                   const float *q, int B, int V);
/* dlogits += scale * (probs * sum_v q[b,v] - q). */
void fl_soft_crossentropy_backward(float *dlogits, const float *probs,
                                   const float *q, int B, int V, float scale);

/* Index of the largest value of each row of x[B,V] (first on ties). */
void fl_argmax_rows(int *out, const float *x, int B, int V);

/* ---- sequence layers (the transformer; src/nn/layers_seq.c) ----
 * T is the sequence length, C the model width, NH the number of heads and
 * HS = C / NH the head size. Activations are [B, T, C], row-major. */

/* Token plus learned positional embedding:
 * out[b,t,:] = wte[tok[b,t], :] + wpe[t, :].  tok[B,T] in [0, V). */
void fl_embedding_forward(float *out, const int *tok, const float *wte,
                          const float *wpe, int B, int T, int C);
/* dwte[tok[b,t], :] += dout[b,t,:];  dwpe[t, :] += sum_b dout[b,t,:]. */
void fl_embedding_backward(float *dwte, float *dwpe, const float *dout,
                           const int *tok, int B, int T, int C);

/* LayerNorm over the last dimension of N rows of width C (eps 1e-5, as
 * PyTorch): out = (inp - mean) * rstd * w + b; mean[N] and rstd[N] are kept
 * for the backward pass. */
void fl_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C);
void fl_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C);

/* GELU, the exact form PyTorch's nn.GELU() uses: x * Phi(x). */
void fl_gelu_forward(float *out, const float *inp, long N);
void fl_gelu_backward(float *dinp, const float *dout, const float *inp, long N);

/* Causal multi-head attention of the Tq queries at the LAST Tq positions
 * (t = T-Tq .. T-1) over the keys and values at positions 0..T-1: a query at
 * position t sees keys 0..t. Tq = T is ordinary causal self-attention;
 * Tq = 1 is what a loss at the last position needs from the last layer.
 *   q[B,Tq,C]  k[B,T,C]  v[B,T,C]  (head h owns columns h*HS .. h*HS+HS-1)
 *   att[B,NH,Tq,T]  the softmax weights (0 where masked), kept for backward
 *   out[B,Tq,C]     each head's weighted sum of values, heads side by side
 * Scores are scaled by 1/sqrt(HS). */
void fl_attention_forward(float *out, float *att, const float *q, const float *k,
                          const float *v, int B, int T, int Tq, int NH, int HS);
/* dscore[B,NH,Tq,T]: scratch for the gradients of the scores, the size of
 * att, owned by the caller (allocated with the activations), so that a
 * backward pass allocates nothing and cannot fail. */
void fl_attention_backward(float *dq, float *dk, float *dv, float *dscore, const float *dout,
                           const float *att, const float *q, const float *k,
                           const float *v, int B, int T, int Tq, int NH, int HS);

#endif
