/* lm_seqs.c: the draws and scores every language-model measurement is
 * built on (lm_measure_int.h): one seed per purpose, completions sampled
 * from a model, and a model's log-probabilities along a set of sequences. */
#include "lm_measure_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"

#include <stdlib.h>

uint64_t lm_draw_seed(uint64_t seed, int purpose) {
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_EVAL);
    uint64_t v = 0;
    for (int i = 0; i <= purpose; i++) v = fl_rng_u64(&r);
    return v;
}

/* Each of n prompts k times, in order. */
static const char **repeat(const char **p, int n, int k) {
    const char **r = malloc(sizeof(char *) * (size_t)(n * k > 0 ? n * k : 1));
    if (r)
        for (int i = 0; i < n * k; i++) r[i] = p[i / k];
    return r;
}

int lm_sample_set(fl_seqset *s, const fl_gpt *m, const char **p, int n, int k, double temperature, int stop,
                  int max_new, uint64_t seed) {
    fl_gpt_cache c;
    const char **all = repeat(p, n, k);
    if (!all) return fl_error_set("out of memory");
    int rc = fl_gpt_cache_alloc(&c, m, LM_CHUNK);
    const fl_sample_opts o = {temperature, 0, max_new, stop, seed};
    fl_seqset_clear(s);
    if (rc == 0) rc = fl_seqset_sample(s, m, &c, all, n * k, &o, NULL);
    fl_gpt_cache_free(&c);
    free(all);
    return rc;
}

int lm_score(const fl_gpt *m, const fl_seqset *s, float *logp, float *tlp, float *hid) {
    fl_gpt_acts a;
    if (fl_gpt_acts_alloc(&a, m, LM_CHUNK, fl_seqset_max_t(s))) return -1;
    const int rc = fl_seqset_score(s, m, &a, LM_CHUNK, logp, tlp, hid);
    fl_gpt_acts_free(&a);
    return rc;
}
