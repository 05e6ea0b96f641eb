/* circuit_drift.c: circuit stability as a predictor of forgetting (SCIENCE.md
 * section 5, "over time"): at each checkpoint, the prior task's circuit
 * vectors per class (node attribution patching, counterfactual inputs, CE
 * loss); their mean pairwise Spearman (circuit_stability) and each class's
 * Spearman with its own circuit vector in the base model, averaged
 * (circuit_drift: 1 = the circuits did not move). */
#include "forgetlab/measure.h"

#include "forgetlab/attribution.h"
#include "forgetlab/error.h"
#include "forgetlab/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K = FL_TASK_CLASSES };

int fl_circuit_probe_init(fl_circuit_probe *p, const fl_mlp *base, const fl_task_data *td, int per,
                          uint64_t seed) {
    memset(p, 0, sizeof *p);
    fl_rng r;
    fl_rng_init(&r, seed, FL_STREAM_EVAL);
    int *perm = fl_malloc((size_t)td->n * sizeof(int), "circuit probe");
    p->x = fl_malloc((size_t)K * per * FL_TASK_DIM * sizeof(float), "circuit probe");
    p->xc = fl_malloc((size_t)K * per * FL_TASK_DIM * sizeof(float), "circuit probe");
    p->label = fl_malloc((size_t)K * per * sizeof(int), "circuit probe");
    p->nc = fl_ap_ncomponents(base);
    p->base_vec = fl_malloc((size_t)K * p->nc * sizeof(float), "circuit probe");
    if (!perm || !p->x || !p->xc || !p->label || !p->base_vec) goto fail;
    for (int i = 0; i < td->n; i++) perm[i] = i;
    fl_rng_shuffle(&r, perm, td->n);
    /* The first `per` test images of each class in a seeded shuffle, grouped
     * by class; each paired with a random image of another class. */
    int n = 0;
    for (int c = 0; c < K; c++) {
        p->count[c] = 0;
        for (int i = 0; i < td->n && p->count[c] < per; i++) {
            if (td->label[perm[i]] != c) continue;
            int j;
            do j = (int)fl_rng_below(&r, (uint32_t)td->n);
            while (td->label[j] == c);
            memcpy(p->x + (size_t)n * FL_TASK_DIM, td->x + (size_t)perm[i] * FL_TASK_DIM, FL_TASK_DIM * sizeof(float));
            memcpy(p->xc + (size_t)n * FL_TASK_DIM, td->x + (size_t)j * FL_TASK_DIM, FL_TASK_DIM * sizeof(float));
            p->label[n++] = c;
            p->count[c]++;
        }
    }
    free(perm);
    perm = NULL;
    double cs_base;
    if (fl_circuit_probe_measure(p, base, p->base_vec, &cs_base, NULL)) goto fail;
    return 0;
fail:
    free(perm);
    fl_circuit_probe_free(p);
    return -1;
}

void fl_circuit_probe_free(fl_circuit_probe *p) {
    free(p->x);
    free(p->xc);
    free(p->label);
    free(p->base_vec);
    memset(p, 0, sizeof *p);
}

int fl_circuit_probe_measure(const fl_circuit_probe *p, const fl_mlp *m, float *vec, double *cs, double *drift) {
    fl_ap_opts o = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    float *own = vec ? vec : fl_malloc((size_t)K * p->nc * sizeof(float), "circuit vectors");
    double *rho = fl_malloc((size_t)K * K * sizeof(double), "circuit vectors");
    double *a = fl_malloc((size_t)p->nc * sizeof(double), "circuit vectors");
    double *b = fl_malloc((size_t)p->nc * sizeof(double), "circuit vectors");
    int rc = -1;
    if (!own || !rho || !a || !b) goto out;
    if (fl_circuit_vectors(m, &o, FL_TASK_FASHION, p->x, p->xc, p->label, p->count, K, own)) goto out;
    fl_cs_matrix(own, K, p->nc, rho);
    *cs = fl_cs_mean(rho, K);
    if (drift) {
        double sum = 0;
        int used = 0;
        for (int c = 0; c < K; c++) {
            for (int j = 0; j < p->nc; j++) {
                a[j] = own[(size_t)c * p->nc + j];
                b[j] = p->base_vec[(size_t)c * p->nc + j];
            }
            double r = fl_spearman(a, b, p->nc);
            if (isfinite(r)) {
                sum += r;
                used++;
            }
        }
        *drift = used ? sum / used : NAN;
    }
    rc = 0;
out:
    if (own != vec) free(own);
    free(rho);
    free(a);
    free(b);
    return rc;
}
