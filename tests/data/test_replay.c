/* test_replay.c: the reservoir keeps every example of a long stream with
 * the same probability cap / n: over 4,000 independent streams of 1,000
 * examples (fixed seed), the inclusion counts of ten blocks of 100 stream
 * positions pass a chi-square test against the uniform (9 degrees of
 * freedom, p > 0.001), as do the first and last examples' own counts; a
 * buffer fills first, refuses a size of 0, and samples only what it holds. */
#include "testutil.h"

#include "forgetlab/data/replay.h"

#include <math.h>
#include <stdlib.h>

enum { CAP = 100, N = 1000, TRIALS = 4000, BLOCKS = 10 };

static void test_uniform_inclusion(void **state) {
    (void)state;
    fl_rng rng;
    fl_rng_init(&rng, 2024, FL_STREAM_DATA);
    long *count = calloc(N, sizeof(long));
    fl_reservoir r;
    for (int trial = 0; trial < TRIALS; trial++) {
        assert_int_equal(fl_reservoir_init(&r, CAP), 0);
        for (int i = 0; i < N; i++) fl_reservoir_offer(&r, i, &rng);
        assert_int_equal(r.n, CAP);
        for (int k = 0; k < r.n; k++) count[r.id[k]]++;
        fl_reservoir_free(&r);
    }
    /* Each block's expected count: TRIALS x 100 positions x CAP / N. */
    const double expect = (double)TRIALS * (N / BLOCKS) * CAP / N;
    double chi2 = 0;
    for (int b = 0; b < BLOCKS; b++) {
        long c = 0;
        for (int i = b * (N / BLOCKS); i < (b + 1) * (N / BLOCKS); i++) c += count[i];
        chi2 += (c - expect) * (c - expect) / expect;
    }
    print_message("chi-square over %d blocks: %.2f (9 dof; 27.88 is p = 0.001)\n", BLOCKS, chi2);
    assert_true(chi2 < 27.88);
    /* The first and the last example alone: Binomial(TRIALS, 0.1), sd 19. */
    const double p = (double)CAP / N, sd = sqrt(TRIALS * p * (1 - p));
    assert_true(fabs(count[0] - TRIALS * p) < 4 * sd);
    assert_true(fabs(count[N - 1] - TRIALS * p) < 4 * sd);
    free(count);
}

static void test_buffer(void **state) {
    (void)state;
    fl_rng rng;
    fl_rng_init(&rng, 1, FL_STREAM_DATA);
    fl_reservoir r;
    assert_int_equal(fl_reservoir_init(&r, 0), -1);
    assert_int_equal(fl_reservoir_init(&r, 3), 0);
    /* While there is room, every example is kept, in order. */
    for (int i = 0; i < 3; i++) assert_int_equal(fl_reservoir_offer(&r, 10 + i, &rng), i);
    int got[50];
    fl_reservoir_sample(&r, 50, &rng, got);
    for (int b = 0; b < 50; b++) assert_true(got[b] >= 10 && got[b] <= 12);
    for (int i = 3; i < 100; i++) {
        const int slot = fl_reservoir_offer(&r, 10 + i, &rng);
        assert_true(slot >= -1 && slot < 3);
        if (slot >= 0) assert_int_equal(r.id[slot], 10 + i);
    }
    assert_int_equal(r.seen, 100);
    assert_int_equal(r.n, 3);
    fl_reservoir_free(&r);
}

TU_MAIN(cmocka_unit_test(test_uniform_inclusion), cmocka_unit_test(test_buffer))
