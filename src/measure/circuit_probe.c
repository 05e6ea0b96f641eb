/* circuit_probe.c: circuit stability as a predictor of forgetting
 * (docs/circuits.md, "over time"). At each checkpoint of a study, the
 * prior task's circuit vectors per class on the same Fashion test images:
 *
 *   circuit_stability        the configured probe (default: KL from the
 *                            model's own clean output, AP-IG with 5 steps,
 *                            within-class corruptions): the mean
 *                            off-diagonal Spearman across the 10 classes;
 *   circuit_stability_random its random-split baseline (the same
 *                            examples' scores in random groups of the same
 *                            sizes, mean over 20 draws);
 *   circuit_drift            each class's Spearman with its own circuit
 *                            vector in the base model, averaged (1 = the
 *                            circuits did not move);
 *   circuit_stability_ce_ap  the first probe forgetlab shipped: plain AP,
 *                            cross-entropy of the true class, counterfactual
 *                            of another class, on the first 20 of the
 *                            images of each class. It rises with forgetting
 *                            for a mechanical reason (docs/circuits.md) and
 *                            is kept, under a name that says what it is, for
 *                            comparison. */
#include "forgetlab/measure/measure.h"

#include "forgetlab/core/error.h"
#include "forgetlab/measure/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K = FL_TASK_CLASSES, BASELINE_DRAWS = 20, LEGACY_PER = 50 };

void fl_circuit_probe_default(fl_ap_opts *o) {
    memset(o, 0, sizeof *o);
    o->loss = FL_AP_LOSS_KL;
    o->corrupt = FL_AP_CORRUPT_WITHIN;
    o->ig_steps = 5;
}

int fl_circuit_probe_init(fl_circuit_probe *p, const fl_mlp *base, const fl_task_data *td, int per,
                          const fl_ap_opts *opts, uint64_t seed) {
    memset(p, 0, sizeof *p);
    if (opts) p->opts = *opts;
    else fl_circuit_probe_default(&p->opts);
    p->seed = seed;
    p->nc = fl_ap_ncomponents(base);
    if (fl_ap_check(&p->opts, fl_ap_corrupt_is_input(p->opts.corrupt))) goto fail;
    if (p->opts.corrupt == FL_AP_CORRUPT_MEAN) return fl_error_set("the study's circuit probe: mean ablation is "
                                                                   "not offered (its means would be the base's)");
    /* The same shuffle (the EVAL stream) for both probes; the partners
     * differ with the corruption. The first probe, kept for comparison,
     * scores the first LEGACY_PER images of each class of the same
     * selection, to keep the probe's cost within 15% of a study. */
    if (fl_ap_examples_build(td, 0, per, p->opts.corrupt, seed, &p->ex) ||
        fl_ap_examples_build(td, 0, per < LEGACY_PER ? per : LEGACY_PER, FL_AP_CORRUPT_COUNTERFACTUAL, seed,
                             &p->ex_cf))
        goto fail;
    p->base_vec = fl_malloc((size_t)K * p->nc * sizeof(float), "circuit probe");
    if (!p->base_vec) goto fail;
    fl_circuit_probe_result r;
    if (fl_circuit_probe_measure(p, base, p->base_vec, &r)) goto fail;
    return 0;
fail:
    fl_circuit_probe_free(p);
    return -1;
}

void fl_circuit_probe_free(fl_circuit_probe *p) {
    fl_ap_examples_free(&p->ex);
    fl_ap_examples_free(&p->ex_cf);
    free(p->base_vec);
    memset(p, 0, sizeof *p);
}

/* Mean Spearman of each class's vector with the base model's. */
static double drift_of(const fl_circuit_probe *p, const float *vec, double *a, double *b) {
    double sum = 0;
    int used = 0;
    for (int c = 0; c < K; c++) {
        for (int j = 0; j < p->nc; j++) {
            a[j] = vec[(size_t)c * p->nc + j];
            b[j] = p->base_vec[(size_t)c * p->nc + j];
        }
        double r = fl_spearman(a, b, p->nc);
        if (isfinite(r)) sum += r, used++;
    }
    return used ? sum / used : NAN;
}

int fl_circuit_probe_measure(const fl_circuit_probe *p, const fl_mlp *m, float *vec, fl_circuit_probe_result *out) {
    const int n = p->ex.n, nc = p->nc;
    const fl_ap_opts old = {.loss = FL_AP_LOSS_CE, .corrupt = FL_AP_CORRUPT_COUNTERFACTUAL};
    float *own = vec ? vec : fl_malloc((size_t)K * nc * sizeof(float), "circuit vectors");
    float *scores = fl_malloc((size_t)n * nc * sizeof(float), "circuit scores");
    double *a = fl_malloc((size_t)nc * sizeof(double), "circuit vectors");
    double *b = fl_malloc((size_t)nc * sizeof(double), "circuit vectors");
    fl_cs_stats st;
    int rc = -1;
    if (!own || !scores || !a || !b) goto out;
    if (fl_ap_examples_scores(m, &p->opts, FL_TASK_FASHION, &p->ex, scores) ||
        fl_cs_compute(scores, nc, p->ex.count, K, BASELINE_DRAWS, p->seed, own, NULL, &st))
        goto out;
    out->cs = st.cs;
    out->cs_random = st.random.mean;
    out->cs_random_lo = st.random.lo;
    out->cs_random_hi = st.random.hi;
    out->drift = p->base_vec && vec != p->base_vec ? drift_of(p, own, a, b) : 1.0;
    if (fl_ap_examples_scores(m, &old, FL_TASK_FASHION, &p->ex_cf, scores) ||
        fl_cs_compute(scores, nc, p->ex_cf.count, K, 0, p->seed, NULL, NULL, &st))
        goto out;
    out->cs_ce_ap = st.cs;
    rc = 0;
out:
    if (own != vec) free(own);
    free(scores), free(a), free(b);
    return rc;
}
