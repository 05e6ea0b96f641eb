/* lm_ft_step.c: one fine-tuning step of the language model on a batch of
 * the new task's training prompts, for every method of lmft.h: build the
 * batch's sequences (fixed targets, pool samples, pairs, or completions
 * drawn from the policy), weight each completion token's -log p, and
 * backpropagate. Every method is a weighted log-likelihood (objectives.h),
 * plus the exact KL penalty for grpo-kl. */
#include "lmft_int.h"

#include "forgetlab/core/error.h"
#include "forgetlab/train/objectives.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { POOL_CHUNK = 64 };

static int is_pooled(fl_lmft_method m) { return m == FL_LMFT_RFT || fl_lmft_taught(m) || m == FL_LMFT_SIMPO; }

/* `pool` samples of every training prompt from src at temperature 1, drawn
 * once (seed, FL_STREAM_LABELS), sorted into correct and incorrect. */
static int draw_pool(lmft_step *s, const fl_gpt *src) {
    const int k = s->c->pool, N = s->n * k;
    const char **all = malloc(sizeof(char *) * (size_t)N);
    fl_gpt_cache c;
    int rc = all ? fl_gpt_cache_alloc(&c, src, POOL_CHUNK) : fl_error_set("out of memory");
    if (rc) {
        free(all);
        return rc;
    }
    for (int i = 0; i < N; i++) all[i] = s->prompt[i / k];
    fl_rng r;
    fl_rng_init(&r, s->c->seed, FL_STREAM_LABELS);
    const fl_sample_opts o = {1.0, 0, FL_NEWTASK_MAX_NEW, FL_NEWTASK_STOP, fl_rng_u64(&r)};
    rc = fl_seqset_sample(&s->pool, src, &c, all, N, &o, NULL);
    fl_gpt_cache_free(&c);
    free(all);
    s->ok = malloc(sizeof(int) * (size_t)N), s->bad = malloc(sizeof(int) * (size_t)N);
    s->ok_at = malloc(sizeof(int) * (size_t)(s->n + 1)), s->bad_at = malloc(sizeof(int) * (size_t)(s->n + 1));
    if (rc == 0 && (!s->ok || !s->bad || !s->ok_at || !s->bad_at)) rc = fl_error_set("out of memory");
    int nok = 0, nbad = 0;
    for (int j = 0; j < s->n && rc == 0; j++) {
        s->ok_at[j] = nok, s->bad_at[j] = nbad;
        for (int i = j * k; i < (j + 1) * k; i++) {
            char comp[16];
            fl_seqset_completion(&s->pool, i, comp, sizeof comp);
            if (fl_newtask_check(s->task, s->prompt[j], comp) == 1) s->ok[nok++] = i;
            else s->bad[nbad++] = i;
        }
    }
    if (rc == 0) s->ok_at[s->n] = nok, s->bad_at[s->n] = nbad;
    return rc;
}

int lmft_pool_unusable(const lmft_step *s) {
    if (!is_pooled(s->c->method)) return 0;
    int n = 0;
    for (int j = 0; j < s->n; j++)
        n += s->c->method == FL_LMFT_SIMPO ? s->bad_at[j + 1] == s->bad_at[j] : s->ok_at[j + 1] == s->ok_at[j];
    return n;
}

