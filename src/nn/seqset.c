/* seqset.c: sets of prompt + completion token sequences (seqset.h): built
 * from text or by sampling, batched for the forward pass, scored. */
#include "forgetlab/nn/seqset.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fl_seqset_init(fl_seqset *s) { memset(s, 0, sizeof *s); }

void fl_seqset_free(fl_seqset *s) {
    free(s->off), free(s->plen), free(s->clen), free(s->tok);
    fl_seqset_init(s);
}

void fl_seqset_clear(fl_seqset *s) { s->n = 0, s->rows = 0; }

static int grow(fl_seqset *s, int more_tok) {
    if (s->n + 1 >= s->cap_n) {
        const int cap = s->cap_n ? 2 * s->cap_n : 256;
        int *off = realloc(s->off, sizeof(int) * (size_t)(cap + 1));
        if (off) s->off = off;
        int *pl = realloc(s->plen, sizeof(int) * (size_t)cap);
        if (pl) s->plen = pl;
        int *cl = realloc(s->clen, sizeof(int) * (size_t)cap);
        if (cl) s->clen = cl;
        if (!off || !pl || !cl) return fl_error_set("sequences: out of memory");
        s->cap_n = cap;
    }
    const int used = s->n ? s->off[s->n] : 0;
    if (used + more_tok > s->cap_tok) {
        int cap = s->cap_tok ? 2 * s->cap_tok : 4096;
        while (cap < used + more_tok) cap *= 2;
        int *t = realloc(s->tok, sizeof(int) * (size_t)cap);
        if (!t) return fl_error_set("sequences: out of memory");
        s->tok = t, s->cap_tok = cap;
    }
    return 0;
}

int fl_seqset_add(fl_seqset *s, const int *prompt, int plen, const int *comp, int clen) {
    if (plen < 1 || clen < 1) return fl_error_set("a sequence needs a prompt and a completion (%d, %d tokens)", plen, clen);
    if (grow(s, plen + clen)) return -1;
    if (s->n == 0) s->off[0] = 0;
    int *t = s->tok + s->off[s->n];
    memcpy(t, prompt, sizeof(int) * (size_t)plen);
    memcpy(t + plen, comp, sizeof(int) * (size_t)clen);
    s->plen[s->n] = plen, s->clen[s->n] = clen;
    s->off[s->n + 1] = s->off[s->n] + plen + clen;
    s->n++, s->rows += clen;
    return 0;
}

int fl_seqset_add_text(fl_seqset *s, const char *prompt, const char *comp) {
    int p[64], c[64];
    const int np = (int)strlen(prompt), nc = (int)strlen(comp);
    if (np > 64 || nc > 64) return fl_error_set("sequence longer than 64 bytes");
    for (int i = 0; i < np; i++) p[i] = (unsigned char)prompt[i];
    for (int i = 0; i < nc; i++) c[i] = (unsigned char)comp[i];
    return fl_seqset_add(s, p, np, c, nc);
}

static void text_of(const int *t, int n, char *buf, size_t cap) {
    size_t k = 0;
    for (int i = 0; i < n && k + 1 < cap; i++) buf[k++] = (char)t[i];
    if (cap) buf[k] = '\0';
}

void fl_seqset_completion(const fl_seqset *s, int i, char *buf, size_t n) {
    text_of(s->tok + s->off[i] + s->plen[i], s->clen[i], buf, n);
}

void fl_seqset_prompt(const fl_seqset *s, int i, char *buf, size_t n) { text_of(s->tok + s->off[i], s->plen[i], buf, n); }

