/* safetensors.h: model weights in the Hugging Face safetensors format.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON header
 * ({"name": {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}, ...,
 * "__metadata__": {"key": "string value", ...}}), then the raw little-endian
 * tensor data. forgetlab writes and reads F32 only. */
#ifndef FORGETLAB_SAFETENSORS_H
#define FORGETLAB_SAFETENSORS_H

#include <stdint.h>

#define FL_ST_MAX_DIMS 8

typedef struct {
    char *name;
    int ndim;
    int64_t shape[FL_ST_MAX_DIMS];
    int64_t numel;
    float *data;          /* writer: borrowed; reader: owned */
} fl_st_tensor;

typedef struct {
    int ntensors;
    fl_st_tensor *tensors;
    int nmeta;
    char **meta_keys, **meta_values;
} fl_safetensors;

/* Writes the tensors (in the given order) and metadata pairs atomically.
 * meta_keys/meta_values may be NULL when nmeta is 0. */
int fl_safetensors_write(const char *path, const fl_st_tensor *tensors, int ntensors,
                         const char *const *meta_keys, const char *const *meta_values,
                         int nmeta);

/* Reads a file. Validates the header length against the file size, the JSON,
 * each dtype (F32 only), shape, and data_offsets (within the data section,
 * consistent with the shape, non-overlapping) before allocating or reading
 * tensor data. */
int fl_safetensors_read(const char *path, fl_safetensors *st);
void fl_safetensors_free(fl_safetensors *st);

/* NULL when absent. */
const fl_st_tensor *fl_safetensors_get(const fl_safetensors *st, const char *name);
const char *fl_safetensors_meta(const fl_safetensors *st, const char *key);

#endif
