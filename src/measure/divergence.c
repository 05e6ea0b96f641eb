/* divergence.c: forward and reverse KL, total variation, L2 and
 * Jensen-Shannon between two models' output distributions. Sums run in
 * double: a KL of 1e-4 over 10,000 inputs must not drown in rounding. */
#include "forgetlab/measure/divergence.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* p log(p/q) with the conventions 0 log 0 = 0. */
static double xlogratio(double p, double logp, double logq) { return p > 0 ? p * (logp - logq) : 0.0; }

void fl_divergences_compute(fl_divergences *out, const float *logp0, const float *logp1,
                            int n, int V) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        const float *a = logp0 + (size_t)i * V, *b = logp1 + (size_t)i * V;
        double fkl = 0, rkl = 0, tv = 0, l2 = 0, js = 0;
        for (int v = 0; v < V; v++) {
            double p = exp((double)a[v]), q = exp((double)b[v]);
            fkl += xlogratio(p, a[v], b[v]);
            rkl += xlogratio(q, b[v], a[v]);
            tv += fabs(p - q);
            l2 += (p - q) * (p - q);
            double m = 0.5 * (p + q);
            if (m > 0) js += 0.5 * (xlogratio(p, a[v], log(m)) + xlogratio(q, b[v], log(m)));
        }
        out->forward_kl += fkl;
        out->reverse_kl += rkl;
        out->tv += 0.5 * tv;
        out->l2 += sqrt(l2);
        out->js += js;
    }
    if (n > 0) {
        out->forward_kl /= n;
        out->reverse_kl /= n;
        out->tv /= n;
        out->l2 /= n;
        out->js /= n;
    }
}

/* Row-wise log-softmax of z [n, V] into lp, in double. */
static void log_softmax_rows(float *lp, const float *z, int n, int V) {
    for (int i = 0; i < n; i++) {
        const float *r = z + (size_t)i * V;
        double mx = r[0], s = 0;
        for (int v = 1; v < V; v++) mx = r[v] > mx ? r[v] : mx;
        for (int v = 0; v < V; v++) s += exp((double)r[v] - mx);
        const double c = mx + log(s);
        for (int v = 0; v < V; v++) lp[(size_t)i * V + v] = (float)(r[v] - c);
    }
}

int fl_divergences_logits(fl_divergences *out, const float *z0, const float *z1, int n, int V) {
    float *a = malloc(sizeof(float) * (size_t)n * V), *b = malloc(sizeof(float) * (size_t)n * V);
    if (!a || !b) {
        free(a), free(b);
        return fl_error_set("divergences: out of memory for %d rows of %d", n, V);
    }
    log_softmax_rows(a, z0, n, V);
    log_softmax_rows(b, z1, n, V);
    fl_divergences_compute(out, a, b, n, V);
    free(a), free(b);
    return 0;
}
