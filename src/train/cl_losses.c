/* cl_losses.c: the pieces of continual learning's objectives over masked
 * heads (cl_int.h): cross-entropy within each example's outputs, the
 * distillation and KL terms against a previous model, and the accuracy
 * and KL of a model on a task. */
#include "cl_int.h"

#include <math.h>
#include <stddef.h>

/* log-softmax of z[first .. first + size) at temperature T, into lp. */
static void log_softmax_range(double *lp, const float *z, int first, int size, double T) {
    double mx = z[first] / T, s = 0;
    for (int v = 1; v < size; v++) mx = fmax(mx, z[first + v] / T);
    for (int v = 0; v < size; v++) s += exp(z[first + v] / T - mx);
    const double c = mx + log(s);
    for (int v = 0; v < size; v++) lp[v] = z[first + v] / T - c;
}

double cl_masked_ce(float *dlogits, const float *logits, const int *y, const cl_head *h, int B, int V, double scale) {
    double loss = 0, lp[CL_MAX_OUT];
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * V;
        float *d = dlogits + (size_t)b * V;
        log_softmax_range(lp, z, h[b].first, h[b].size, 1.0);
        const int t = y[b] - h[b].first;
        loss -= lp[t];
        for (int v = 0; v < h[b].size; v++) d[h[b].first + v] += (float)(scale / B * (exp(lp[v]) - (v == t)));
    }
    return loss / B;
}

double cl_distill(float *dlogits, const float *logits, const float *prev, const cl_head *h, int B, int V, double T,
                  double w) {
    double loss = 0, lp[CL_MAX_OUT], lq[CL_MAX_OUT];
    for (int b = 0; b < B; b++) {
        if (h[b].size <= 0) continue;
        log_softmax_range(lp, logits + (size_t)b * V, h[b].first, h[b].size, T);
        log_softmax_range(lq, prev + (size_t)b * V, h[b].first, h[b].size, T);
        double kl = 0;
        for (int v = 0; v < h[b].size; v++) kl += exp(lq[v]) * (lq[v] - lp[v]);
        loss += T * T * kl;
        /* d/dz of T^2 KL(q_T || p_T) = T (p_T - q_T). */
        if (dlogits)
            for (int v = 0; v < h[b].size; v++)
                dlogits[(size_t)b * V + h[b].first + v] += (float)(w / B * T * (exp(lp[v]) - exp(lq[v])));
    }
    return loss / B;
}

double cl_accuracy(const float *logits, const int *y, const cl_head *h, int n, int V) {
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * V + h->first;
        int best = 0;
        for (int v = 1; v < h->size; v++) best = z[v] > z[best] ? v : best;
        hits += best + h->first == y[i];
    }
    return n ? (double)hits / n : NAN;
}
