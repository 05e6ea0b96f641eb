/* threads.h: one knob for every kind of parallelism.
 *
 * OpenBLAS and OpenMP each keep their own thread pool; letting both default
 * to all cores oversubscribes the machine as soon as one calls the other.
 * fl_set_threads() sets both to the same count, and forgetlab never calls
 * BLAS from inside an OpenMP parallel region. */
#ifndef FORGETLAB_THREADS_H
#define FORGETLAB_THREADS_H

/* Number of online cores. */
int fl_cpu_count(void);

/* Sets OpenBLAS and OpenMP to n threads (n <= 0 means all cores; more than
 * the cores is capped to them, with a warning in the log, log.h). Returns the count
 * in force. */
int fl_set_threads(int n);

/* The count last set by fl_set_threads (all cores before any call). */
int fl_get_threads(void);

/* The most threads any command accepts (--threads). */
#define FL_MAX_THREADS 1024

#endif
