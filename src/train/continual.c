/* continual.c: a task sequence learnt by one of continual learning's
 * methods (continual.h): the per-task training loop with each method's
 * terms (losses in cl_losses.c; anchors through fl_anchor_penalty; the
 * replay buffer of replay.h), and the accuracy matrix and boundary KLs. */
#include "cl_int.h"

#include "forgetlab/measure/attribution.h"
#include "forgetlab/core/error.h"
#include "forgetlab/measure/measure.h"
#include "forgetlab/nn/mlp.h"
#include "forgetlab/train/objectives.h"
#include "forgetlab/optim/optim.h"
#include "forgetlab/data/replay.h"
#include "forgetlab/measure/stability.h"
#include "forgetlab/measure/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const METHOD_NAMES[FL_CL_NMETHODS] = {"naive", "joint", "replay", "ewc", "online-ewc",
                                                         "si", "lwf", "l2sp", "kl", "agem"};

const char *fl_cl_method_name(fl_cl_method m) { return m >= 0 && m < FL_CL_NMETHODS ? METHOD_NAMES[m] : "?"; }

int fl_cl_method_parse(const char *s, fl_cl_method *out) {
    for (int i = 0; i < FL_CL_NMETHODS; i++)
        if (strcmp(s, METHOD_NAMES[i]) == 0) return *out = (fl_cl_method)i, 0;
    return fl_error_set("unknown method '%s' (expected naive, joint, replay, ewc, online-ewc, si, lwf, l2sp, kl or "
                        "agem)", s);
}

void fl_cl_defaults(fl_cl_config *c) {
    memset(c, 0, sizeof *c);
    c->method = FL_CL_NAIVE;
    c->hidden = 400, c->epochs = 1, c->batch = 32, c->lr = 1e-3;
    c->buffer = 1000, c->ewc_lambda = NAN, c->ewc_gamma = 1.0, c->si_c = NAN, c->si_xi = 0.1;
    c->lwf_alpha = 1.0, c->lwf_temp = 2.0, c->l2sp_lambda = 0.01, c->kl_beta = 1.0, c->fisher_n = 1000;
    c->cs_per = 20;
}

/* The weights van de Ven, Tuytelaars and Tolias (2022, "Three types of
 * incremental learning") found by grid search for each benchmark and
 * scenario, with the same exact Fisher (expectation over the model's own
 * labels) and the same penalties (lambda/2 sum F d^2; c sum Omega d^2 with
 * xi = 0.1). Split Fashion-MNIST takes Split MNIST's, Rotated MNIST
 * Permuted MNIST's: the benchmarks most like them. */
void fl_cl_resolve(fl_cl_config *c, fl_cl_benchmark bench, fl_cl_scenario scenario) {
    static const double EWC[2][FL_CL_NSCENARIO] = {{1e5, 1e10, 1e9}, {100, 100, 100}};
    static const double SI[2][FL_CL_NSCENARIO] = {{10, 5e4, 5e3}, {10, 10, 5}};
    const int split = bench == FL_CL_SPLIT_MNIST || bench == FL_CL_SPLIT_FASHION ? 0 : 1;
    const int s = scenario >= 0 && scenario < FL_CL_NSCENARIO ? scenario : FL_CL_DOMAIN_IL;
    if (isnan(c->ewc_lambda)) c->ewc_lambda = EWC[split][s];
    if (isnan(c->si_c)) c->si_c = SI[split][s];
}

typedef struct {
    const fl_cl_config *c;
    const fl_cl_bench *b;
    fl_mlp m, prev;
    fl_mlp_acts a;
    fl_optim opt;
    fl_rng rng;                  /* batches, buffer draws (FL_STREAM_DATA) */
    fl_reservoir buf;            /* ids: task * stride + index */
    int stride;
    float **F, **anchor;         /* per earlier task (ewc), or [0] alone (online-ewc, si, l2sp) */
    float *omega, *start, *gtask, *before;
    float *x, *dl, *pz;          /* the batch: inputs [2B, 784], dlogits, the previous model's logits */
    float *zlast[FL_CL_MAX_TASKS]; /* the last evaluated model's logits on each task's test set */
    int *y;
    cl_head *h;
    size_t n;                    /* parameters */
} cl_state;

static cl_head head_of(const fl_cl_bench *b, int t) { return (cl_head){b->head_first[t], b->head_size[t]}; }

/* Appends example i of task t to the batch at row r. */
static void put(cl_state *s, int r, int t, int i) {
    memcpy(s->x + (size_t)r * FL_CL_DIM, s->b->train[t].x + (size_t)i * FL_CL_DIM, sizeof(float) * FL_CL_DIM);
    s->y[r] = s->b->train[t].y[i];
    s->h[r] = head_of(s->b, t);
}

