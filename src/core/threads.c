/* threads.c: sets OpenBLAS and OpenMP to one shared thread count. */
#include "forgetlab/core/threads.h"
#include "forgetlab/core/log.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <unistd.h>

static int g_threads = 0;

int fl_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int fl_set_threads(int n) {
    const int cores = fl_cpu_count();
    if (n <= 0) n = cores;
    if (n > cores) {
        /* More threads than cores only time-slice them: slower, never
         * faster. Said once, in the log, and capped. */
        fl_log(FL_LOG_WARN, "forgetlab: %d threads asked for, this machine has %d cores: using %d\n", n, cores, cores);
        n = cores;
    }
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
    g_threads = n;
    return n;
}

int fl_get_threads(void) { return g_threads > 0 ? g_threads : fl_cpu_count(); }
