/* circuits.c: the `circuits` measurement of a model (circuits.h): the
 * MLP half (parity, fashion: the task's test split, examples per class or
 * random group) and the transformer half (modarith: every equation of a
 * grok model, by a, by answer or random groups; nodes or edges). */
#include "forgetlab/report/circuits.h"

#include "forgetlab/measure/attribution_tf.h"
#include "forgetlab/store/checkpoint.h"
#include "forgetlab/report/circuits_out.h"
#include "forgetlab/data/data.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/train/grok.h"
#include "forgetlab/io/npy.h"
#include "forgetlab/core/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mlp_component_name(const void *m, int c, char *buf, int n) { fl_ap_component_name(m, c, buf, n); }

/* Fashion classes by name, digits by value, random groups by number. */
static void subtask_name(const fl_circuits_request *a, int s, char *buf, size_t n) {
    static const char *const FASHION[10] = {"T-shirt", "trouser", "pullover", "dress", "coat",
                                            "sandal",  "shirt",   "sneaker",  "bag",   "boot"};
    if (a->k) snprintf(buf, n, "group %d", s);
    else if (a->task == FL_TASK_FASHION) snprintf(buf, n, "%s", FASHION[s]);
    else snprintf(buf, n, "%d", s);
}

/* The patching check's files, and its line in the log. */
static int report_patching(const fl_circuits_request *a, int n, int nc, const float *score, const float *change) {
    double pairs, means;
    if (fl_circuits_write_patching(a->out, n, nc, score, change, &pairs, &means)) return -1;
    fl_log(FL_LOG_INFO, "circuits: attribution against real patching on %d examples x %d components: Spearman %.4f over pairs, "
            "%.4f over the components' means -> %s/patching.json\n", n, nc, pairs, means, a->out);
    return 0;
}

/* Which of total examples the i-th of n checked ones is: n evenly spaced
 * over all of them, so every subtask is drawn from. */
static int spaced(int i, int n, int total) { return (int)((long)i * total / n); }

/* --check-patching N: N of the examples, evenly spaced over the subtasks,
 * every component patched for real, against its score. */
static int check_patching(const fl_circuits_request *a, const fl_mlp *m, const fl_ap_examples *ex, const float *scores) {
    const int nc = fl_ap_ncomponents(m), n = a->check_patching < ex->n ? (int)a->check_patching : ex->n;
    const int D = FL_TASK_DIM, input = ex->xc != NULL;
    float *x = malloc(sizeof(float) * (size_t)n * D), *xc = input ? malloc(sizeof(float) * (size_t)n * D) : NULL;
    float *sc = malloc(sizeof(float) * (size_t)n * nc), *change = malloc(sizeof(float) * (size_t)n * nc);
    int *label = malloc(sizeof(int) * n), rc = -1;
    if (!x || (input && !xc) || !sc || !change || !label) {
        fl_error_set("--check-patching: out of memory for %d examples", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const int e = spaced(i, n, ex->n);
        memcpy(x + (size_t)i * D, ex->x + (size_t)e * D, sizeof(float) * D);
        if (input) memcpy(xc + (size_t)i * D, ex->xc + (size_t)e * D, sizeof(float) * D);
        memcpy(sc + (size_t)i * nc, scores + (size_t)e * nc, sizeof(float) * nc);
        label[i] = ex->label[e];
    }
    if (fl_ap_patched_changes(m, &a->ap, a->task, x, xc, label, n, change) == 0)
        rc = report_patching(a, n, nc, sc, change);
out:
    free(x), free(xc), free(sc), free(change), free(label);
    return rc;
}

/* The probe's examples beside their scores, so the scores can be
 * recomputed from outside (python/forgetlab's circuits): inputs.npy [n,
 * 785], labels.npy and subtasks.npy [n] (int32), and for input
 * corruptions corrupted.npy [n, 785]. */
static int write_examples(const char *dir, const fl_ap_examples *ex) {
    const size_t d = FL_TASK_DIM;
    float *xc = ex->partner || ex->xc ? malloc(sizeof(float) * ex->n * d) : NULL;
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)ex->n), *sub = malloc(sizeof(int32_t) * (size_t)ex->n);
    char *p[4] = {fl_path_join(dir, "inputs.npy"), fl_path_join(dir, "corrupted.npy"), fl_path_join(dir, "labels.npy"),
                  fl_path_join(dir, "subtasks.npy")};
    int rc = !lab || !sub || !p[0] || !p[1] || !p[2] || !p[3] || ((ex->partner || ex->xc) && !xc)
                 ? fl_error_set("out of memory") : 0;
    for (int i = 0, s = 0, left = ex->count[0]; rc == 0 && i < ex->n; i++, left--) {
        while (left == 0) left = ex->count[++s];
        lab[i] = ex->label[i], sub[i] = s;
        if (xc) memcpy(xc + i * d, ex->partner ? ex->x + (size_t)ex->partner[i] * d : ex->xc + i * d, sizeof(float) * d);
    }
    const int64_t shape[2] = {ex->n, (int64_t)d};
    if (rc == 0) rc = fl_npy_write(p[0], ex->x, 2, shape);
    if (rc == 0 && xc) rc = fl_npy_write(p[1], xc, 2, shape);
    if (rc == 0) rc = fl_npy_write_ints(p[2], lab, ex->n);
    if (rc == 0) rc = fl_npy_write_ints(p[3], sub, ex->n);
    for (int k = 0; k < 4; k++) free(p[k]);
    free(xc), free(lab), free(sub);
    return rc;
}