/* The outputs LwF distils task t's inputs into for earlier task k: its
 * head (task-incremental), the earlier tasks' classes (class-incremental:
 * k == 0 gives them all at once), or every output (domain). */
static cl_head lwf_range(const fl_cl_bench *b, int t, int k) {
    if (b->scenario == FL_CL_TASK_IL) return head_of(b, k);
    if (b->scenario == FL_CL_CLASS_IL) return k == 0 ? (cl_head){0, (b->nout / b->ntasks) * t} : (cl_head){0, 0};
    return k == 0 ? (cl_head){0, b->nout} : (cl_head){0, 0};
}

/* The penalties that anchor the weights, their gradients added. */
static double anchors(cl_state *s, int t) {
    const fl_cl_config *c = s->c;
    double pen = 0;
    if (t == 0) return 0;
    switch (c->method) {
    case FL_CL_EWC:
        for (int k = 0; k < t; k++) pen += fl_anchor_penalty(&s->m.blob, s->anchor[k], s->F[k], c->ewc_lambda);
        break;
    case FL_CL_ONLINE_EWC: pen = fl_anchor_penalty(&s->m.blob, s->anchor[0], s->F[0], c->ewc_lambda); break;
    case FL_CL_SI: pen = fl_anchor_penalty(&s->m.blob, s->anchor[0], s->F[0], 2 * c->si_c); break;
    case FL_CL_L2SP: pen = fl_anchor_penalty(&s->m.blob, s->anchor[0], NULL, c->l2sp_lambda); break;
    default: break;
    }
    return pen;
}

/* A-GEM: the gradient on a batch of the memory; the step's gradient, if it
 * points against it, projected onto its normal plane. */
static void agem_project(cl_state *s, int B) {
    const int V = s->b->nout;
    memcpy(s->gtask, s->m.blob.grads, sizeof(float) * s->n);
    int ids[1024];
    fl_reservoir_sample(&s->buf, B, &s->rng, ids);
    for (int r = 0; r < B; r++) put(s, r, ids[r] / s->stride, ids[r] % s->stride);
    fl_blob_zero_grads(&s->m.blob);
    const float *z = fl_mlp_forward(&s->m, &s->a, s->x, B);
    memset(s->dl, 0, sizeof(float) * (size_t)B * V);
    cl_masked_ce(s->dl, z, s->y, s->h, B, V, 1.0);
    fl_mlp_backward(&s->m, &s->a, s->dl, NULL, B);
    double dot = 0, nn = 0;
    for (size_t i = 0; i < s->n; i++) dot += (double)s->gtask[i] * s->m.blob.grads[i], nn += (double)s->m.blob.grads[i] * s->m.blob.grads[i];
    const double k = dot < 0 && nn > 0 ? dot / nn : 0;
    for (size_t i = 0; i < s->n; i++) s->m.blob.grads[i] = (float)(s->gtask[i] - k * s->m.blob.grads[i]);
}

/* One optimisation step on the examples (task[r], index[r]), r < B. */
static double step(cl_state *s, int t, const int *task, const int *index, int B) {
    const fl_cl_config *c = s->c;
    const fl_cl_bench *b = s->b;
    const int V = b->nout;
    int R = B;
    for (int r = 0; r < B; r++) put(s, r, task[r], index[r]);
    /* Replay: as many examples again from the buffer. */
    if (c->method == FL_CL_REPLAY && s->buf.n > 0) {
        int ids[1024];
        fl_reservoir_sample(&s->buf, B, &s->rng, ids);
        for (int r = 0; r < B; r++) put(s, B + r, ids[r] / s->stride, ids[r] % s->stride);
        R = 2 * B;
    }
    fl_blob_zero_grads(&s->m.blob);
    const float *z = fl_mlp_forward(&s->m, &s->a, s->x, R);
    memset(s->dl, 0, sizeof(float) * (size_t)R * V);
    double loss = cl_masked_ce(s->dl, z, s->y, s->h, R, V, 1.0);
    if ((c->method == FL_CL_LWF || c->method == FL_CL_KL) && t > 0) {
        fl_mlp_logits(&s->prev, s->x, B, s->pz);
        cl_head hr[1024];
        if (c->method == FL_CL_KL) {
            loss += c->kl_beta * cl_distill(s->dl, z, s->pz, s->h, B, V, 1.0, c->kl_beta);
        } else {
            for (int k = 0; k < t; k++) {
                for (int r = 0; r < B; r++) hr[r] = lwf_range(b, t, k);
                loss += c->lwf_alpha * cl_distill(s->dl, z, s->pz, hr, B, V, c->lwf_temp, c->lwf_alpha);
            }
        }
    }
    fl_mlp_backward(&s->m, &s->a, s->dl, NULL, R);
    if (c->method == FL_CL_SI) memcpy(s->gtask, s->m.blob.grads, sizeof(float) * s->n);
    loss += anchors(s, t);
    if (c->method == FL_CL_AGEM && t > 0 && s->buf.n > 0) agem_project(s, B);
    if (c->method == FL_CL_SI) memcpy(s->before, s->m.blob.params, sizeof(float) * s->n);
    fl_optim_step(&s->opt, &s->m.blob, (float)c->lr);
    if (c->method == FL_CL_SI)
        for (size_t i = 0; i < s->n; i++) s->omega[i] -= s->gtask[i] * (s->m.blob.params[i] - s->before[i]);
    return loss;
}

