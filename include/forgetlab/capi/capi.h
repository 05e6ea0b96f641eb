/* capi.h: the C API of the Python package (python/forgetlab, through
 * ctypes): plain C types, errors as return codes (-1, or NULL) with their
 * message from fl_capi_error. The shared library build/libforgetlab.so
 * exports these functions and nothing else (src/capi/capi.map); the static
 * library and the CLI do not need them.
 *
 * Arrays are C-ordered: float32 for inputs, logits and scores, int32 for
 * tokens, labels and counts, float64 for statistics. */
#ifndef FORGETLAB_CAPI_H
#define FORGETLAB_CAPI_H

#include <stdint.h>

/* The library's version ("0.1.0"). */
const char *fl_capi_version(void);
/* The message of the last error of this thread. */
const char *fl_capi_error(void);
/* Threads for BLAS and OpenMP (0: every core); the count in use after. */
int fl_capi_set_threads(int n);
/* Where the library's notices go (log.h): fn(level, line, ctx) with level
 * 0 (information) or 1 (warning) and the line with its newline; NULL: back
 * to stderr. */
void fl_capi_set_log(void (*fn)(int level, const char *line, void *ctx), void *ctx);
/* What the library runs on, as JSON text (free with fl_capi_free_text):
 * config.json's "environment" object and "blas_core_suggested", the core
 * the CLI would switch to ("" when the loaded one is right). A process that
 * loaded OpenBLAS cannot change its kernels: set OPENBLAS_CORETYPE before
 * the library first loads (blas.h). NULL when out of memory. */
char *fl_capi_environment(void);

/* ---- Divergences ------------------------------------------------------ */

/* The divergences of a fine-tuned model's logits z1 from its base's z0,
 * both [n, V], every value finite: out[5] = forward KL KL(pi_0 || pi),
 * reverse KL, total variation, L2 and Jensen-Shannon, each averaged over
 * the n rows (divergence.h). */
int fl_capi_divergences(const float *z0, const float *z1, int n, int V, double *out);

/* ---- Models (capi_model.c) ------------------------------------------- */

/* Any forgetlab checkpoint (a run directory or a .safetensors file): an
 * MLP, a grok transformer or a language model, or a file of PyTorch
 * tensors an MLP's shapes describe (checkpoint.h). NULL on error. */
typedef struct fl_capi_model fl_capi_model;
fl_capi_model *fl_capi_load(const char *path);
void fl_capi_free(fl_capi_model *m);
/* "mlp", "transformer" or "gpt"; the run's config.json ("{}" if none). */
const char *fl_capi_arch(const fl_capi_model *m);
const char *fl_capi_config(const fl_capi_model *m);
/* shape[0]: the input width (MLP: features; transformer, gpt: the longest
 * sequence); shape[1]: the outputs per position (classes or vocabulary);
 * shape[2]: positions a transformer scores per sequence (1 or its
 * context; 1 for an MLP, T for a language model given T tokens);
 * shape[3]: the token vocabulary (0 for an MLP). */
void fl_capi_shape(const fl_capi_model *m, int *shape);
/* MLP: logits[n, out] of x[n, in]. */
int fl_capi_logits(const fl_capi_model *m, const float *x, int n, float *logits);
/* Transformer: logits[n, positions, out] of tok[n, ctx] (T = ctx).
 * Language model: logits[n, T, vocab] of tok[n, T], 1 <= T <= ctx. */
int fl_capi_logits_tokens(const fl_capi_model *m, const int32_t *tok, int n, int T, float *logits);
/* The weights, under their PyTorch names: tensor i's name, its shape
 * (returns ndim, shape[4]) and its values, in the model's own memory
 * (writes change the model; they live as long as it does). */
int fl_capi_ntensors(const fl_capi_model *m);
const char *fl_capi_tensor_name(const fl_capi_model *m, int i);
int fl_capi_tensor_shape(const fl_capi_model *m, int i, int64_t *shape);
float *fl_capi_tensor_data(fl_capi_model *m, int i);
/* Writes the model atomically as a forgetlab checkpoint (its config kept);
 * every weight must be finite. */
int fl_capi_save(const fl_capi_model *m, const char *path);

/* Everything `forgetlab measure --base --model` prints, as its JSON text
 * (malloc'd; free with fl_capi_free_text), for two MLPs of the RL's Razor
 * setting (785 inputs, 10 outputs): accuracies, forgetting and every
 * predictor on the datasets in data_dir (NULL: $FORGETLAB_DATA, else the
 * source tree's), the Fisher from fisher_n prior-task images (0: the
 * commands' default) with label draws from seed. NULL on error. */
char *fl_capi_measure(const fl_capi_model *base, const fl_capi_model *m, const char *data_dir, int fisher_n,
                      uint64_t seed);
void fl_capi_free_text(char *text);

/* ---- Circuits of an MLP (capi_circuits.c) ------------------------------ */

/* Components: every hidden unit, then every hidden layer (attribution.h);
 * the name of component c into buf. */
int fl_capi_ncomponents(const fl_capi_model *m);
int fl_capi_component_name(const fl_capi_model *m, int c, char *buf, int n);
/* Per-example attribution scores[n, ncomponents] of the MLP on x[n, in]:
 * method "ap" or "ap-ig" (steps, form "path" or "average"), loss "kl",
 * "ce" or "logit-diff", corruption "within" or "counterfactual" (xc[n, in]
 * the corrupted inputs) or "zero" (xc NULL). label[n]: the target classes
 * of ce and logit-diff (NULL for kl); parity != 0 scores ParityMNIST's way
 * (the model's own answer when of the right parity, the other parity's
 * digits as the wrong classes). */
int fl_capi_ap_scores(const fl_capi_model *m, const float *x, const float *xc, const int32_t *label, int n,
                      const char *method, int steps, const char *form, const char *loss, const char *corrupt,
                      int parity, float *scores);
/* Circuit stability of k contiguous subtasks (count[k] examples each) of
 * scores[n, c]: their circuit vectors vec[k, c] (mean scores), Spearman
 * matrix rho[k, k] and out[4] = CS, and, over `draws` random splits of the
 * same sizes (seed), the baseline's mean and 2.5% / 97.5% quantiles (NaN
 * when draws is 0). vec and rho may be NULL. */
int fl_capi_circuit_stability(const float *scores, int c, const int32_t *count, int k, int draws, uint64_t seed,
                              float *vec, double *rho, double *out);
/* Spearman matrix rho[k, k] and CS (out[0]) of k given vectors vec[k, c]. */
int fl_capi_spearman(const float *vec, int k, int c, double *rho, double *out);

#endif