static int circuits_mlp(fl_circuits_request *a) {
    fl_mlp m = {0};
    fl_task_data td = {0};
    fl_ap_examples ex = {0};
    int rc = -1, nc = 0, k = 0;
    float *mean = NULL, *vec = NULL, *scores = NULL;
    double *rho = NULL;
    char (*names)[24] = NULL;
    const char **np = NULL;
    if (fl_mlp_load(a->model, &m, NULL)) goto out;
    if (m.dims[0] != FL_TASK_DIM || m.dims[m.nlayers] != FL_TASK_CLASSES || m.nlayers < 2) {
        fl_error_set("%s: expected an MLP with hidden layers, %d inputs and %d outputs", a->model, FL_TASK_DIM,
                     FL_TASK_CLASSES);
        goto out;
    }
    if (fl_task_load(&td, a->task, fl_data_dir(a->data_dir), "test")) goto out;
    if ((rc = fl_ap_examples_build(&td, (int)a->k, (int)a->examples, a->ap.corrupt, (uint64_t)a->seed, &ex)) != 0)
        goto out;
    rc = -1;
    k = ex.k, nc = fl_ap_ncomponents(&m);
    names = malloc(sizeof *names * (size_t)k), np = malloc(sizeof *np * (size_t)k);
    vec = fl_malloc(sizeof(float) * (size_t)k * nc, "circuit vectors");
    rho = fl_malloc(sizeof(double) * (size_t)k * k, "spearman");
    scores = fl_malloc(sizeof(float) * (size_t)ex.n * nc, "attribution scores");
    if (!names || !np || !vec || !rho || !scores) {
        fl_error_set("out of memory");
        goto out;
    }
    for (int s = 0; s < k; s++) subtask_name(a, s, names[s], sizeof names[s]), np[s] = names[s];
    if (a->ap.corrupt == FL_AP_CORRUPT_MEAN) {
        if (!(mean = fl_malloc((size_t)fl_ap_nunits(&m) * sizeof(float), "means"))) goto out;
        if (fl_ap_mean_acts(&m, td.x, td.n, mean)) goto out;
        a->ap.mean_acts = mean;
    }
    a->ap.parity = a->task == FL_TASK_PARITY;
    fl_cs_stats st;
    if (fl_ap_examples_scores(&m, &a->ap, a->task, &ex, scores) ||
        fl_cs_compute(scores, nc, ex.count, k, (int)a->baseline, (uint64_t)a->seed, vec, rho, &st))
        goto out;
    char spec[128];
    fl_mlp_spec_string(&m, spec, sizeof spec);
    const fl_circuits_result res = {.model_path = a->model, .task = fl_task_name(a->task), .spec = spec,
                                    .subtasks = a->subtasks, .method = a->method,
                                    .data_dir = fl_data_dir(a->data_dir), .opts = &a->ap, .examples = a->examples,
                                    .seed = a->seed, .threshold = a->threshold, .k = k, .names = np,
                                    .count = ex.count, .nc = nc, .name_of = mlp_component_name, .model = &m,
                                    .scores = scores, .vec = vec, .rho = rho, .stats = &st};
    if (fl_mkdirs(a->out) || fl_circuits_write(a->out, &res) || write_examples(a->out, &ex)) goto out;
    fl_log(FL_LOG_INFO, "circuits: %s, %d subtasks x %d components, CS = %.4f (random splits %.4f [%.4f, %.4f]) -> %s\n",
           fl_task_name(a->task), k, nc, st.cs, st.random.mean, st.random.lo, st.random.hi, a->out);
    if (a->check_patching && check_patching(a, &m, &ex, scores)) goto out;
    rc = 0;
out:
    free(names), free(np), free(mean), free(vec), free(rho), free(scores);
    fl_ap_examples_free(&ex);
    fl_task_free(&td);
    fl_mlp_free(&m);
    return rc;
}

