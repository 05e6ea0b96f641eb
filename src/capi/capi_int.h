/* capi_int.h: what the C API's files share: the model handle behind
 * capi.h's opaque fl_capi_model. */
#ifndef FORGETLAB_CAPI_INT_H
#define FORGETLAB_CAPI_INT_H

#include "forgetlab/capi/capi.h"
#include "forgetlab/nn/gpt.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/nn/transformer.h"

/* One architecture's model is built, the others stay zero; blob points
 * into the one that is. */
struct fl_capi_model {
    char arch[16];
    fl_mlp mlp;
    fl_transformer tf;
    fl_gpt gpt;
    fl_blob *blob;
    char *config;
};

#endif
