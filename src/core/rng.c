/* rng.c: xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 *
 * The (seed, stream) pair is hashed into the 256-bit state, so streams of the
 * same seed are statistically independent and each purpose in a run draws
 * from its own sequence. */
#include "forgetlab/core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void fl_rng_init(fl_rng *r, uint64_t seed, uint64_t stream) {
    /* Mix the stream in through a second splitmix pass so (seed, stream) and
     * (seed + 1, stream - 1) do not collide. */
    uint64_t x = seed;
    uint64_t y = splitmix64(&x) ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&y);
}

uint64_t fl_rng_u64(fl_rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float fl_rng_float(fl_rng *r) { return (float)(fl_rng_u64(r) >> 40) * 0x1.0p-24f; }

double fl_rng_double(fl_rng *r) { return (double)(fl_rng_u64(r) >> 11) * 0x1.0p-53; }

uint32_t fl_rng_below(fl_rng *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection: unbiased for every n. */
    uint64_t m = (uint64_t)(uint32_t)(fl_rng_u64(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(fl_rng_u64(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double fl_rng_normal(fl_rng *r) {
    double u1 = fl_rng_double(r), u2 = fl_rng_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void fl_rng_shuffle(fl_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)fl_rng_below(r, (uint32_t)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int fl_rng_categorical(fl_rng *r, const float *p, int n) {
    double u = fl_rng_double(r), c = 0.0;
    for (int i = 0; i < n; i++) {
        c += p[i];
        if (u < c) return i;
    }
    /* Rounding left u above the total: the last class with mass. */
    for (int i = n - 1; i >= 0; i--)
        if (p[i] > 0) return i;
    return n - 1;
}