/* N of the subtasks' examples, evenly spaced so every subtask is drawn
 * from, scored and patched for real (fl_ap_tf_patched_changes). */
static int check_patching_tf(const fl_circuits_request *a, fl_transformer *m, const fl_mod_examples *ex) {
    const int T = m->cfg.ctx, nc = fl_ap_tf_ncomponents(m);
    const int n = a->check_patching < ex->n ? (int)a->check_patching : ex->n;
    int *tok = malloc(sizeof(int) * (size_t)n * T), *tokc = malloc(sizeof(int) * (size_t)n * T);
    int *target = malloc(sizeof(int) * n), rc = -1;
    float *score = malloc(sizeof(float) * (size_t)n * nc), *change = malloc(sizeof(float) * (size_t)n * nc);
    if (!tok || !tokc || !target || !score || !change) {
        fl_error_set("--check-patching: out of memory for %d examples", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const int e = spaced(i, n, ex->n);
        memcpy(tok + (size_t)i * T, ex->tok + (size_t)e * T, sizeof(int) * T);
        memcpy(tokc + (size_t)i * T, ex->tokc + (size_t)e * T, sizeof(int) * T);
        target[i] = ex->target[e];
    }
    if (fl_ap_tf_scores(m, &a->ap, tok, tokc, target, n, score) == 0 &&
        fl_ap_tf_patched_changes(m, &a->ap, tok, tokc, target, n, change) == 0)
        rc = report_patching(a, n, nc, score, change);
out:
    free(tok), free(tokc), free(target), free(score), free(change);
    return rc;
}

static void node_name(const void *m, int c, char *buf, int n) { fl_ap_tf_component_name(m, c, buf, n); }
static void edge_name(const void *m, int e, char *buf, int n) { fl_eap_edge_name(m, e, buf, n); }

static int circuits_modarith(fl_circuits_request *a) {
    fl_transformer m = {0};
    fl_modarith d = {0};
    fl_mod_examples ex = {0};
    char *cfg = NULL, (*names)[32] = NULL, spec[256];
    const char **np = NULL;
    float *vec = NULL, *mean = NULL, *scores = NULL;
    double *rho = NULL;
    int *count = NULL, rc = -1;
    fl_mod_subtasks sub = {.per = (int)a->examples, .seed = (uint64_t)a->seed, .corrupt = a->ap.corrupt};
    if (fl_tf_load(a->model, &m, &cfg) || fl_grok_dataset(a->model, cfg, &d)) goto out;
    if (fl_mod_subtasks_parse(a->subtasks, d.p, &sub)) {
        rc = FL_BAD_REQUEST;
        goto out;
    }
    const int k = sub.k, nc = a->edges ? fl_eap_nedges(&m) : fl_ap_tf_ncomponents(&m);
    vec = malloc(sizeof(float) * (size_t)k * nc), rho = malloc(sizeof(double) * (size_t)k * k);
    count = malloc(sizeof(int) * k), names = malloc(sizeof *names * k), np = malloc(sizeof *np * k);
    if (!vec || !rho || !count || !names || !np) {
        fl_error_set("out of memory");
        goto out;
    }
    if (a->ap.corrupt == FL_AP_CORRUPT_MEAN) {
        if (!(mean = malloc(sizeof(float) * fl_ap_tf_nacts(&m))) || fl_ap_tf_mean_acts(&m, d.tok, d.n, mean)) goto out;
        a->ap.mean_acts = mean;
    }
    /* The examples once: the circuit vectors and the patching check share them. */
    if ((rc = fl_mod_examples_build(&d, &sub, &ex, count)) != 0) goto out;
    rc = -1;
    if (!(scores = malloc(sizeof(float) * (size_t)ex.n * nc))) {
        fl_error_set("out of memory for %d x %d scores", ex.n, nc);
        goto out;
    }
    const int cf = fl_ap_corrupt_is_input(a->ap.corrupt);
    fl_cs_stats st;
    if (fl_tf_scores(&m, &a->ap, a->edges, ex.tok, cf ? ex.tokc : NULL, ex.target, ex.n, scores) ||
        fl_cs_compute(scores, nc, count, k, (int)a->baseline, (uint64_t)a->seed, vec, rho, &st))
        goto out;
    for (int s = 0; s < k; s++) {
        if (sub.kind == FL_MOD_SUB_RANDOM) snprintf(names[s], sizeof names[s], "group %d", s);
        else snprintf(names[s], sizeof names[s], "%s=%d", sub.kind == FL_MOD_SUB_BY_A ? "a" : "c", s);
        np[s] = names[s];
    }
    fl_tf_spec_string(&m.cfg, spec, sizeof spec);
    const fl_circuits_result res = {.model_path = a->model, .task = "modarith", .spec = spec,
                                    .subtasks = a->subtasks, .method = a->method, .data_dir = NULL, .opts = &a->ap,
                                    .examples = a->examples, .seed = a->seed, .threshold = a->threshold, .k = k,
                                    .names = np, .count = count, .nc = nc,
                                    .name_of = a->edges ? edge_name : node_name, .model = &m, .scores = scores, .vec = vec,
                                    .rho = rho, .stats = &st};
    if (fl_mkdirs(a->out) || fl_circuits_write(a->out, &res)) goto out;
    fl_log(FL_LOG_INFO, "circuits: modarith, %d subtasks x %d %s, CS = %.4f (random splits %.4f [%.4f, %.4f]) -> %s\n", k, nc,
           a->edges ? "edges" : "components", st.cs, st.random.mean, st.random.lo, st.random.hi, a->out);
    if (a->check_patching && check_patching_tf(a, &m, &ex)) goto out;
    rc = 0;
out:
    free(cfg), free(names), free(np), free(vec), free(mean), free(rho), free(count), free(scores);
    fl_mod_examples_free(&ex);
    fl_modarith_free(&d);
    fl_tf_free(&m);
    return rc;
}

int fl_circuits_run(fl_circuits_request *r) { return r->modarith ? circuits_modarith(r) : circuits_mlp(r); }

void fl_circuits_defaults(fl_circuits_request *r) {
    memset(r, 0, sizeof *r);
    r->method = "ap-ig";
    r->ap.loss = FL_AP_LOSS_KL, r->ap.corrupt = FL_AP_CORRUPT_WITHIN;
    r->ap.ig_steps = -1, r->ap.ig_form = (fl_ig_form)-1;
    r->examples = 200, r->baseline = 20, r->threshold = 0.5;
}

static int parse_task(const char *v, void *field) {
    fl_task_id t;
    if (strcmp(v, "modarith") && fl_task_parse(v, &t)) return fl_error_set("expected parity, fashion or modarith");
    *(const char **)field = v;
    return 0;
}
static int parse_subtasks(const char *v, void *field) {
    long k;
    (void)field;
    if (!strcmp(v, "by-class") || !strcmp(v, "by-a") || !strcmp(v, "by-answer")) return 0;
    if (!strncmp(v, "random:", 7)) return fl_parse_long("subtasks random:K", v + 7, 2, 1000, &k);
    return fl_error_set("expected by-class, by-a, by-answer or random:K");
}
static int parse_method(const char *v, void *field) {
    (void)field;
    if (strcmp(v, "ap") && strcmp(v, "ap-ig") && strcmp(v, "eap") && strcmp(v, "eap-ig"))
        return fl_error_set("%s: expected ap-ig, ap, eap or eap-ig", v);
    return 0;
}
static int parse_loss(const char *v, void *field) { return fl_ap_loss_parse(v, field); }
static void format_loss(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", fl_ap_loss_name(*(const fl_ap_loss *)field));
}
static int parse_corrupt(const char *v, void *field) { return fl_ap_corrupt_parse(v, field); }
static void format_corrupt(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", fl_ap_corrupt_name(*(const fl_ap_corrupt *)field));
}
static int parse_form(const char *v, void *field) { return fl_ig_form_parse(v, field); }
static void format_form(const void *field, char *buf, size_t n) {
    const int f = *(const int *)field;
    snprintf(buf, n, "%s", f == FL_IG_AVERAGE ? "average" : "path");
}

#define F(field) offsetof(fl_circuits_request, field)
const fl_setting FL_CIRCUITS_SETTINGS[] = {
    {"model", FL_SET_STRING, F(model), 0, 0, "PATH", "the model (run directory or .safetensors)", "model", NULL, NULL},
    {"task", FL_SET_STRING, F(task_name), 0, 0, "T",
     "parity, fashion (an MLP from pretrain / finetune) or modarith (a transformer from grok)", "task", parse_task,
     NULL},
    {"subtasks", FL_SET_STRING, F(subtasks), 0, 0, "S",
     "by-class (parity, fashion: one per digit / class), by-a or by-answer (modarith: one per value of a / of the "
     "answer), or random:K (K random groups of examples)", "subtasks", parse_subtasks, NULL},
    {"method", FL_SET_STRING, F(method), 0, 0, "M",
     "ap-ig (node scores with gradients integrated from x' to x), ap (node attribution patching), eap or eap-ig "
     "(edges; modarith)", "method", parse_method, NULL},
    {"steps", FL_SET_INT, F(ap.ig_steps), 1, 1000, "M", "ap-ig, eap-ig: interpolation steps (default 5)", NULL, NULL,
     NULL},
    {"ig-form", FL_SET_CUSTOM, F(ap.ig_form), 0, 0, "F",
     "ap-ig: path (default: the gradient integrated along the path each activation takes, so a layer's scores sum "
     "to the loss change) or average (the mean gradient times a' - a, as EAP-IG; not complete behind ReLUs; "
     "docs/circuits.md)", NULL, parse_form, format_form},
    {"corrupt", FL_SET_CUSTOM, F(ap.corrupt), 0, 0, "C",
     "within (another example of the same subtask), counterfactual (an image of the other parity / another class; "
     "modarith: a o b' with another b), mean (mean activation; ap only) or zero (ap, eap, eap-ig)", "corrupt",
     parse_corrupt, format_corrupt},
    {"loss", FL_SET_CUSTOM, F(ap.loss), 0, 0, "L",
     "kl (KL from the clean output; not with ap or eap, whose gradient vanishes at the clean run), ce or logit-diff",
     "loss", parse_loss, format_loss},
    {"examples", FL_SET_LONG, F(examples), 1, 100000, "N", "examples per subtask", "examples", NULL, NULL},
    {"baseline", FL_SET_LONG, F(baseline), 0, 10000, "R", "random splits for the baseline; 0: none", NULL, NULL, NULL},
    {"seed", FL_SET_LONG, F(seed), 0, 9.2e18, "N", "seed of the example, corruption and baseline draws", "seed", NULL,
     NULL},
    {"threshold", FL_SET_DOUBLE, F(threshold), -1, 1, "X", "Spearman at or above which two subtasks share a class",
     NULL, NULL, NULL},
    {"check-patching", FL_SET_LONG, F(check_patching), 1, 100000, "N",
     "ap or ap-ig: also patch every component for real on N of the examples and write the Spearman between scores "
     "and patched loss changes to DIR/patching.json", NULL, NULL, NULL},
    FL_SETTING_DATA_DIR(F(data_dir)),
};
#undef F
const int FL_CIRCUITS_NSETTINGS = (int)(sizeof FL_CIRCUITS_SETTINGS / sizeof *FL_CIRCUITS_SETTINGS);

int fl_circuits_resolve(fl_circuits_request *r) {
    if (!r->model || !r->task_name || !r->subtasks || !r->out)
        return fl_error_set("--model, --task, --subtasks and --out are required"), FL_BAD_REQUEST;
    r->modarith = !strcmp(r->task_name, "modarith");
    if (!r->modarith) fl_task_parse(r->task_name, &r->task);
    r->k = !strncmp(r->subtasks, "random:", 7) ? strtol(r->subtasks + 7, NULL, 10) : 0;
    const int ig = !strcmp(r->method, "ap-ig") || !strcmp(r->method, "eap-ig");
    r->edges = r->method[0] == 'e';
#define BAD(...) return fl_error_set(__VA_ARGS__), FL_BAD_REQUEST
    if (r->ap.ig_steps > 0 && !ig) BAD("--steps is for --method ap-ig or eap-ig");
    if ((int)r->ap.ig_form >= 0 && strcmp(r->method, "ap-ig")) BAD("--ig-form is for --method ap-ig");
    r->ap.ig_steps = ig ? (r->ap.ig_steps > 0 ? r->ap.ig_steps : 5) : 0;
    if ((int)r->ap.ig_form < 0) r->ap.ig_form = FL_IG_PATH;
    /* Combinations that cannot mean anything. */
    const int by_operand = !strcmp(r->subtasks, "by-a") || !strcmp(r->subtasks, "by-answer");
    if (!r->modarith && (r->edges || by_operand))
        BAD("%s is for transformers (--task modarith)", r->edges ? "--method eap / eap-ig" : "--subtasks by-a / by-answer");
    if (r->modarith && !strcmp(r->subtasks, "by-class"))
        BAD("--task modarith: subtasks are by-a, by-answer or random:K");
    if (r->ap.loss == FL_AP_LOSS_KL && !ig)
        BAD("--loss kl: its gradient vanishes at the clean run, so %s scores are all 0 (use --method %s)", r->method,
            r->edges ? "eap-ig" : "ap-ig");
    if (ig && !fl_ap_corrupt_is_input(r->ap.corrupt) && !(r->edges && r->ap.corrupt == FL_AP_CORRUPT_ZERO))
        BAD("--method %s integrates along the path from x' to x: --corrupt must be within or counterfactual", r->method);
    if (r->check_patching && r->edges) BAD("--check-patching is for node attribution (--method ap or ap-ig)");
    if (r->edges && r->ap.corrupt == FL_AP_CORRUPT_MEAN)
        BAD("--method %s: corruption must be within, counterfactual or zero", r->method);
#undef BAD
    return 0;
}
