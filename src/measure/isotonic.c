/* isotonic.c: least-squares monotone regression by pool-adjacent-violators,
 * the one fit behind each method's frontier (non-increasing: prior-task
 * accuracy falls as new-task accuracy rises) and the forgetting forecast
 * (non-decreasing: forgetting rises with the forward KL). */
#include "forgetlab/measure/stats.h"

#include "forgetlab/core/error.h"

#include <stdlib.h>

int fl_isotonic_sorted(const double *x, const double *y, int n, int dir, double *fx, double *fy) {
    double *w = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int *start = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!w || !start) {
        free(w), free(start);
        return fl_error_set("isotonic fit: out of memory for %d points", n);
    }
    /* Equal x pooled into one point weighted by its count first: the fit
     * is a function of x. */
    int m = 0;
    for (int i = 0; i < n;) {
        int e = i;
        double s = 0;
        while (e < n && x[e] == x[i]) s += y[e++];
        fx[m] = x[i], fy[m] = s / (e - i), w[m] = e - i;
        m++;
        i = e;
    }
    /* Blocks in place: block j covers points [start[j], ...), value fy[j].
     * A block that breaks the order with the block before it merges with
     * it, until the order holds. */
    int nb = 0;
    for (int i = 0; i < m; i++) {
        double v = fy[i], wt = w[i];
        int st = i;
        while (nb > 0 && (dir < 0 ? fy[nb - 1] < v : fy[nb - 1] > v)) {
            nb--;
            v = (fy[nb] * w[nb] + v * wt) / (w[nb] + wt);
            wt += w[nb];
            st = start[nb];
        }
        fy[nb] = v, w[nb] = wt, start[nb] = st;
        nb++;
    }
    /* Expand the blocks back over the distinct x (w reused for values). */
    for (int j = 0; j < nb; j++) {
        int e = j + 1 < nb ? start[j + 1] : m;
        for (int i = start[j]; i < e; i++) w[i] = fy[j];
    }
    for (int i = 0; i < m; i++) fy[i] = w[i];
    free(w), free(start);
    return m;
}
