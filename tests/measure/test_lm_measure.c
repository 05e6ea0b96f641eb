/* test_lm_measure.c: the sequence forward KL of the language model's
 * measurements (lm_measure.h) on a pair of tiny models whose sequence KL is
 * computable exactly by enumerating every completion: along samples of
 * pi_0, the per-position exact estimator and the Monte-Carlo one both
 * agree with it within their sampling error, the exact one with the
 * smaller error; the scoring of sequences (seqset.h) gives log-
 * probabilities that sum to one over the completions; and the chain rule's
 * parts (fl_kl_chain_parts), with "correct" the completions that begin
 * with token 0, equal the enumerated conditional KLs, and estimated from
 * the samples as the measurement does (the correct side enumerated, the
 * wrong side from the samples) agree with them within sampling error. */
#include "testutil.h"

#include "forgetlab/measure/lm_measure.h"
#include "forgetlab/nn/seqset.h"

#include <math.h>
#include <stdlib.h>

enum { V = 4, STOP = 3, MAXNEW = 3, NSAMPLES = 4000 };

static void tiny(fl_gpt *m, uint64_t seed, double scale) {
    const fl_gpt_config c = {V, 8, 1, 8, 2};
    assert_int_equal(fl_gpt_create(m, &c), 0);
    fl_rng rng;
    fl_rng_init(&rng, seed, FL_STREAM_INIT);
    for (size_t i = 0; i < m->blob.n; i++) m->blob.params[i] = (float)(scale * fl_rng_normal(&rng));
}

/* Every completion of at most MAXNEW tokens that ends at STOP or at the
 * length limit (STOP nowhere before its end). */
static void enumerate(fl_seqset *s, const int *prompt, int plen) {
    for (int L = 1; L <= MAXNEW; L++) {
        int total = 1;
        for (int i = 0; i < L; i++) total *= V;
        for (int code = 0; code < total; code++) {
            int y[MAXNEW], c = code, ok = 1;
            for (int i = 0; i < L; i++) y[i] = c % V, c /= V;
            for (int i = 0; i < L - 1; i++) ok &= y[i] != STOP;
            if (L < MAXNEW) ok &= y[L - 1] == STOP;
            if (ok) assert_int_equal(fl_seqset_add(s, prompt, plen, y, L), 0);
        }
    }
}

/* Each sequence's log-probability under m: the sum of its tokens'. */
static double *seq_logp(const fl_gpt *m, const fl_seqset *s) {
    fl_gpt_acts a;
    float *t = malloc(sizeof(float) * (size_t)s->rows);
    double *lp = calloc((size_t)s->n, sizeof(double));
    assert_int_equal(fl_gpt_acts_alloc(&a, m, 16, fl_seqset_max_t(s)), 0);
    assert_int_equal(fl_seqset_score(s, m, &a, 16, NULL, t, NULL), 0);
    for (int i = 0, row = 0; i < s->n; i++)
        for (int k = 0; k < s->clen[i]; k++) lp[i] += t[row++];
    fl_gpt_acts_free(&a);
    free(t);
    return lp;
}

/* The chain rule of want = KL(pi_0 || pi) over the enumerated set all
 * (log-probabilities l0, l1), C = the completions whose first token is 0;
 * then the wrong side estimated along the samples s (token log-probs t0,
 * t1) as lm_parts_measure does. */
static void check_chain_parts(const fl_seqset *all, const double *l0, const double *l1, double want, const fl_seqset *s,
                              const float *t0, const float *t1) {
    double s0 = 0, s1 = 0, cc = 0, wr = 0;
    for (int i = 0; i < all->n; i++) {
        const double p0 = exp(l0[i]), d = p0 * (l0[i] - l1[i]);
        if (all->tok[all->off[i] + all->plen[i]] == 0) s0 += p0, s1 += exp(l1[i]), cc += d;
        else wr += d;
    }
    /* The conditional distributions' KLs, straight from their definition. */
    double kc = 0, kw = 0;
    for (int i = 0; i < all->n; i++) {
        const double p0 = exp(l0[i]), p1 = exp(l1[i]);
        if (all->tok[all->off[i] + all->plen[i]] == 0) kc += p0 / s0 * log((p0 / s0) / (p1 / s1));
        else kw += p0 / (1 - s0) * log((p0 / (1 - s0)) / (p1 / (1 - s1)));
    }
    const double outcome = s0 * log(s0 / s1) + (1 - s0) * log((1 - s0) / (1 - s1));
    double parts[3];
    fl_kl_chain_parts(&s0, &s1, &cc, &wr, 1, parts);
    print_message("chain rule: outcome %.5f, within correct %.5f, within wrong %.5f (s0 %.3f, s %.3f)\n", parts[0],
                  parts[1], parts[2], s0, s1);
    assert_true(s0 > 0.05 && s0 < 0.95 && kc > 0.01 && kw > 0.01 && outcome > 1e-3); /* every part at work */
    assert_true(fabs(parts[0] - outcome) < 1e-5);
    assert_true(fabs(parts[1] - s0 * kc) < 1e-5);
    assert_true(fabs(parts[2] - (1 - s0) * kw) < 1e-5); /* the enumerated mass is 1 to float precision */
    assert_true(fabs(parts[0] + parts[1] + parts[2] - want) < 1e-5);
    /* The wrong side from pi_0's samples: the mean of [y not in C] log ratio. */
    double m = 0, m2 = 0;
    for (int i = 0, row = 0; i < s->n; i++) {
        double r = 0;
        for (int k = 0; k < s->clen[i]; k++, row++) r += (double)t0[row] - t1[row];
        const double v = s->tok[s->off[i] + s->plen[i]] == 0 ? 0 : r;
        m += v, m2 += v * v;
    }
    const double n = s->n, se = sqrt((m2 - m * m / n) / (n - 1) / n);
    m /= n;
    double est[3];
    fl_kl_chain_parts(&s0, &s1, &cc, &m, 1, est);
    print_message("  estimated within wrong %.5f +- %.5f\n", est[2], se);
    assert_true(fabs(est[2] - parts[2]) < 4 * se);
    assert_true(fabs(est[0] + est[1] + est[2] - want) < 4 * se);
}

