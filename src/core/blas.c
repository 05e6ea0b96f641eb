/* blas.c: the CPU's instruction sets, the BLAS core that suits them, and a
 * self-check of the kernels loaded (blas.h). */
#include "forgetlab/core/blas.h"

#include "forgetlab/core/error.h"
#include "forgetlab/core/rng.h"
#include "forgetlab/core/threads.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

void fl_cpu_features_detect(fl_cpu_features *f) {
    memset(f, 0, sizeof *f);
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    f->sse3 = (c >> 0) & 1;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    /* The OS must save the YMM (bits 1-2) and, for AVX-512, the opmask and
     * ZMM state (bits 5-7) on a context switch, or the registers are lost. */
    const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    const int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = (xcr0 & 0xe6) == 0xe6;
    f->avx = avx && os_avx;
    f->fma = fma && f->avx;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    f->avx2 = ((b >> 5) & 1) && f->avx;
    if (os_avx512) {
        f->avx512f = (b >> 16) & 1;
        f->avx512dq = (b >> 17) & 1;
        f->avx512bw = (b >> 30) & 1;
        f->avx512vl = (b >> 31) & 1;
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f->avx512_bf16 = (a >> 5) & 1;
    }
}
#else
void fl_cpu_features_detect(fl_cpu_features *f) { memset(f, 0, sizeof *f); }
#endif

void fl_cpu_features_text(const fl_cpu_features *f, char *buf, size_t n) {
    const struct {
        int on;
        const char *name;
    } k[] = {{f->sse3, "sse3"},         {f->avx, "avx"},           {f->fma, "fma"},
             {f->avx2, "avx2"},         {f->avx512f, "avx512f"},   {f->avx512bw, "avx512bw"},
             {f->avx512dq, "avx512dq"}, {f->avx512vl, "avx512vl"}, {f->avx512_bf16, "avx512_bf16"}};
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (size_t i = 0; i < sizeof k / sizeof *k && used < n; i++)
        if (k[i].on) used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? " " : "", k[i].name);
    if (n && !buf[0]) snprintf(buf, n, "none");
}

/* OpenBLAS's x86 core names (DYNAMIC_ARCH builds) by the widest vector
 * kernels each has. */
int fl_blas_core_tier(const char *core) {
    static const struct {
        const char *name;
        int tier;
    } T[] = {{"Katmai", 1},      {"Coppermine", 1},  {"Northwood", 1},     {"Prescott", 1},
             {"Banias", 1},      {"Core2", 1},       {"Penryn", 1},        {"Dunnington", 1},
             {"Nehalem", 1},     {"Atom", 1},        {"Athlon", 1},        {"Opteron", 1},
             {"Opteron_SSE3", 1}, {"Barcelona", 1},  {"Bobcat", 1},        {"Nano", 1},
             {"Sandybridge", 2}, {"Bulldozer", 2},   {"Piledriver", 2},    {"Steamroller", 2},
             {"Haswell", 3},     {"Zen", 3},         {"Excavator", 3},     {"SkylakeX", 4},
             {"Cooperlake", 4},  {"SapphireRapids", 4}};
    if (!core) return 0;
    for (size_t i = 0; i < sizeof T / sizeof *T; i++)
        if (strcasecmp(core, T[i].name) == 0) return T[i].tier;
    return 0;
}

const char *fl_blas_core_for(const fl_cpu_features *f) {
    if (f->avx512f && f->avx512bw && f->avx512dq && f->avx512vl) return f->avx512_bf16 ? "Cooperlake" : "SkylakeX";
    if (f->avx2 && f->fma) return "Haswell";
    if (f->avx) return "Sandybridge";
    return NULL;
}

const char *fl_blas_core_choose(const char *current, const fl_cpu_features *f, const char *user,
                                const char *request) {
    if (request && strcmp(request, "keep") == 0) return NULL;
    if (request && request[0] && strcmp(request, "auto") != 0)
        return current && strcasecmp(current, request) == 0 ? NULL : request;
    if (user && user[0]) return NULL;
    const char *best = fl_blas_core_for(f);
    const int have = fl_blas_core_tier(current);
    /* An unknown name is left alone: nothing says it is below the CPU. */
    if (!best || have == 0 || have >= fl_blas_core_tier(best)) return NULL;
    return best;
}

const char *fl_blas_user_core(void) {
    const char *v = getenv("OPENBLAS_CORETYPE");
    return v && v[0] && !getenv(FL_BLAS_TEST_FALLBACK_ENV) ? v : NULL;
}

