/* checkpoint.h: saving and loading models as safetensors files.
 *
 * A checkpoint holds the tensors under their PyTorch names and, in the
 * header's __metadata__, "format" = "forgetlab", "arch" = "mlp", "spec"
 * (e.g. "785-512-256-10"), "activation" = "relu", "version", and "config"
 * (the run's config.json as a string), so a file is self-describing. A file
 * without that metadata (written by PyTorch, say) loads as an MLP when its
 * tensors are exactly layers.{i}.weight / layers.{i}.bias with chaining
 * shapes (ReLU between the layers); a transformer's head count is not in
 * its shapes, so one needs the metadata. Every loaded weight must be
 * finite: the error names the tensor and the index. */
#ifndef FORGETLAB_CHECKPOINT_H
#define FORGETLAB_CHECKPOINT_H

#include "forgetlab/nn/gpt.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/nn/transformer.h"

#include <stddef.h>

/* Writes the model atomically. config_json may be NULL. */
int fl_mlp_save(const char *path, const fl_mlp *m, const char *config_json);

/* Creates *m from a checkpoint: checks the metadata's arch and spec against
 * the tensors (names, shapes) before copying. PATH may be a run directory
 * (then DIR/model.safetensors is read). If config_json is not NULL it
 * receives a malloc'ed copy of the stored config ("{}" if none). */
int fl_mlp_load(const char *path, fl_mlp *m, char **config_json);

/* The same for the transformer, with metadata arch "transformer". */
int fl_tf_save(const char *path, const fl_transformer *m, const char *config_json);
int fl_tf_load(const char *path, fl_transformer *m, char **config_json);
/* The language model under nanoGPT's names, lm_head.weight written too (a
 * copy of transformer.wte.weight, which it must equal when loaded), so
 * nanoGPT's GPT loads the file's tensors as its state dict. */
int fl_gpt_save(const char *path, const fl_gpt *m, const char *config_json);
int fl_gpt_load(const char *path, fl_gpt *m, char **config_json);

/* Which model PATH (a run directory or a file) holds, without building it:
 * its metadata's arch ("mlp", "transformer", "gpt"), or "mlp" for a file
 * without metadata whose tensors are an MLP's; -1 naming the file when it
 * is missing, not safetensors, or neither. Lets a command that takes
 * several kinds of model pick the loader. */
int fl_checkpoint_arch(const char *path, char *arch, size_t n);

#endif