/* What a method keeps at the end of task t: Fisher, importance, anchor,
 * memory. */
static int end_task(cl_state *s, int t) {
    const fl_cl_config *c = s->c;
    const fl_cl_set *set = &s->b->train[t];
    const size_t n = s->n;
    if (c->method == FL_CL_EWC || c->method == FL_CL_ONLINE_EWC) {
        /* The exact Fisher of the model as it answers the task: over the
         * task's own head in task-incremental learning (the other outputs
         * masked), over every output otherwise. */
        float *F = malloc(sizeof(float) * n);
        const int nf = set->n < c->fisher_n ? set->n : c->fisher_n;
        const cl_head h = head_of(s->b, t);
        if (!F || fl_fisher_diag_head(F, &s->m, set->x, nf, h.first, h.size)) {
            free(F);
            return -1;
        }
        const int k = c->method == FL_CL_EWC ? t : 0;
        for (size_t i = 0; i < n; i++) s->F[k][i] = c->method == FL_CL_EWC ? F[i] : (float)(c->ewc_gamma * s->F[0][i] + F[i]);
        memcpy(s->anchor[k], s->m.blob.params, sizeof(float) * n);
        free(F);
    }
    if (c->method == FL_CL_SI) {
        for (size_t i = 0; i < n; i++) {
            const double d = (double)s->m.blob.params[i] - s->start[i];
            s->F[0][i] += (float)(fmax(s->omega[i], 0) / (d * d + c->si_xi));
        }
        memset(s->omega, 0, sizeof(float) * n);
        memcpy(s->start, s->m.blob.params, sizeof(float) * n);
        memcpy(s->anchor[0], s->m.blob.params, sizeof(float) * n);
    }
    if (c->method == FL_CL_L2SP) memcpy(s->anchor[0], s->m.blob.params, sizeof(float) * n);
    if (c->method == FL_CL_REPLAY || c->method == FL_CL_AGEM) {
        int *order = malloc(sizeof(int) * (size_t)set->n);
        if (!order) return fl_error_set("out of memory");
        for (int i = 0; i < set->n; i++) order[i] = i;
        fl_rng_shuffle(&s->rng, order, set->n);
        for (int i = 0; i < set->n; i++) fl_reservoir_offer(&s->buf, t * s->stride + order[i], &s->rng);
        free(order);
    }
    return 0;
}

/* Accuracy of m on every task's test set: row[i]; with kl, the boundary
 * KL(previous model || m) on tasks i <= upto, the previous model's logits
 * being those the last evaluation kept (s->zlast): one forward pass a
 * task and boundary, as the accuracy needs anyway. */
static int evaluate(cl_state *s, const fl_mlp *m, int upto, double *row, double *kl) {
    const fl_cl_bench *b = s->b;
    const int V = b->nout;
    for (int i = 0; i < b->ntasks; i++) {
        const fl_cl_set *te = &b->test[i];
        float *z = malloc(sizeof(float) * (size_t)(te->n > 0 ? te->n : 1) * V);
        cl_head *h = malloc(sizeof(cl_head) * (size_t)(te->n > 0 ? te->n : 1));
        int rc = z && h ? fl_mlp_logits(m, te->x, te->n, z) : fl_error_set("out of memory");
        const cl_head hi = head_of(b, i);
        if (rc == 0) row[i] = cl_accuracy(z, te->y, &hi, te->n, V);
        if (kl) kl[i] = NAN;
        if (rc == 0 && kl && i <= upto && s->zlast[i]) {
            for (int k = 0; k < te->n; k++) h[k] = hi;
            kl[i] = cl_distill(NULL, z, s->zlast[i], h, te->n, V, 1.0, 0.0);
        }
        free(h);
        if (rc) {
            free(z);
            return -1;
        }
        free(s->zlast[i]);
        s->zlast[i] = z;
    }
    return 0;
}

