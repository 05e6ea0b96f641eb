/* blas.h: which matrix kernels run, whether they are the CPU's best, and
 * whether a set of kernels multiplies correctly.
 *
 * OpenBLAS picks its kernels (its "core") once, when it is loaded, from the
 * CPU's model name. On a CPU whose model it does not know it falls back to
 * its SSE3 kernels (Prescott), three to five times slower than the AVX2 or
 * AVX-512 kernels the same CPU can run, and silently. The core can be
 * chosen only before the library loads (the OPENBLAS_CORETYPE variable), so
 * the CLI re-executes itself once with a better core (cli/blas_dispatch.c);
 * a host that loaded the library already (Python) can only be told.
 *
 * The kernels also change the numbers: sums in another order round
 * differently, RL samples flip, and a study's checkpoints drift apart. So
 * every run records the core it ran on (fl_blas_environment), and a study
 * resumed on other kernels says so (docs/design.md). */
#ifndef FORGETLAB_BLAS_H
#define FORGETLAB_BLAS_H

#include <stddef.h>

/* The instruction sets a BLAS core may need, as the CPU and the operating
 * system support them (cpuid and xgetbv: AVX needs the OS to save its
 * registers, which a CPU flag alone does not say). */
typedef struct {
    int sse3, avx, fma, avx2;
    int avx512f, avx512bw, avx512dq, avx512vl, avx512_bf16;
} fl_cpu_features;

/* This machine's features (all zero on a CPU that is not x86-64). */
void fl_cpu_features_detect(fl_cpu_features *f);
/* The supported ones as words ("sse3 avx fma avx2 avx512f ..."). */
void fl_cpu_features_text(const fl_cpu_features *f, char *buf, size_t n);

/* What a core's kernels need: 1 SSE, 2 AVX, 3 AVX2 and FMA, 4 AVX-512;
 * 0 for a name this table does not know (then nothing is judged). */
int fl_blas_core_tier(const char *core);

/* The best core these features run: Cooperlake (AVX-512 with BF16),
 * SkylakeX (AVX-512 F/BW/DQ/VL), Haswell (AVX2 + FMA), Sandybridge (AVX),
 * or NULL (nothing better than SSE). */
const char *fl_blas_core_for(const fl_cpu_features *f);

/* The decision, a pure function of what it is given:
 *   current  the core the library runs now (openblas_get_corename);
 *   f        the CPU's features;
 *   user     OPENBLAS_CORETYPE as the user or the environment set it (NULL
 *            or "": unset);
 *   request  --blas-core / FORGETLAB_BLAS_CORE: NULL or "auto", "keep", or
 *            a core name.
 * Returns the core to switch to, or NULL to keep the current one. "auto"
 * never overrides the user's OPENBLAS_CORETYPE and switches only from a
 * core below what the CPU runs (a lower tier); a name is taken as asked,
 * unless the library runs it already. */
const char *fl_blas_core_choose(const char *current, const fl_cpu_features *f, const char *user,
                                const char *request);

/* Set in a process the CLI re-executed on a better core ("FROM>TO"). */
#define FL_BLAS_SWITCHED_ENV "FORGETLAB_BLAS_SWITCHED"
/* Set by tests: OPENBLAS_CORETYPE then stands for OpenBLAS's own fallback
 * to that core, not for a choice of the user's. */
#define FL_BLAS_TEST_FALLBACK_ENV "FORGETLAB_BLAS_TEST_FALLBACK"

/* OPENBLAS_CORETYPE as the user or the environment set it: NULL when
 * unset, and under FL_BLAS_TEST_FALLBACK_ENV. */
const char *fl_blas_user_core(void);
/* Who chose the loaded kernels: "forgetlab" (the CLI's re-execution),
 * "environment" (OPENBLAS_CORETYPE) or "openblas" (from the CPU's model). */
const char *fl_blas_chosen_by(void);

/* The BLAS library's own words: its core ("Haswell") and its build line
 * ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."); its threading model. */
const char *fl_blas_core(void);
const char *fl_blas_config(void);
const char *fl_blas_parallel(void); /* "openmp", "pthreads" or "sequential" */

/* Multiplies random matrices of the shapes forgetlab uses (every
 * transposition it calls) with the kernels loaded now and compares each
 * product with a double-precision reference. 0 when every entry agrees to
 * float rounding; -1 with the worst product named (fl_error_msg) when not. */
int fl_blas_self_check(void);

/* The kernels in a few words, as studies record them and compare them
 * on resume and merge: "OpenBLAS 0.3.21 Haswell". */
void fl_blas_kernels_id(char *buf, size_t n);

#endif