int lmft_step_init(lmft_step *s, const fl_lmft_config *c, fl_gpt *m, const fl_gpt *base, const fl_gpt *src,
                   const fl_newtask *task) {
    memset(s, 0, sizeof *s);
    s->c = c, s->m = m, s->base = base, s->task = task, s->n = task->n_train;
    fl_seqset_init(&s->pool), fl_seqset_init(&s->bs);
    const int on = fl_lmft_on_policy(c->method);
    /* Sequences per step: G per prompt on-policy, two per prompt for
     * SimPO's pairs, else one. The longest: "word:" + 3 letters and a
     * completion of at most FL_NEWTASK_MAX_NEW bytes. */
    s->cap = c->batch * (on ? c->group_size : c->method == FL_LMFT_SIMPO ? 2 : 1);
    s->T = 8 + FL_NEWTASK_MAX_NEW;
    s->prompt = malloc(sizeof *s->prompt * (size_t)s->n);
    const size_t N = (size_t)s->cap * s->T;
    s->tok = malloc(sizeof(int) * N), s->tgt = malloc(sizeof(int) * N);
    s->w = malloc(sizeof(float) * N), s->kw = malloc(sizeof(float) * N);
    s->start = malloc(sizeof(int) * (size_t)s->cap), s->len = malloc(sizeof(int) * (size_t)s->cap);
    s->rew = malloc(sizeof(float) * (size_t)s->cap), s->adv = malloc(sizeof(float) * (size_t)s->cap);
    if (!s->prompt || !s->tok || !s->tgt || !s->w || !s->kw || !s->start || !s->len || !s->rew || !s->adv)
        return fl_error_set("out of memory");
    for (int j = 0; j < s->n; j++) fl_newtask_prompt_text(task, task->train[j], s->prompt[j]);
    if (fl_gpt_acts_alloc(&s->a, m, s->cap, s->T)) return -1;
    if (c->method == FL_LMFT_GRPO_KL && fl_gpt_acts_alloc(&s->a0, base, s->cap, s->T)) return -1;
    if ((on || c->method == FL_LMFT_SFT_SELF) && fl_gpt_cache_alloc(&s->cache, m, s->cap)) return -1;
    if (is_pooled(c->method)) return draw_pool(s, src);
    return 0;
}

void lmft_step_free(lmft_step *s) {
    fl_seqset_free(&s->pool), fl_seqset_free(&s->bs);
    fl_gpt_acts_free(&s->a), fl_gpt_acts_free(&s->a0);
    fl_gpt_cache_free(&s->cache);
    free(s->prompt), free(s->ok), free(s->ok_at), free(s->bad), free(s->bad_at);
    free(s->tok), free(s->tgt), free(s->w), free(s->kw), free(s->start), free(s->len), free(s->rew), free(s->adv);
    memset(s, 0, sizeof *s);
}

/* Appends pool sample i (a sequence of prompt j) to the batch, token by
 * token: a sampled byte may be anything, a NUL included. */
static int add_pooled(lmft_step *s, int i) {
    const fl_seqset *p = &s->pool;
    const int *t = p->tok + p->off[i];
    return fl_seqset_add(&s->bs, t, p->plen[i], t + p->plen[i], p->clen[i]);
}

/* One completion of each prompt idx[0 .. B) (G each when G > 1) from model
 * at temperature, appended to the batch. */
static int sample_batch(lmft_step *s, const fl_gpt *model, const int *idx, int B, int G, double temperature,
                        fl_rng *rng) {
    const char **p = malloc(sizeof(char *) * (size_t)B * G);
    if (!p) return fl_error_set("out of memory");
    for (int i = 0; i < B * G; i++) p[i] = s->prompt[idx[i / G]];
    const fl_sample_opts o = {temperature, 0, FL_NEWTASK_MAX_NEW, FL_NEWTASK_STOP, fl_rng_u64(rng)};
    const int rc = fl_seqset_sample(&s->bs, model, &s->cache, p, B * G, &o, NULL);
    free(p);
    return rc;
}

/* The batch's sequences for the offline methods; the prompts a pool cannot
 * serve are skipped. */
static int build_offline(lmft_step *s, const int *idx, int B, fl_rng *rng) {
    const fl_lmft_method m = s->c->method;
    if (m == FL_LMFT_SFT_SELF) return sample_batch(s, s->base, idx, B, 1, 1.0, rng);
    int rc = 0;
    for (int b = 0; b < B && rc == 0; b++) {
        const int j = idx[b];
        char target[8];
        if (m == FL_LMFT_SFT || m == FL_LMFT_SFT_ALT || m == FL_LMFT_SFT_ANY) {
            const int i = s->task->train[j], count = s->task->p[i].count;
            if (m == FL_LMFT_SFT_ANY) fl_newtask_answer(s->task, i, (int)fl_rng_below(rng, (uint32_t)count), target);
            else fl_newtask_target(s->task, i, m == FL_LMFT_SFT_ALT, target);
            rc = fl_seqset_add_text(&s->bs, s->prompt[j], target);
        } else if (m == FL_LMFT_SIMPO) {
            const int nb = s->bad_at[j + 1] - s->bad_at[j];
            if (nb == 0) continue;
            fl_newtask_target(s->task, s->task->train[j], 0, target);
            rc = fl_seqset_add_text(&s->bs, s->prompt[j], target);
            if (rc == 0) rc = add_pooled(s, s->bad[s->bad_at[j] + (int)fl_rng_below(rng, (uint32_t)nb)]);
        } else {
            const int nk = s->ok_at[j + 1] - s->ok_at[j];
            if (nk == 0) continue;
            rc = add_pooled(s, s->ok[s->ok_at[j] + (int)fl_rng_below(rng, (uint32_t)nk)]);
        }
    }
    return rc;
}