int fl_seqset_sample(fl_seqset *s, const fl_gpt *m, fl_gpt_cache *c, const char *const *prompts, int n,
                     const fl_sample_opts *o, float *logp) {
    const int chunk = c->B, M = o->max_new;
    int *buf = malloc(sizeof(int) * (size_t)chunk * 64), **pp = malloc(sizeof(int *) * (size_t)chunk);
    int *plen = malloc(sizeof(int) * (size_t)chunk), *out = malloc(sizeof(int) * (size_t)chunk * M);
    int *olen = malloc(sizeof(int) * (size_t)chunk);
    float *lp = malloc(sizeof(float) * (size_t)chunk * M);
    int rc = buf && pp && plen && out && olen && lp ? 0 : fl_error_set("sample: out of memory");
    size_t at = 0;
    for (int i0 = 0; i0 < n && rc == 0; i0 += chunk) {
        const int B = n - i0 < chunk ? n - i0 : chunk;
        for (int b = 0; b < B && rc == 0; b++) {
            pp[b] = buf + (size_t)b * 64;
            plen[b] = (int)strlen(prompts[i0 + b]);
            if (plen[b] > 64) rc = fl_error_set("prompt %d longer than 64 bytes", i0 + b);
            for (int j = 0; j < plen[b] && rc == 0; j++) pp[b][j] = (unsigned char)prompts[i0 + b][j];
        }
        fl_sample_opts oc = *o;
        oc.seed = o->seed + (uint64_t)(i0 / chunk);
        if (rc == 0) rc = fl_gpt_sample(m, c, (const int *const *)pp, plen, B, &oc, out, olen, lp);
        for (int b = 0; b < B && rc == 0; b++) {
            if (olen[b] == 0) continue; /* cannot happen: max_new >= 1 */
            rc = fl_seqset_add(s, pp[b], plen[b], out + (size_t)b * M, olen[b]);
            if (logp) memcpy(logp + at, lp + (size_t)b * M, sizeof(float) * (size_t)olen[b]);
            at += (size_t)olen[b];
        }
    }
    free(buf), free(pp), free(plen), free(out), free(olen), free(lp);
    return rc;
}

int fl_seqset_max_t(const fl_seqset *s) {
    int T = 0;
    for (int i = 0; i < s->n; i++) T = s->plen[i] + s->clen[i] - 1 > T ? s->plen[i] + s->clen[i] - 1 : T;
    return T;
}

int fl_seqset_batch(const fl_seqset *s, int i0, int B, int *tok, int *tgt, float *w) {
    int T = 0;
    for (int b = 0; b < B; b++) {
        const int L = s->plen[i0 + b] + s->clen[i0 + b] - 1;
        T = L > T ? L : T;
    }
    for (int b = 0; b < B; b++) {
        const int *q = s->tok + s->off[i0 + b], P = s->plen[i0 + b], L = P + s->clen[i0 + b] - 1;
        for (int t = 0; t < T; t++) {
            const size_t i = (size_t)b * T + t;
            tok[i] = t < L ? q[t] : 0;
            tgt[i] = t < L ? q[t + 1] : 0;
            if (w) w[i] = t >= P - 1 && t < L ? 1.0f : 0.0f;
        }
    }
    return T;
}

int fl_seqset_score(const fl_seqset *s, const fl_gpt *m, fl_gpt_acts *a, int B, float *logp, float *tok_logp,
                    float *hidden) {
    const int V = m->cfg.vocab, C = m->cfg.n_embd, Tmax = fl_seqset_max_t(s);
    int *tok = malloc(sizeof(int) * (size_t)B * (Tmax + 1)), *tgt = malloc(sizeof(int) * (size_t)B * (Tmax + 1));
    float *w = malloc(sizeof(float) * (size_t)B * (Tmax + 1));
    int rc = tok && tgt && w ? 0 : fl_error_set("score: out of memory");
    size_t row = 0;
    for (int i0 = 0; i0 < s->n && rc == 0; i0 += B) {
        const int nb = s->n - i0 < B ? s->n - i0 : B, T = fl_seqset_batch(s, i0, nb, tok, tgt, w);
        fl_gpt_forward(m, a, tok, tgt, w, nb, T);
        for (size_t i = 0; i < (size_t)nb * T; i++) {
            if (w[i] == 0) continue;
            const float *z = a->logits + i * V;
            /* log-softmax in double: exact where the float probs underflow. */
            double mx = z[0], sum = 0;
            for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            for (int v = 0; v < V; v++) sum += exp((double)z[v] - mx);
            const double c = mx + log(sum);
            if (logp)
                for (int v = 0; v < V; v++) logp[row * V + v] = (float)(z[v] - c);
            if (tok_logp) tok_logp[row] = (float)(z[tgt[i]] - c);
            if (hidden) memcpy(hidden + row * C, a->lnf + i * C, sizeof(float) * (size_t)C);
            row++;
        }
    }
    free(tok), free(tgt), free(w);
    return rc;
}
