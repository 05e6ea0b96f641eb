/* capi_circuits.c: attribution scores and circuit stability for the Python
 * package (capi.h), over attribution.h and stability.h: the same scores
 * and statistics `forgetlab circuits` computes, on examples the caller
 * chooses. */
#include "capi_int.h"

#include "forgetlab/measure/attribution.h"
#include "forgetlab/core/error.h"
#include "forgetlab/measure/stability.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int need_mlp(const fl_capi_model *m, const char *what) {
    return m->blob == &m->mlp.blob ? 0 : fl_error_set("%s: for an MLP, not a %s", what, m->arch);
}

int fl_capi_ncomponents(const fl_capi_model *m) {
    return need_mlp(m, "components") ? -1 : fl_ap_ncomponents(&m->mlp);
}

int fl_capi_component_name(const fl_capi_model *m, int c, char *buf, int n) {
    if (need_mlp(m, "components")) return -1;
    if (c < 0 || c >= fl_ap_ncomponents(&m->mlp))
        return fl_error_set("component %d: the model has %d", c, fl_ap_ncomponents(&m->mlp));
    fl_ap_component_name(&m->mlp, c, buf, n);
    return 0;
}

static int parse_opts(fl_ap_opts *o, const char *method, int steps, const char *form, const char *loss,
                      const char *corrupt, int parity) {
    memset(o, 0, sizeof *o);
    o->ig_steps = steps, o->parity = parity != 0;
    if (steps < 0) return fl_error_set("steps %d: at least 1 (ap-ig), or 0", steps);
    if (fl_ap_method_parse(method ? method : "?", o) || fl_ig_form_parse(form ? form : "?", &o->ig_form) ||
        fl_ap_loss_parse(loss ? loss : "?", &o->loss) || fl_ap_corrupt_parse(corrupt ? corrupt : "?", &o->corrupt))
        return -1;
    if (o->corrupt == FL_AP_CORRUPT_MEAN)
        return fl_error_set("corruption 'mean': not offered here (zero, within or counterfactual)");
    return 0;
}

int fl_capi_ap_scores(const fl_capi_model *m, const float *x, const float *xc, const int32_t *label, int n,
                      const char *method, int steps, const char *form, const char *loss, const char *corrupt,
                      int parity, float *scores) {
    fl_ap_opts o;
    if (need_mlp(m, "circuits") || parse_opts(&o, method, steps, form, loss, corrupt, parity)) return -1;
    if (n < 1) return fl_error_set("circuits: %d examples", n);
    const int input = fl_ap_corrupt_is_input(o.corrupt);
    if (input && !xc) return fl_error_set("circuits: the '%s' corruption needs the corrupted inputs", corrupt);
    if (fl_ap_check(&o, xc != NULL)) return -1;
    if (o.loss != FL_AP_LOSS_KL && !label) return fl_error_set("circuits: loss '%s' needs the labels", loss);
    const int V = m->mlp.dims[m->mlp.nlayers];
    if (parity && V != 10) return fl_error_set("circuits: parity scoring needs 10 outputs, not %d", V);
    /* The targets: the labels, or ParityMNIST's rule from the clean logits. */
    int *lab = calloc((size_t)n, sizeof(int)), *target = calloc((size_t)n, sizeof(int));
    float *z = parity ? malloc(sizeof(float) * (size_t)n * V) : NULL;
    int rc = !lab || !target || (parity && !z) ? fl_error_set("out of memory") : 0;
    for (int i = 0; i < n && rc == 0 && label; i++) {
        if (label[i] < 0 || label[i] >= V)
            rc = fl_error_set("circuits: label %d is %d, not a class of [0, %d)", i, (int)label[i], V);
        else lab[i] = target[i] = label[i];
    }
    if (rc == 0 && parity) rc = fl_mlp_logits(&m->mlp, x, n, z);
    if (rc == 0 && parity) fl_ap_targets(FL_TASK_PARITY, z, lab, n, target);
    if (rc == 0) rc = fl_ap_scores(&m->mlp, &o, x, input ? xc : NULL, target, n, scores);
    free(lab), free(target), free(z);
    return rc;
}

int fl_capi_circuit_stability(const float *scores, int c, const int32_t *count, int k, int draws, uint64_t seed,
                              float *vec, double *rho, double *out) {
    if (c < 1 || k < 2) return fl_error_set("circuit stability: %d subtasks of %d components (at least 2 and 1)", k, c);
    if (draws < 0) return fl_error_set("circuit stability: %d random splits", draws);
    for (int s = 0; s < k; s++)
        if (count[s] < 1) return fl_error_set("circuit stability: subtask %d has no examples", s);
    fl_cs_stats st;
    if (fl_cs_compute(scores, c, (const int *)count, k, draws, seed, vec, rho, &st)) return -1;
    out[0] = st.cs, out[1] = st.random.mean, out[2] = st.random.lo, out[3] = st.random.hi;
    return 0;
}

int fl_capi_spearman(const float *vec, int k, int c, double *rho, double *out) {
    if (c < 2 || k < 2) return fl_error_set("spearman: %d vectors of %d components (at least 2 and 2)", k, c);
    fl_cs_matrix(vec, k, c, rho);
    out[0] = fl_cs_mean(rho, k);
    return 0;
}