const char *fl_blas_chosen_by(void) {
    return getenv(FL_BLAS_SWITCHED_ENV) ? "forgetlab" : fl_blas_user_core() ? "environment" : "openblas";
}

/* OpenBLAS's own introspection (declared in its cblas.h on Debian; named
 * here so another OpenBLAS header works too). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_parallel(void);

const char *fl_blas_core(void) { return openblas_get_corename(); }
const char *fl_blas_config(void) { return openblas_get_config(); }

const char *fl_blas_parallel(void) {
    switch (openblas_get_parallel()) {
    case 0: return "sequential";
    case 1: return "pthreads";
    default: return "openmp";
    }
}

/* C = A op B in double precision, A and B as sgemm reads them (row-major). */
static void ref_gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, double *C) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k]) *
                     (double)(tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j]);
            C[(size_t)i * N + j] = s;
        }
}

/* One product: the worst error relative to the sum of |terms| an entry
 * had, which float rounding keeps near K * 2^-24 at most. */
static int check_one(fl_rng *r, int ta, int tb, int M, int N, int K) {
    const size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
    double *R = malloc(nc * sizeof *R), *S = malloc(nc * sizeof *S);
    float *absA = malloc(na * sizeof *absA), *absB = malloc(nb * sizeof *absB);
    int rc = 0;
    if (!A || !B || !C || !R || !S || !absA || !absB) {
        rc = fl_error_set("BLAS self-check: out of memory");
        goto out;
    }
    for (size_t i = 0; i < na; i++) A[i] = (float)fl_rng_normal(r), absA[i] = fabsf(A[i]);
    for (size_t i = 0; i < nb; i++) B[i] = (float)fl_rng_normal(r), absB[i] = fabsf(B[i]);
    for (size_t i = 0; i < nc; i++) C[i] = 0.5f; /* beta = 1 below: the accumulate path too */
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
                ta ? M : K, B, tb ? K : N, 1.0f, C, N);
    ref_gemm(ta, tb, M, N, K, A, B, R);
    ref_gemm(ta, tb, M, N, K, absA, absB, S);
    double worst = 0;
    for (size_t i = 0; i < nc; i++) {
        const double e = fabs((double)C[i] - (R[i] + 0.5)) / (S[i] + 0.5);
        if (!(e <= worst)) worst = e; /* NaN included */
    }
    /* Float sums of K terms err by at most ~K * 2^-24 of the |terms|' sum;
     * a wrong kernel errs by the size of the terms themselves. */
    const double tol = 4.0 * (K + 2) * 5.96e-8;
    if (!(worst <= tol))
        rc = fl_error_set("BLAS self-check: sgemm %c%c %dx%dx%d on core %s is off by %.3g of its terms (allowed %.3g)",
                          ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, fl_blas_core(), worst, tol);
out:
    free(A), free(B), free(C), free(R), free(S), free(absA), free(absB);
    return rc;
}

int fl_blas_self_check(void) {
    /* The shapes of forgetlab's own calls: a dense layer's forward (N T),
     * its input and weight gradients (N N, T N), attention's scores; odd
     * sizes so that every kernel's edge path runs, one tall enough to
     * engage threads. */
    static const struct {
        int ta, tb, M, N, K;
    } P[] = {{0, 1, 64, 400, 784}, {0, 0, 64, 784, 400}, {1, 0, 400, 784, 64}, {0, 1, 128, 128, 32},
             {0, 0, 37, 53, 129},  {1, 0, 19, 33, 71},   {0, 1, 512, 384, 128}, {1, 1, 23, 17, 45}};
    fl_rng r;
    fl_rng_init(&r, 0x5e1fc0de, 0);
    for (size_t i = 0; i < sizeof P / sizeof *P; i++)
        if (check_one(&r, P[i].ta, P[i].tb, P[i].M, P[i].N, P[i].K)) return -1;
    return 0;
}

/* The library's name and version: the first two words of its build line
 * ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..."). */
static int version_len(const char *cfg) {
    int len = 0;
    for (int words = 0; cfg[len]; len++)
        if (cfg[len] == ' ' && ++words == 2) break;
    return len;
}

void fl_blas_kernels_id(char *buf, size_t n) {
    const char *cfg = fl_blas_config();
    snprintf(buf, n, "%.*s %s", version_len(cfg), cfg, fl_blas_core());
}
