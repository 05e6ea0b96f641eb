/* blas_dispatch.c: puts the CLI on the matrix kernels the CPU deserves.
 *
 * OpenBLAS chose its kernels when the program loaded, and cannot change
 * them after; only OPENBLAS_CORETYPE, read at load, can. So when it chose a
 * core below what the CPU runs (a CPU model it does not know: SSE3 kernels
 * on an AVX-512 machine), the CLI tries the better core in a child process
 * first (`forgetlab --blas-self-check`: products of forgetlab's shapes
 * against double precision; a kernel that crashes or errs fails it there,
 * not here), then re-executes itself once on it and says so on stderr. The
 * user's OPENBLAS_CORETYPE is never overridden; --blas-core (or
 * FORGETLAB_BLAS_CORE) auto|keep|NAME has the last word. */
#define _GNU_SOURCE /* setenv, execv, environ */
#include "blas_dispatch.h"

#include "cli.h"
#include "forgetlab/core/blas.h"
#include "forgetlab/core/error.h"

#include <spawn.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;


static int usage(const char *msg) {
    fprintf(stderr, "forgetlab: %s\nTry 'forgetlab --help'.\n", msg);
    return -1;
}

/* Takes --blas-core VALUE / --blas-core=VALUE out of argv (any position
 * before a "--"). *request: its value, else FORGETLAB_BLAS_CORE, else NULL. */
static int take_request(int *argc, char **argv, const char **request) {
    *request = getenv("FORGETLAB_BLAS_CORE");
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc) argv[out++] = argv[i++];
            break;
        }
        if (strncmp(argv[i], "--blas-core=", 12) == 0) {
            *request = argv[i] + 12;
        } else if (strcmp(argv[i], "--blas-core") == 0) {
            if (i + 1 >= *argc) return usage("--blas-core needs a value: auto, keep or a core name");
            *request = argv[++i];
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    *argc = out;
    if (*request && (*request)[0] && strcmp(*request, "auto") != 0 && strcmp(*request, "keep") != 0 &&
        fl_blas_core_tier(*request) == 0)
        return usage("--blas-core: not auto, keep or a core this build knows (e.g. Haswell, SkylakeX, "
                     "Cooperlake, Zen, Prescott)");
    return 0;
}

/* Under MPI every rank makes the same choice; the first says it. */
static int first_rank(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v) return atoi(v) == 0;
    }
    return 1;
}

/* Runs `forgetlab --blas-self-check` with OPENBLAS_CORETYPE=core: 0 when it
 * loaded that core and its products were right. */
static int child_check(const char *exe, const char *core) {
    char var[96];
    snprintf(var, sizeof var, "OPENBLAS_CORETYPE=%s", core);
    size_t n = 0;
    while (environ[n]) n++;
    char **env = malloc((n + 2) * sizeof *env);
    if (!env) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OPENBLAS_CORETYPE=", 18) != 0) env[k++] = environ[i];
    env[k++] = var;
    env[k] = NULL;
    char *args[] = {(char *)exe, "--blas-self-check", NULL};
    pid_t pid;
    int status = 0, rc = posix_spawn(&pid, exe, NULL, NULL, args, env);
    free(env);
    if (rc != 0) return -1;
    while (waitpid(pid, &status, 0) < 0)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int fl_blas_self_check_main(void) {
    const char *want = getenv("OPENBLAS_CORETYPE");
    if (want && strcasecmp(want, fl_blas_core()) != 0) {
        fprintf(stderr, "forgetlab: OpenBLAS did not load core %s (it runs %s)\n", want, fl_blas_core());
        return FL_EXIT_FAIL;
    }
    if (fl_blas_self_check()) {
        fprintf(stderr, "forgetlab: %s\n", fl_error_msg());
        return FL_EXIT_FAIL;
    }
    return FL_EXIT_OK;
}

int fl_blas_dispatch(int *argc, char **argv) {
    const char *request;
    if (take_request(argc, argv, &request)) return FL_EXIT_USAGE;
    if (getenv(FL_BLAS_SWITCHED_ENV)) return 0; /* re-executed already: this is the core */
    fl_cpu_features f;
    fl_cpu_features_detect(&f);
    const char *from = fl_blas_core(), *to = fl_blas_core_choose(from, &f, fl_blas_user_core(), request);
    if (!to) return 0;
    const char *exe = "/proc/self/exe";
    const int say = first_rank();
    if (child_check(exe, to)) {
        if (say)
            fprintf(stderr, "forgetlab: OpenBLAS runs its %s kernels; its %s kernels would suit this CPU but fail "
                            "their self-check here (forgetlab --blas-self-check with OPENBLAS_CORETYPE=%s says "
                            "why): staying on %s\n", from, to, to, from);
        return 0;
    }
    char mark[96], *had = getenv("OPENBLAS_CORETYPE");
    had = had ? strdup(had) : NULL;
    snprintf(mark, sizeof mark, "%s>%s", from, to);
    if (setenv("OPENBLAS_CORETYPE", to, 1) || setenv(FL_BLAS_SWITCHED_ENV, mark, 1)) {
        free(had);
        return 0;
    }
    unsetenv(FL_BLAS_TEST_FALLBACK_ENV);
    const int asked = request && strcmp(request, "auto") != 0 && request[0];
    if (say && asked)
        fprintf(stderr, "forgetlab: --blas-core %s: running on %s instead of %s (self-checked)\n", request, to, from);
    else if (say)
        fprintf(stderr, "forgetlab: OpenBLAS chose its %s kernels on this CPU; running on %s instead (self-checked; "
                        "OPENBLAS_CORETYPE or --blas-core keep|NAME chooses)\n", from, to);
    fflush(NULL);
    execv(exe, argv);
    /* Still here: the kernels stay as they are, and nothing was lost. */
    fprintf(stderr, "forgetlab: cannot re-execute %s on the %s kernels: staying on %s\n", exe, to, from);
    unsetenv(FL_BLAS_SWITCHED_ENV);
    if (had) setenv("OPENBLAS_CORETYPE", had, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    free(had);
    return 0;
}