static void test_sequence_kl(void **state) {
    (void)state;
    fl_gpt p0, p1;
    tiny(&p0, 1, 0.6);
    tiny(&p1, 1, 0.6);
    fl_rng r;
    fl_rng_init(&r, 2, FL_STREAM_DATA);
    for (size_t i = 0; i < p1.blob.n; i++) p1.blob.params[i] += (float)(0.25 * fl_rng_normal(&r));
    /* The prompt is the one token 1 (the byte 0x01: fl_seqset_sample
     * reads text). The exact KL(pi_0 || pi) over whole completions: */
    const int prompt[1] = {1};
    fl_seqset all;
    fl_seqset_init(&all);
    enumerate(&all, prompt, 1);
    assert_int_equal(all.n, 1 + 3 + 36);
    double *l0 = seq_logp(&p0, &all), *l1 = seq_logp(&p1, &all), mass = 0, want = 0;
    for (int i = 0; i < all.n; i++) mass += exp(l0[i]), want += exp(l0[i]) * (l0[i] - l1[i]);
    assert_true(fabs(mass - 1) < 1e-5);
    assert_true(want > 0.05); /* a difference worth measuring */
    /* Samples of pi_0, and both estimators along them. */
    fl_seqset s;
    fl_seqset_init(&s);
    fl_gpt_cache c;
    assert_int_equal(fl_gpt_cache_alloc(&c, &p0, 256), 0);
    static const char *prompts[NSAMPLES];
    for (int i = 0; i < NSAMPLES; i++) prompts[i] = "\x01";
    const fl_sample_opts o = {1.0, 0, MAXNEW, STOP, 3};
    assert_int_equal(fl_seqset_sample(&s, &p0, &c, prompts, NSAMPLES, &o, NULL), 0);
    fl_gpt_acts a;
    float *lp0 = malloc(sizeof(float) * (size_t)s.rows * V), *lp1 = malloc(sizeof(float) * (size_t)s.rows * V);
    float *t0 = malloc(sizeof(float) * (size_t)s.rows), *t1 = malloc(sizeof(float) * (size_t)s.rows);
    assert_int_equal(fl_gpt_acts_alloc(&a, &p0, 64, fl_seqset_max_t(&s)), 0);
    assert_int_equal(fl_seqset_score(&s, &p0, &a, 64, lp0, t0, NULL), 0);
    assert_int_equal(fl_seqset_score(&s, &p1, &a, 64, lp1, t1, NULL), 0);
    double est[4];
    fl_seq_forward_kl(&s, lp0, lp1, t0, t1, V, est);
    print_message("sequence KL %.5f; exact per position %.5f +- %.5f; Monte Carlo %.5f +- %.5f\n", want, est[0],
                  est[1], est[2], est[3]);
    assert_true(fabs(est[0] - want) < 4 * est[1]);
    assert_true(fabs(est[2] - want) < 4 * est[3]);
    assert_true(est[1] < est[3]);
    check_chain_parts(&all, l0, l1, want, &s, t0, t1);
    fl_gpt_acts_free(&a);
    fl_gpt_cache_free(&c);
    free(lp0), free(lp1), free(t0), free(t1), free(l0), free(l1);
    fl_seqset_free(&s), fl_seqset_free(&all);
    fl_gpt_free(&p0), fl_gpt_free(&p1);
}

TU_MAIN(cmocka_unit_test(test_sequence_kl))
