/* threads.c: sets OpenBLAS and OpenMP to one shared thread count. */
#include "forgetlab/threads.h"

#include <cblas.h>
#include <omp.h>
#include <time.h>
#include <unistd.h>

static int g_threads = 0;

int fl_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int fl_set_threads(int n) {
    if (n <= 0) n = fl_cpu_count();
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
    g_threads = n;
    return n;
}

int fl_get_threads(void) { return g_threads > 0 ? g_threads : fl_cpu_count(); }

double fl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
