/* vmath.h: exp and erf in float for the language model's inner loops, as
 * branch-free arithmetic the compiler turns into vector code (libm's expf
 * and erff are calls it cannot vectorise, and they took a fifth of a
 * training step: docs/lm.md). Accuracy, checked against libm in double over
 * the whole range the model uses (tests/nn/test_vmath.c): exp within
 * 1e-7 relative, erf within 6e-7 absolute (libm's erff: 1e-7).
 *
 * exp: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two, Cody-Waite), a
 * degree-6 polynomial for e^r, and 2^n built in the exponent bits. Inputs
 * are clamped to [-87, 88] so 2^n stays a normal float: below, e^x < 2e-38,
 * which the softmax and GELU treat as 0 anyway.
 * erf: Abramowitz and Stegun 7.1.26 refined, erf(|x|) = 1 - t P(t) e^{-x^2},
 * t = 1 / (1 + p|x|), odd in x. */
#ifndef FORGETLAB_VMATH_H
#define FORGETLAB_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float fl_vexpf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float n = rintf(x * 1.44269504088896341f);
    float r = fmaf(n, -0.693359375f, x);
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p, r * r, r) + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float fl_verff(float x) {
    const float a = fabsf(x);
    const float t = 1.0f / fmaf(0.3275911f, a, 1.0f);
    float p = 1.061405429f;
    p = fmaf(p, t, -1.453152027f);
    p = fmaf(p, t, 1.421413741f);
    p = fmaf(p, t, -0.284496736f);
    p = fmaf(p, t, 0.254829592f);
    const float y = 1.0f - p * t * fl_vexpf(-a * a);
    return copysignf(y, x);
}

#endif
