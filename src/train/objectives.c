/* objectives.c: losses and logit gradients of the fine-tuning methods:
 * policy gradient (GRPO, 1-0 REINFORCE), exact KL to the base policy,
 * SimPO, and the oracle (I-projection) target. */
#include "forgetlab/train/objectives.h"

#include <math.h>
#include <stddef.h>

void fl_grpo_advantages(float *adv, const float *rewards, int G, float eps) {
    double mean = 0, var = 0;
    for (int g = 0; g < G; g++) mean += rewards[g];
    mean /= G;
    for (int g = 0; g < G; g++) var += (rewards[g] - mean) * (rewards[g] - mean);
    double sd = sqrt(var / G);
    for (int g = 0; g < G; g++) adv[g] = (float)((rewards[g] - mean) / (sd + eps));
}

/* dlogits_b += dlogp_b - p_b * sum(dlogp_b), for a dlogp that is non-zero
 * only at the sampled actions: each sample a with weight w adds
 * w * (onehot(a) - p_b). */
float fl_pg_loss(float *dlogits, const float *probs, const float *logp,
                 const int *actions, const float *adv, int B, int G, int V, float scale) {
    const float w = 1.0f / (float)(B * G);
    double loss = 0;
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V;
        float *dz = dlogits + (size_t)b * V;
        double asum = 0;
        for (int g = 0; g < G; g++) {
            int a = actions[b * G + g];
            float A = adv[b * G + g];
            loss -= (double)A * logp[(size_t)b * V + a];
            dz[a] -= scale * w * A;
            asum += A;
        }
        for (int v = 0; v < V; v++) dz[v] += scale * w * (float)asum * p[v];
    }
    return (float)(loss * w);
}

float fl_kl_loss(float *dlogits, const float *probs, const float *logp,
                 const float *logq, int B, int V, float scale) {
    double total = 0;
    for (int b = 0; b < B; b++) {
        const float *p = probs + (size_t)b * V, *lp = logp + (size_t)b * V, *lq = logq + (size_t)b * V;
        double kl = 0;
        for (int v = 0; v < V; v++)
            if (p[v] > 0) kl += (double)p[v] * (lp[v] - lq[v]);
        total += kl;
        if (dlogits) {
            float *dz = dlogits + (size_t)b * V;
            for (int v = 0; v < V; v++)
                dz[v] += scale / B * p[v] * (float)((double)lp[v] - lq[v] - kl);
        }
    }
    return (float)(total / B);
}

float fl_simpo_loss(float *dlogits, const float *probs, const float *logp,
                    const int *y_w, const int *y_l, int B, int V,
                    float beta, float gamma, float scale) {
    (void)probs; /* the p terms of the two log-softmax gradients cancel */
    double total = 0;
    for (int b = 0; b < B; b++) {
        const float *lp = logp + (size_t)b * V;
        double u = beta * ((double)lp[y_w[b]] - lp[y_l[b]]) - gamma;
        /* -log sigmoid(u) = softplus(-u), computed without overflow. */
        total += u > 0 ? log1p(exp(-u)) : -u + log1p(exp(u));
        /* d/du softplus(-u) = -sigmoid(-u); du/dlogp_w = beta, du/dlogp_l = -beta;
         * through log-softmax, d logp_w - d logp_l touches only w and l
         * (the p terms cancel). */
        double s = 1.0 / (1.0 + exp(u)); /* sigmoid(-u) */
        float c = (float)(-s * beta) * scale / B;
        float *dz = dlogits + (size_t)b * V;
        dz[y_w[b]] += c;
        dz[y_l[b]] -= c;
    }
    return (float)(total / B);
}

void fl_oracle_target(float *q, const float *p0, const float *correct, int B, int V) {
    for (int b = 0; b < B; b++) {
        const float *p = p0 + (size_t)b * V, *c = correct + (size_t)b * V;
        float *qb = q + (size_t)b * V;
        double z = 0, nc = 0;
        for (int v = 0; v < V; v++) {
            z += (double)p[v] * c[v];
            nc += c[v];
        }
        for (int v = 0; v < V; v++)
            qb[v] = z > 0 ? (float)((double)p[v] * c[v] / z) : (nc > 0 ? (float)(c[v] / nc) : 0.0f);
    }
}

double fl_anchor_penalty(fl_blob *b, const float *anchor, const float *F, double lambda) {
    double pen = 0;
    for (size_t i = 0; i < b->n; i++) {
        const double d = (double)b->params[i] - anchor[i], f = F ? F[i] : 1.0;
        pen += f * d * d;
        b->grads[i] += (float)(lambda * f * d);
    }
    return 0.5 * lambda * pen;
}
