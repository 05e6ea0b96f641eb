/* lm_objectives.c: the language model's fine-tuning objectives as
 * gradients with respect to the logits of a batch of sequences
 * (objectives.h): a weighted log-likelihood (SFT, the policy gradient),
 * the exact per-token KL to the base model (grpo-kl) and SimPO's
 * length-normalised pair loss. Everything reduces to per-position weights
 * on -log p(token) plus the KL term, so one backward pass serves all. */
#include "forgetlab/train/objectives.h"

#include <math.h>
#include <string.h>

double fl_seq_nll_grad(float *dlogits, const float *probs, const float *nll, const int *targets, const float *w,
                       double Z, int N, int V) {
    double loss = 0;
    for (int i = 0; i < N; i++) {
        if (w[i] == 0) continue;
        const float s = (float)(w[i] / Z);
        float *d = dlogits + (size_t)i * V;
        const float *p = probs + (size_t)i * V;
        for (int v = 0; v < V; v++) d[v] += s * p[v];
        d[targets[i]] -= s;
        loss += (double)w[i] * nll[i];
    }
    return loss / Z;
}

/* log-sum-exp of a row, for log-softmax in double. */
static double lse(const float *z, int V) {
    double mx = z[0], s = 0;
    for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
    for (int v = 0; v < V; v++) s += exp(z[v] - mx);
    return mx + log(s);
}

double fl_seq_kl_grad(float *dlogits, const float *probs, const float *logits, const float *logits0, const float *kw,
                      double beta, double Z, int N, int V) {
    double total = 0;
    for (int i = 0; i < N; i++) {
        if (kw[i] == 0) continue;
        const float *z = logits + (size_t)i * V, *z0 = logits0 + (size_t)i * V, *p = probs + (size_t)i * V;
        const double c = lse(z, V), c0 = lse(z0, V);
        /* log p - log p0 = (z - c) - (z0 - c0); p from the log-probs, in double. */
        double kl = 0;
        for (int v = 0; v < V; v++) {
            const double lp = z[v] - c;
            kl += exp(lp) * (lp - (z0[v] - c0));
        }
        const double s = beta * kw[i] / Z;
        float *d = dlogits + (size_t)i * V;
        for (int v = 0; v < V; v++) d[v] += (float)(s * p[v] * ((z[v] - c) - (z0[v] - c0) - kl));
        total += kw[i] * kl;
    }
    return total;
}

void fl_group_centered(float *adv, const float *rewards, int G) {
    double mean = 0;
    for (int g = 0; g < G; g++) mean += rewards[g];
    mean /= G;
    for (int g = 0; g < G; g++) adv[g] = (float)(rewards[g] - mean);
}

double fl_simpo_seq_weights(float *w, int N, const float *nll, const int *start, const int *len, int P, double beta,
                            double gamma) {
    memset(w, 0, sizeof(float) * (size_t)N);
    double loss = 0;
    for (int k = 0; k < P; k++) {
        double s[2] = {0, 0};
        for (int j = 0; j < 2; j++) {
            for (int t = 0; t < len[2 * k + j]; t++) s[j] -= nll[start[2 * k + j] + t];
            s[j] /= len[2 * k + j];
        }
        /* L = -log sigmoid(m) = log(1 + e^-m); dL/dm = -sigmoid(-m). With
         * s = -mean nll: dL/dnll_t(chosen) = beta sigmoid(-m) / len_w. */
        const double m = beta * (s[0] - s[1]) - gamma;
        loss += m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
        const double g = 1.0 / (1.0 + exp(m)) * beta / P;
        for (int t = 0; t < len[2 * k]; t++) w[start[2 * k] + t] += (float)(g / len[2 * k]);
        for (int t = 0; t < len[2 * k + 1]; t++) w[start[2 * k + 1] + t] -= (float)(g / len[2 * k + 1]);
    }
    return loss / P;
}