/* G completions of each prompt from the policy, their rewards and
 * advantages (Dr. GRPO's centring, or the reward itself for reinforce). */
static int build_on_policy(lmft_step *s, const int *idx, int B, fl_rng *rng, double *reward) {
    const int G = s->c->group_size;
    const int rc = sample_batch(s, s->m, idx, B, G, s->c->temperature, rng);
    if (rc) return rc;
    double sum = 0;
    for (int i = 0; i < B * G; i++) {
        char comp[16];
        fl_seqset_completion(&s->bs, i, comp, sizeof comp);
        s->rew[i] = fl_newtask_check(s->task, s->prompt[idx[i / G]], comp) == 1;
        sum += s->rew[i];
    }
    *reward = sum / (B * G);
    for (int b = 0; b < B; b++) {
        if (s->c->method == FL_LMFT_REINFORCE) memcpy(s->adv + b * G, s->rew + b * G, sizeof(float) * (size_t)G);
        else fl_group_centered(s->adv + b * G, s->rew + b * G, G);
    }
    return 0;
}

int lmft_step_grad(lmft_step *s, const int *idx, int B, fl_rng *rng, double *loss, double *reward) {
    const fl_lmft_config *c = s->c;
    const fl_lmft_method meth = c->method;
    const int on = fl_lmft_on_policy(meth), V = s->m->cfg.vocab;
    fl_seqset_clear(&s->bs);
    *reward = NAN, *loss = 0;
    fl_blob_zero_grads(&s->m->blob);
    int rc = on ? build_on_policy(s, idx, B, rng, reward) : build_offline(s, idx, B, rng);
    const int n = s->bs.n;
    if (rc) return rc;
    if (n == 0) return 1; /* every prompt of the batch left out (rft, distill, simpo) */
    const int T = fl_seqset_batch(&s->bs, 0, n, s->tok, s->tgt, s->w);
    const size_t N = (size_t)n * T;
    fl_gpt_forward(s->m, &s->a, s->tok, s->tgt, s->w, n, T);
    memset(s->a.dlogits, 0, sizeof(float) * N * V);
    if (on) {
        /* Each completion token weighted by its sequence's advantage, over
         * the constant batch x G x max_new (Dr. GRPO). */
        const double Z = (double)n * FL_NEWTASK_MAX_NEW;
        memcpy(s->kw, s->w, sizeof(float) * N);
        for (size_t i = 0; i < N; i++) s->w[i] *= s->adv[i / (size_t)T];
        *loss = fl_seq_nll_grad(s->a.dlogits, s->a.probs, s->a.nll, s->tgt, s->w, Z, (int)N, V);
        if (meth == FL_LMFT_GRPO_KL) {
            fl_gpt_forward(s->base, &s->a0, s->tok, s->tgt, NULL, n, T);
            *loss += c->kl_beta / Z *
                     fl_seq_kl_grad(s->a.dlogits, s->a.probs, s->a.logits, s->a0.logits, s->kw, c->kl_beta, Z, (int)N, V);
        }
    } else if (meth == FL_LMFT_SIMPO) {
        for (int i = 0; i < n; i++) s->start[i] = i * T + s->bs.plen[i] - 1, s->len[i] = s->bs.clen[i];
        *loss = fl_simpo_seq_weights(s->w, (int)N, s->a.nll, s->start, s->len, n / 2, c->simpo_beta, c->simpo_gamma);
        fl_seq_nll_grad(s->a.dlogits, s->a.probs, s->a.nll, s->tgt, s->w, 1.0, (int)N, V);
    } else {
        /* SFT: the mean -log p over the batch's completion tokens. */
        double Z = 0;
        for (size_t i = 0; i < N; i++) Z += s->w[i];
        *loss = fl_seq_nll_grad(s->a.dlogits, s->a.probs, s->a.nll, s->tgt, s->w, Z, (int)N, V);
    }
    fl_gpt_backward_logits(s->m, &s->a);
    return 0;
}
