/* blas_dispatch.h: the CLI's choice of matrix kernels at start
 * (blas_dispatch.c). */
#ifndef FORGETLAB_CLI_BLAS_DISPATCH_H
#define FORGETLAB_CLI_BLAS_DISPATCH_H

/* Removes --blas-core from argv and, when OpenBLAS runs a core below the
 * CPU's (or not the one asked for), re-executes the program on the better
 * one after a self-check in a child process. Returns only when the kernels
 * stay as they are: 0, or FL_EXIT_USAGE after a bad --blas-core (said). */
int fl_blas_dispatch(int *argc, char **argv);

/* `forgetlab --blas-self-check`: exit status 0 when OpenBLAS runs the core
 * OPENBLAS_CORETYPE names (if set) and its products are right. */
int fl_blas_self_check_main(void);

/* `forgetlab env` (--json: one JSON object) and `--version --verbose`. */
int fl_env_print(int json);

#endif