/* Circuit stability of task i's classes in m: the first cs_per test
 * examples of each class (in the test set's order), each with a partner of
 * its own class (fl_within_partners), AP-IG on the KL from the clean
 * output; CS and the mean of its random-split baseline. */
static int circuit_stability(const cl_state *s, const fl_mlp *m, int i, double *cs, double *random) {
    const fl_cl_set *te = &s->b->test[i];
    const int per = s->c->cs_per;
    *cs = *random = NAN;
    if (per <= 0) return 0;
    /* The classes: distinct targets, in order of first appearance. */
    int cls[CL_MAX_OUT], count[CL_MAX_OUT] = {0}, k = 0, n = 0;
    for (int q = 0; q < te->n; q++) {
        int c = 0;
        while (c < k && cls[c] != te->y[q]) c++;
        if (c == k && k < CL_MAX_OUT) cls[k++] = te->y[q];
    }
    float *x = malloc(sizeof(float) * (size_t)k * per * FL_CL_DIM), *xc = malloc(sizeof(float) * (size_t)k * per * FL_CL_DIM);
    int *partner = malloc(sizeof(int) * (size_t)k * per), *target = malloc(sizeof(int) * (size_t)k * per);
    const int nc = fl_ap_ncomponents(m);
    float *scores = malloc(sizeof(float) * (size_t)k * per * nc);
    int rc = x && xc && partner && target && scores ? 0 : fl_error_set("out of memory");
    for (int c = 0; c < k && rc == 0; c++)
        for (int q = 0; q < te->n && count[c] < per; q++)
            if (te->y[q] == cls[c]) {
                memcpy(x + (size_t)n * FL_CL_DIM, te->x + (size_t)q * FL_CL_DIM, sizeof(float) * FL_CL_DIM);
                target[n++] = te->y[q];
                count[c]++;
            }
    if (rc == 0 && k >= 2) rc = fl_within_partners(count, k, s->c->seed, partner);
    if (rc == 0 && k >= 2) {
        for (int q = 0; q < n; q++) memcpy(xc + (size_t)q * FL_CL_DIM, x + (size_t)partner[q] * FL_CL_DIM, sizeof(float) * FL_CL_DIM);
        fl_ap_opts o;
        fl_circuit_probe_default(&o);
        fl_cs_stats st;
        rc = fl_ap_scores(m, &o, x, xc, target, n, scores);
        if (rc == 0) rc = fl_cs_compute(scores, nc, count, k, 20, s->c->seed, NULL, NULL, &st);
        if (rc == 0) *cs = st.cs, *random = st.random.mean;
    }
    free(x), free(xc), free(partner), free(target), free(scores);
    return rc;
}

static void state_free(cl_state *s) {
    fl_mlp_free(&s->m), fl_mlp_free(&s->prev);
    fl_mlp_acts_free(&s->a);
    fl_reservoir_free(&s->buf);
    for (int k = 0; s->F && k < FL_CL_MAX_TASKS; k++) free(s->F[k]), free(s->anchor[k]);
    free(s->F), free(s->anchor);
    free(s->omega), free(s->start), free(s->gtask), free(s->before);
    free(s->x), free(s->dl), free(s->pz), free(s->y), free(s->h);
    for (int t = 0; t < FL_CL_MAX_TASKS; t++) free(s->zlast[t]);
}

