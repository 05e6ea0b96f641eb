/* lm_skills.c: the language model's prior skills scored (lm_measure.h):
 * each skill's exact match of greedy completions of its test prompts and
 * the held-out text's bits per byte; what lm-pretrain logs and every
 * fine-tuning checkpoint's forgetting is measured by. */
#include "forgetlab/measure/lm_measure.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fl_lm_evaluate(const fl_gpt *m, const fl_lm_data *d, int n, fl_lm_eval *out) {
    enum { MAXNEW = 8 };
    const int T = m->cfg.ctx;
    fl_gpt_cache cache;
    if (fl_gpt_cache_alloc(&cache, m, n)) return -1;
    int *buf = malloc(sizeof(int) * (size_t)n * 32), **prompts = malloc(sizeof(int *) * (size_t)n);
    int *plen = malloc(sizeof(int) * (size_t)n), *toks = malloc(sizeof(int) * (size_t)n * MAXNEW);
    int *len = malloc(sizeof(int) * (size_t)n), rc = 0;
    if (!buf || !prompts || !plen || !toks || !len) rc = fl_error_set("out of memory");
    const fl_sample_opts greedy = {0.0, 0, MAXNEW, FL_LM_STOP, 0};
    for (int k = 0; k < FL_NSKILLS && rc == 0; k++) {
        const fl_skill_set *s = &d->skill[k];
        const int m_n = n < s->n_test ? n : s->n_test;
        for (int i = 0; i < m_n; i++) {
            const char *p = s->ex[s->test[i]].prompt;
            prompts[i] = buf + (size_t)i * 32;
            plen[i] = (int)strlen(p);
            for (int j = 0; j < plen[i]; j++) prompts[i][j] = (unsigned char)p[j];
        }
        rc = fl_gpt_sample(m, &cache, (const int *const *)prompts, plen, m_n, &greedy, toks, len, NULL);
        int hits = 0;
        for (int i = 0; i < m_n && rc == 0; i++) {
            char completion[MAXNEW + 1];
            for (int j = 0; j < len[i]; j++) completion[j] = (char)toks[(size_t)i * MAXNEW + j];
            completion[len[i]] = '\0';
            hits += fl_skill_check((fl_skill)k, s->ex[s->test[i]].prompt, completion) == 1;
        }
        out->acc[k] = m_n ? (double)hits / m_n : NAN;
    }
    /* Bits per byte over held-out windows of the context, back to back. */
    fl_gpt_acts a;
    const int W = (int)((d->text.n_heldout - 1) / (size_t)T) < 64 ? (int)((d->text.n_heldout - 1) / (size_t)T) : 64;
    double total = 0;
    if (rc == 0 && W > 0 && fl_gpt_acts_alloc(&a, m, 1, T) == 0) {
        int *tok = malloc(sizeof(int) * (size_t)T), *tgt = malloc(sizeof(int) * (size_t)T);
        for (int w = 0; w < W && tok && tgt; w++) {
            for (int i = 0; i < T; i++)
                tok[i] = d->text.heldout[(size_t)w * T + i], tgt[i] = d->text.heldout[(size_t)w * T + i + 1];
            total += fl_gpt_forward(m, &a, tok, tgt, NULL, 1, T);
        }
        free(tok), free(tgt);
        fl_gpt_acts_free(&a);
        out->bpb = total / W / log(2.0);
    } else if (rc == 0) {
        out->bpb = NAN;
    }
    free(buf), free(prompts), free(plen), free(toks), free(len);
    fl_gpt_cache_free(&cache);
    return rc;
}
