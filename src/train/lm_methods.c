/* lm_methods.c: the language model's fine-tuning methods (lm_finetune.h)
 * by name, and what kind each is: on-policy, taught, supervised. The run
 * (lm_finetune.c) and its steps (lm_ft_step.c) both read it. */
#include "lmft_int.h"

#include "forgetlab/core/error.h"

#include <string.h>

static const char *const METHOD_NAMES[FL_LMFT_NMETHODS] = {
    "sft", "sft-alt", "rft", "grpo", "grpo-kl", "reinforce", "simpo", "distill", "sft-teacher", "sft-any", "sft-self"};

const char *fl_lmft_method_name(fl_lmft_method m) { return m >= 0 && m < FL_LMFT_NMETHODS ? METHOD_NAMES[m] : "?"; }

int fl_lmft_method_parse(const char *name, fl_lmft_method *out) {
    for (int i = 0; i < FL_LMFT_NMETHODS; i++)
        if (strcmp(name, METHOD_NAMES[i]) == 0) return *out = (fl_lmft_method)i, 0;
    return fl_error_set("unknown method '%s' (expected " LMFT_METHOD_LIST ")", name);
}

int fl_lmft_on_policy(fl_lmft_method m) { return m == FL_LMFT_GRPO || m == FL_LMFT_GRPO_KL || m == FL_LMFT_REINFORCE; }
int fl_lmft_taught(fl_lmft_method m) { return m == FL_LMFT_DISTILL || m == FL_LMFT_SFT_TEACHER; }
int fl_lmft_is_sft(fl_lmft_method m) { return !fl_lmft_on_policy(m) && m != FL_LMFT_SIMPO; }