static int state_init(cl_state *s, const fl_cl_config *c, const fl_cl_bench *b) {
    memset(s, 0, sizeof *s);
    s->c = c, s->b = b;
    if (c->batch < 1 || c->batch > 1024) return fl_error_set("batch %d: 1 to 1024", c->batch);
    if ((c->method == FL_CL_REPLAY || c->method == FL_CL_AGEM) && c->buffer < 1)
        return fl_error_set("%s needs a buffer of at least 1 example, not %d", fl_cl_method_name(c->method), c->buffer);
    const int dims[4] = {FL_CL_DIM, c->hidden, c->hidden, b->nout};
    if (fl_mlp_create(&s->m, 3, dims) || fl_mlp_create(&s->prev, 3, dims)) return -1;
    fl_rng init;
    fl_rng_init(&init, c->seed, FL_STREAM_INIT);
    fl_mlp_init(&s->m, &init);
    fl_rng_init(&s->rng, c->seed, FL_STREAM_DATA);
    fl_optim_adamw(&s->opt, 0.9f, 0.999f, 1e-8f, 0.0f);
    s->n = s->m.blob.n;
    for (int t = 0; t < b->ntasks; t++) s->stride = b->train[t].n > s->stride ? b->train[t].n : s->stride;
    const int R = 2 * c->batch;
    s->x = malloc(sizeof(float) * (size_t)R * FL_CL_DIM), s->dl = malloc(sizeof(float) * (size_t)R * b->nout);
    s->pz = malloc(sizeof(float) * (size_t)R * b->nout), s->y = malloc(sizeof(int) * (size_t)R);
    s->h = malloc(sizeof(cl_head) * (size_t)R);
    s->F = calloc(FL_CL_MAX_TASKS, sizeof(float *)), s->anchor = calloc(FL_CL_MAX_TASKS, sizeof(float *));
    s->omega = calloc(s->n, sizeof(float)), s->start = malloc(sizeof(float) * s->n);
    s->gtask = malloc(sizeof(float) * s->n), s->before = malloc(sizeof(float) * s->n);
    if (!s->x || !s->dl || !s->pz || !s->y || !s->h || !s->F || !s->anchor || !s->omega || !s->start || !s->gtask ||
        !s->before)
        return fl_error_set("out of memory");
    const int nanchors = c->method == FL_CL_EWC ? b->ntasks : 1;
    for (int k = 0; k < nanchors; k++) {
        s->F[k] = calloc(s->n, sizeof(float)), s->anchor[k] = malloc(sizeof(float) * s->n);
        if (!s->F[k] || !s->anchor[k]) return fl_error_set("out of memory for the anchors");
    }
    memcpy(s->start, s->m.blob.params, sizeof(float) * s->n);
    if ((c->method == FL_CL_REPLAY || c->method == FL_CL_AGEM) && fl_reservoir_init(&s->buf, c->buffer)) return -1;
    return fl_mlp_acts_alloc(&s->a, &s->m, R);
}

int fl_cl_run(const fl_cl_config *c, const fl_cl_bench *b, fl_cl_result *out) {
    cl_state s;
    fl_cl_config resolved = *c;
    fl_cl_resolve(&resolved, b->bench, b->scenario);
    c = &resolved;
    const int T = b->ntasks, B = c->batch;
    memset(out, 0, sizeof *out);
    out->T = T;
    int rc = state_init(&s, c, b);
    if (rc == 0) rc = evaluate(&s, &s.m, -1, out->random, NULL);
    int *task = malloc(sizeof(int) * (size_t)T * s.stride), *index = malloc(sizeof(int) * (size_t)T * s.stride);
    if (rc == 0 && (!task || !index)) rc = fl_error_set("out of memory");
    for (int t = 0; t < T && rc == 0; t++) {
        /* The examples of this task (joint: of every task so far). */
        int n = 0;
        for (int k = c->method == FL_CL_JOINT ? 0 : t; k <= t; k++)
            for (int i = 0; i < b->train[k].n; i++) task[n] = k, index[n] = i, n++;
        fl_blob_zero_moments(&s.m.blob);
        s.opt.t = 0;
        for (int e = 0; e < c->epochs; e++) {
            /* A shuffle of positions, applied to both arrays. */
            for (int i = n - 1; i > 0; i--) {
                const int j = (int)fl_rng_below(&s.rng, (uint32_t)(i + 1));
                int tt = task[i], ii = index[i];
                task[i] = task[j], index[i] = index[j], task[j] = tt, index[j] = ii;
            }
            for (int i0 = 0; i0 < n && rc == 0; i0 += B) {
                const double loss = step(&s, t, task + i0, index + i0, n - i0 < B ? n - i0 : B);
                if (!isfinite(loss)) rc = fl_error_set("task %d: the loss became %g", t, loss);
            }
        }
        if (rc == 0) rc = end_task(&s, t);
        if (rc == 0) rc = evaluate(&s, &s.m, t ? t : -1, out->R + (size_t)t * T, out->kl + (size_t)t * T);
        for (int i = 0; i < T; i++) out->cs[(size_t)t * T + i] = out->cs_random[(size_t)t * T + i] = NAN;
        for (int i = 0; i <= t && rc == 0; i++)
            rc = circuit_stability(&s, &s.m, i, &out->cs[(size_t)t * T + i], &out->cs_random[(size_t)t * T + i]);
        if (rc == 0) rc = fl_blob_copy_params(&s.prev.blob, &s.m.blob);
    }
    if (rc == 0) fl_cl_metrics_compute(out->R, T, out->random, &out->metrics);
    free(task), free(index);
    state_free(&s);
    return rc;
}
