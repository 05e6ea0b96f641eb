/* fourier.c: the Fourier progress measures of grokking (fourier.h).
 *
 * Why these: a transformer that groks a + b mod p embeds each token on a few
 * circles, cos/sin(w_k a), and computes logits proportional to
 * cos(w_k (a + b - c)). The embedding's spectrum shows which frequencies it
 * uses; the restricted loss (only those directions of the logits kept)
 * falls as the algorithm forms, while the excluded loss (those directions
 * removed) rises on the training set: memorisation is being replaced. */
#include "forgetlab/measure/fourier.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586

void fl_fourier_embed_norms(const float *W_E, int p, int d, double *norms) {
    const int nf = p / 2 + 1;
    for (int k = 0; k < nf; k++) {
        double ss = 0;
        /* k = 0 has one basis vector, so does k = p/2 for even p (its sine
         * vanishes); every other frequency has two. */
        for (int part = 0; part < 2; part++) {
            double basis_norm2 = 0;
            for (int a = 0; a < p; a++) {
                double w = TWO_PI * k * a / p, f = part ? sin(w) : cos(w);
                basis_norm2 += f * f;
            }
            if (basis_norm2 < 1e-9) continue;
            for (int j = 0; j < d; j++) {
                double c = 0;
                for (int a = 0; a < p; a++) {
                    double w = TWO_PI * k * a / p;
                    c += (part ? sin(w) : cos(w)) * W_E[(size_t)a * d + j];
                }
                ss += c * c / basis_norm2;
            }
        }
        norms[k] = sqrt(ss);
    }
}

int fl_fourier_key_freqs(const double *norms, int p, int nkey, int *key) {
    const int nf = p / 2 + 1;
    int n = 0;
    unsigned char *used = calloc(nf, 1);
    if (!used) return 0;
    while (n < nkey && n < nf - 1) {
        int best = -1;
        for (int k = 1; k < nf; k++)
            if (!used[k] && (best < 0 || norms[k] > norms[best])) best = k;
        used[best] = 1;
        key[n++] = best;
    }
    free(used);
    return n;
}

/* Mean cross-entropy of logits z[n, p] against y over the rows with
 * mask[i] == want (mask NULL: every row). */
static double mean_ce(const double *z, const int *y, const unsigned char *mask, int want, int n, int p) {
    double sum = 0;
    long count = 0;
    for (int i = 0; i < n; i++) {
        if (mask && (mask[i] != 0) != want) continue;
        const double *r = z + (size_t)i * p;
        double mx = r[0], s = 0;
        for (int c = 1; c < p; c++) mx = r[c] > mx ? r[c] : mx;
        for (int c = 0; c < p; c++) s += exp(r[c] - mx);
        sum += mx + log(s) - r[y[i]];
        count++;
    }
    return count ? sum / count : NAN;
}

int fl_fourier_losses(const float *logits, const int *a, const int *b, const int *y, const unsigned char *train,
                      int n, int p, int sign, const int *key, int nkey, double *restricted, double *excluded) {
    if (n != p * p) return fl_error_set("restricted loss: %d equations, expected every pair (%d)", n, p * p);
    double *proj = calloc((size_t)n * p, sizeof(double)), *z = calloc((size_t)n * p, sizeof(double));
    double *dir = malloc((size_t)n * sizeof(double)), *coef = malloc((size_t)p * sizeof(double));
    double *mean = calloc((size_t)p, sizeof(double));
    if (!proj || !z || !dir || !coef || !mean) {
        free(proj), free(z), free(dir), free(coef), free(mean);
        return fl_error_set("restricted loss: out of memory");
    }
    for (int ki = 0; ki < nkey; ki++)
        for (int part = 0; part < 2; part++) {
            double nrm = 0;
            for (int i = 0; i < n; i++) {
                double w = TWO_PI * key[ki] * (double)(a[i] + sign * b[i]) / p;
                dir[i] = part ? sin(w) : cos(w);
                nrm += dir[i] * dir[i];
            }
            nrm = sqrt(nrm);
            if (nrm < 1e-9) continue;
            for (int i = 0; i < n; i++) dir[i] /= nrm;
            memset(coef, 0, (size_t)p * sizeof(double));
            for (int i = 0; i < n; i++)
                for (int c = 0; c < p; c++) coef[c] += dir[i] * logits[(size_t)i * p + c];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < p; c++) proj[(size_t)i * p + c] += dir[i] * coef[c];
        }
    for (int i = 0; i < n; i++)
        for (int c = 0; c < p; c++) mean[c] += logits[(size_t)i * p + c] / n;
    for (size_t i = 0; i < (size_t)n * p; i++) z[i] = mean[i % p] + proj[i];
    *restricted = mean_ce(z, y, NULL, 1, n, p);
    for (size_t i = 0; i < (size_t)n * p; i++) z[i] = logits[i] - proj[i];
    *excluded = mean_ce(z, y, train, 1, n, p);
    free(proj), free(z), free(dir), free(coef), free(mean);
    return 0;
}

double fl_fourier_key_share(const double *norms, int p, const int *key, int nkey) {
    double all = 0, kept = 0;
    for (int k = 1; k <= p / 2; k++) all += norms[k] * norms[k];
    for (int i = 0; i < nkey; i++) kept += norms[key[i]] * norms[key[i]];
    return all > 0 ? kept / all : NAN;
}
