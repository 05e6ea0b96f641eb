/* continual_report.c: the analysis of a continual-learning study
 * (study_continual.h) from its results.sqlite: results.csv; metrics.csv (a row per
 * run: average accuracy, BWT, FWT, both forgettings); methods.csv (each
 * method's means over seeds with t intervals); predictors.csv (does
 * the forward KL at a task boundary explain the forgetting of the earlier
 * tasks at that step, pooled over steps, runs and methods, with intervals
 * that resample runs within seeds); a heatmap of every run's accuracy
 * matrix, average accuracy over the sequence per method, the predictor
 * plot; index.html. The earlier tasks' forward KL and circuit stability
 * at the boundary are outcome-side predictors (measured on those tasks'
 * own inputs). */
#include "forgetlab/report/report.h"

#include "forgetlab/measure/clmetrics.h"
#include "forgetlab/train/continual.h"
#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/plot.h"
#include "forgetlab/measure/stats.h"
#include "forgetlab/store/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXT = 20, MAXM = 16, REPS = 1000 };

typedef struct {
    char method[32];
    int seed, T;
    double R[MAXT * MAXT], random[MAXT], kl[MAXT * MAXT], cs[MAXT * MAXT];
    fl_cl_metrics m;
} cl_run_data;

/* The runs of the points, their matrices filled from the rows. */
static int collect(const fl_points *p, cl_run_data **out, int *nruns) {
    const int fb = fl_points_field(p, "boundary"), ft = fl_points_field(p, "task"), fa = fl_points_field(p, "acc");
    const int fr = fl_points_field(p, "acc_random"), fk = fl_points_field(p, "kl_prev"), fc = fl_points_field(p, "cs");
    if (fb < 0 || ft < 0 || fa < 0 || fr < 0 || fk < 0) return fl_error_set("not a continual-learning study's results");
    cl_run_data *r = calloc((size_t)(p->nruns > 0 ? p->nruns : 1), sizeof *r);
    if (!r) return fl_error_set("out of memory");
    for (int i = 0; i < p->n; i++) {
        cl_run_data *d = &r[p->run[i]];
        const int t = (int)p->vals[i][fb], q = (int)p->vals[i][ft];
        if (t < 0 || q < 0 || t >= MAXT || q >= MAXT) continue;
        snprintf(d->method, sizeof d->method, "%s", p->method[i]);
        d->seed = p->seed[i];
        d->T = t + 1 > d->T ? t + 1 : d->T;
        d->T = q + 1 > d->T ? q + 1 : d->T;
    }
    for (int i = 0; i < p->n; i++) {
        cl_run_data *d = &r[p->run[i]];
        const int t = (int)p->vals[i][fb], q = (int)p->vals[i][ft];
        if (t < 0 || q < 0 || t >= d->T || q >= d->T) continue;
        d->R[t * d->T + q] = p->vals[i][fa], d->kl[t * d->T + q] = p->vals[i][fk], d->random[q] = p->vals[i][fr];
        d->cs[t * d->T + q] = fc >= 0 ? p->vals[i][fc] : NAN;
    }
    for (int k = 0; k < p->nruns; k++) fl_cl_metrics_compute(r[k].R, r[k].T, r[k].random, &r[k].m);
    *out = r, *nruns = p->nruns;
    return 0;
}

/* The predictor points: per run and boundary t >= 1, the forgetting of the
 * earlier tasks in that step, mean_{i<t} (R[t-1][i] - R[t][i]), against
 * the KL on the new task's inputs (x) and on the earlier tasks' own (xo). */
typedef struct {
    double *x, *xo, *xc, *y;
    int *run, *seed, *group, n;
} pred_points;

static int predictor_points(const cl_run_data *r, int nruns, char (*methods)[32], int nm, pred_points *pp) {
    int cap = 0;
    for (int k = 0; k < nruns; k++) cap += r[k].T;
    pp->x = malloc(sizeof(double) * (size_t)cap), pp->xo = malloc(sizeof(double) * (size_t)cap);
    pp->xc = malloc(sizeof(double) * (size_t)cap);
    pp->y = malloc(sizeof(double) * (size_t)cap);
    pp->run = malloc(sizeof(int) * (size_t)cap), pp->seed = malloc(sizeof(int) * (size_t)cap);
    pp->group = malloc(sizeof(int) * (size_t)cap);
    pp->n = 0;
    if (!pp->x || !pp->xo || !pp->xc || !pp->y || !pp->run || !pp->seed || !pp->group)
        return fl_error_set("out of memory");
    for (int k = 0; k < nruns; k++) {
        const int T = r[k].T;
        int g = 0;
        for (int j = 0; j < nm; j++)
            if (strcmp(methods[j], r[k].method) == 0) g = j;
        for (int t = 1; t < T; t++) {
            double f = 0, ko = 0, c = 0;
            for (int i = 0; i < t; i++)
                f += r[k].R[(t - 1) * T + i] - r[k].R[t * T + i], ko += r[k].kl[t * T + i], c += r[k].cs[t * T + i];
            pp->x[pp->n] = r[k].kl[t * T + t], pp->xo[pp->n] = ko / t, pp->xc[pp->n] = c / t, pp->y[pp->n] = f / t;
            pp->run[pp->n] = k, pp->seed[pp->n] = r[k].seed, pp->group[pp->n] = g;
            pp->n++;
        }
    }
    return 0;
}

static void pred_free(pred_points *pp) {
    free(pp->x), free(pp->xo), free(pp->xc), free(pp->y), free(pp->run), free(pp->seed), free(pp->group);
}

static int write_file(const char *dir, const char *name, const char *text) {
    char *path = fl_path_join(dir, name);
    const int rc = path ? fl_write_text_atomic(path, text) : fl_error_set("out of memory");
    free(path);
    return rc;
}

/* Average accuracy over the tasks seen so far, after each task, per method
 * (mean over its seeds). */
static int plot_average(const char *dir, const cl_run_data *r, int nruns, char (*methods)[32], int nm) {
    fl_series s[MAXM];
    double xs[MAXM][MAXT], ys[MAXM][MAXT];
    for (int j = 0; j < nm; j++) {
        int T = 0, cnt = 0;
        for (int t = 0; t < MAXT; t++) ys[j][t] = 0;
        for (int k = 0; k < nruns; k++) {
            if (strcmp(r[k].method, methods[j])) continue;
            T = r[k].T, cnt++;
            for (int t = 0; t < T; t++) {
                double a = 0;
                for (int i = 0; i <= t; i++) a += r[k].R[t * T + i];
                ys[j][t] += a / (t + 1);
            }
        }
        for (int t = 0; t < T; t++) xs[j][t] = t + 1, ys[j][t] /= cnt ? cnt : 1;
        s[j] = (fl_series){methods[j], xs[j], ys[j], T, FL_MARK_LINE_POINTS, FL_COLOR_NEXT, NULL};
    }
    fl_plot pl = {.title = "Average accuracy over the tasks seen so far", .xinteger = 1,
                  .xlabel = "tasks learnt",
                  .ylabel = "mean test accuracy on tasks 1..t",
                  .ymin = 0, .ymax = 1, .xmin = NAN, .xmax = NAN, .series = s, .nseries = nm};
    char *path = fl_path_join(dir, "average_accuracy");
    const int rc = path ? fl_plot_save(&pl, path) : fl_error_set("out of memory");
    free(path);
    return rc;
}

static int plot_predictor(const char *dir, const pred_points *pp, char (*methods)[32], int nm, const fl_r2_ci *ci) {
    fl_series s[MAXM];
    double *x = malloc(sizeof(double) * (size_t)(pp->n + 1) * nm), *y = malloc(sizeof(double) * (size_t)(pp->n + 1) * nm);
    if (!x || !y) {
        free(x), free(y);
        return fl_error_set("out of memory");
    }
    for (int j = 0; j < nm; j++) {
        int c = 0;
        for (int i = 0; i < pp->n; i++)
            if (pp->group[i] == j) x[j * pp->n + c] = pp->x[i], y[j * pp->n + c] = pp->y[i], c++;
        s[j] = (fl_series){methods[j], x + j * pp->n, y + j * pp->n, c, FL_MARK_POINTS, FL_COLOR_NEXT, NULL};
    }
    char note[128];
    snprintf(note, sizeof note, "R\xc2\xb2 = %.3f [%.3f, %.3f]\nn = %d steps", ci->r2, ci->lo, ci->hi, ci->n);
    fl_plot pl = {.title = "Forgetting of the earlier tasks vs forward KL on the new task",
                  .xlabel = "forward KL(previous \xe2\x80\x96 new model) on the new task's test inputs",
                  .ylabel = "mean accuracy drop of the earlier tasks in the step",
                  .xmin = NAN, .xmax = NAN, .ymin = NAN, .ymax = NAN, .series = s, .nseries = nm, .note = note};
    char *path = fl_path_join(dir, "forgetting_vs_kl");
    const int rc = path ? fl_plot_save(&pl, path) : fl_error_set("out of memory");
    free(path), free(x), free(y);
    return rc;
}

/* Each method's metrics over its seeds (independent runs): the mean and
 * its 95% t interval, est[j][q] for metric q in the order of NAMES. */
static const char *const METRIC_NAMES[5] = {"avg_acc", "bwt", "fwt", "forgetting_first", "forgetting_max"};

static void method_estimates(const cl_run_data *r, int nruns, char (*methods)[32], int nm, fl_estimate (*est)[5],
                             int *nseeds) {
    double *v = malloc(sizeof(double) * (size_t)(nruns > 0 ? nruns : 1));
    for (int j = 0; j < nm; j++)
        for (int q = 0; q < 5; q++) {
            int c = 0;
            for (int k = 0; v && k < nruns; k++) {
                if (strcmp(r[k].method, methods[j])) continue;
                const fl_cl_metrics *m = &r[k].m;
                const double x[5] = {m->avg_acc, m->bwt, m->fwt, m->forgetting_first, m->forgetting_max};
                v[c++] = x[q];
            }
            est[j][q] = v ? fl_mean_ci(v, c) : (fl_estimate){NAN, NAN, NAN};
            nseeds[j] = c;
        }
    free(v);
}

/* How x and y go together between the methods (Spearman over the methods'
 * mean points) and within them (over every point, its method's means
 * subtracted): a pooled sign can come from either. mx, my: the means. */
static void split_spearman(const double *x, const double *y, const int *group, int n, int nm, double *between,
                           double *within, double *mx, double *my) {
    int cnt[MAXM] = {0};
    for (int j = 0; j < nm; j++) mx[j] = my[j] = 0;
    for (int i = 0; i < n; i++) mx[group[i]] += x[i], my[group[i]] += y[i], cnt[group[i]]++;
    for (int j = 0; j < nm; j++) mx[j] = cnt[j] ? mx[j] / cnt[j] : NAN, my[j] = cnt[j] ? my[j] / cnt[j] : NAN;
    *between = nm >= 3 ? fl_spearman(mx, my, nm) : NAN;
    double *cx = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1)), *cy = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; cx && cy && i < n; i++) cx[i] = x[i] - mx[group[i]], cy[i] = y[i] - my[group[i]];
    *within = cx && cy && n >= 3 ? fl_spearman(cx, cy, n) : NAN;
    free(cx), free(cy);
}

/* methods.csv: a row per method, every metric's mean over seeds with its
 * interval, then the mean boundary KL on the new task's inputs and the
 * mean forgetting of the earlier tasks in a step (kl_new, step_forgetting). */
static int write_methods(const char *dir, char (*methods)[32], int nm, fl_estimate (*est)[5], const int *nseeds,
                         const double *kl_new, const double *step_forgetting) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return fl_error_set("out of memory");
    fprintf(f, "method,seeds");
    for (int q = 0; q < 5; q++) fprintf(f, ",%s,%s_lo,%s_hi", METRIC_NAMES[q], METRIC_NAMES[q], METRIC_NAMES[q]);
    fprintf(f, ",kl_new,step_forgetting\n");
    for (int j = 0; j < nm; j++) {
        fprintf(f, "%s,%d", methods[j], nseeds[j]);
        for (int q = 0; q < 5; q++)
            for (int b = 0; b < 3; b++) {
                const double x = b == 0 ? est[j][q].v : b == 1 ? est[j][q].lo : est[j][q].hi;
                fprintf(f, isnan(x) ? "," : ",%.6g", x);
            }
        fprintf(f, isnan(kl_new[j]) ? "," : ",%.6g", kl_new[j]);
        fprintf(f, isnan(step_forgetting[j]) ? ",\n" : ",%.6g\n", step_forgetting[j]);
    }
    fclose(f);
    const int rc = write_file(dir, "methods.csv", buf);
    free(buf);
    return rc;
}

/* The methods met in the runs, in continual.h's order (each keeps its
 * colour), unknown ones last. */
static int order_methods(const cl_run_data *r, int nruns, char (*methods)[32]) {
    int nm = 0;
    for (int m = 0; m <= FL_CL_NMETHODS && nm < MAXM; m++)
        for (int k = 0; k < nruns; k++) {
            fl_cl_method id;
            const int known = fl_cl_method_parse(r[k].method, &id) == 0;
            int seen = 0;
            for (int j = 0; j < nm; j++) seen |= strcmp(methods[j], r[k].method) == 0;
            if (!seen && (m < FL_CL_NMETHODS ? known && (int)id == m : !known)) snprintf(methods[nm++], 32, "%s", r[k].method);
        }
    return nm;
}

/* metrics.csv, and each run's heatmap beside its matrix. */
static int write_metrics(const char *dir, const cl_run_data *r, int nruns) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return fl_error_set("out of memory");
    int rc = 0;
    fprintf(f, "run,method,seed,tasks,avg_acc,bwt,fwt,forgetting_first,forgetting_max\n");
    for (int k = 0; k < nruns && rc == 0; k++) {
        const fl_cl_metrics *m = &r[k].m;
        char id[160], title[160], *hm;
        fprintf(f, "%s_s%d,%s,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g\n", r[k].method, r[k].seed, r[k].method, r[k].seed,
                r[k].T, m->avg_acc, m->bwt, m->fwt, m->forgetting_first, m->forgetting_max);
        snprintf(title, sizeof title, "%s, seed %d: accuracy on task i after task t", r[k].method, r[k].seed);
        snprintf(id, sizeof id, "accuracy_%s_s%d", r[k].method, r[k].seed);
        rc = !(hm = fl_path_join(dir, id)) || fl_heatmap_save(title, r[k].R, r[k].T, r[k].T, NULL, NULL, 0, 1, hm);
        free(hm);
    }
    fclose(f);
    if (rc == 0) rc = write_file(dir, "metrics.csv", buf);
    free(buf);
    return rc ? -1 : 0;
}

/* The predictors' fits, pooled over boundaries, runs and methods, and
 * their sign between and within methods: [0] the forward KL on the new
 * task's inputs, [1] on the earlier tasks' own (outcome side), [2]
 * circuit stability (only when the study measured it). */
typedef struct {
    fl_r2_ci ci[3];
    double spearman[3], between[3], within[3];
    int finite_cs;
} cl_fits;

static int fit_predictors(const pred_points *pp, int nm, cl_fits *fit, double *kl_new, double *step_forgetting) {
    double mx[MAXM], my[MAXM];
    const double *xs[3] = {pp->x, pp->xo, pp->xc};
    split_spearman(pp->x, pp->y, pp->group, pp->n, nm, &fit->between[0], &fit->within[0], kl_new, step_forgetting);
    for (int q = 1; q < 3; q++) split_spearman(xs[q], pp->y, pp->group, pp->n, nm, &fit->between[q], &fit->within[q], mx, my);
    for (int q = 0; q < 3; q++) fit->ci[q] = (fl_r2_ci){NAN, NAN, NAN, 0};
    fl_clusters cl = {0};
    if (fl_clusters_init(&cl, pp->run, pp->seed, pp->n)) return -1;
    fit->finite_cs = pp->n >= 3;
    for (int i = 0; i < pp->n; i++) fit->finite_cs &= isfinite(pp->xc[i]);
    const int rc = pp->n >= 3 && (fl_poly2_r2_bootstrap(pp->x, pp->y, pp->n, &cl, REPS, 1, &fit->ci[0]) ||
                                  fl_poly2_r2_bootstrap(pp->xo, pp->y, pp->n, &cl, REPS, 1, &fit->ci[1]) ||
                                  (fit->finite_cs && fl_poly2_r2_bootstrap(pp->xc, pp->y, pp->n, &cl, REPS, 1, &fit->ci[2])));
    fl_clusters_free(&cl);
    if (rc) return -1;
    fit->spearman[0] = fl_spearman(pp->x, pp->y, pp->n);
    fit->spearman[1] = fl_spearman(pp->xo, pp->y, pp->n);
    fit->spearman[2] = fit->finite_cs ? fl_spearman(pp->xc, pp->y, pp->n) : NAN;
    return 0;
}

static int write_predictors(const char *dir, const cl_fits *fit) {
    static const char *const NAMES[3] = {"forward_kl_new", "forward_kl_old", "circuit_stability_old"};
    static const char *const SIDES[3] = {"new", "outcome", "outcome"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return fl_error_set("out of memory");
    fprintf(f, "predictor,r2,r2_lo,r2_hi,n,spearman,side,spearman_between,spearman_within\n");
    /* Circuit stability's row only when the study measured it (--cs-per > 0). */
    for (int q = 0; q < (fit->finite_cs ? 3 : 2); q++)
        fprintf(f, "%s,%.6f,%.6f,%.6f,%d,%.6f,%s,%.6f,%.6f\n", NAMES[q], fit->ci[q].r2, fit->ci[q].lo, fit->ci[q].hi,
                fit->ci[q].n, fit->spearman[q], SIDES[q], fit->between[q], fit->within[q]);
    fclose(f);
    const int rc = write_file(dir, "predictors.csv", buf);
    free(buf);
    return rc;
}

static int write_index(const char *dir, const cl_run_data *r, int nruns, char (*methods)[32], int nm,
                       fl_estimate (*est)[5], const int *nseeds, const cl_fits *fit) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return fl_error_set("out of memory");
    const fl_r2_ci *ci_new = &fit->ci[0], *ci_old = &fit->ci[1];
    fl_html_head(f, "continual learning", "img{max-width:49%}");
    fputs("<h1>Continual learning: a task sequence</h1>\n", f);
    fprintf(f, "<p>%d runs; forward KL on the new task's inputs explains the step's forgetting of the earlier "
            "tasks with R&sup2; %.3f [%.3f, %.3f] (Spearman %+.3f; between the methods' means %+.3f, within a method "
            "%+.3f; %d steps); on the earlier tasks' own inputs (outcome side) %.3f [%.3f, %.3f].</p>\n", nruns,
            ci_new->r2, ci_new->lo, ci_new->hi, fit->spearman[0], fit->between[0], fit->within[0], ci_new->n,
            ci_old->r2, ci_old->lo, ci_old->hi);
    fputs("<img src=\"average_accuracy.png\"> <img src=\"forgetting_vs_kl.png\">\n<h2>Per method</h2>\n<p>Mean over "
          "seeds with its 95% t interval (seeds are the independent draws).</p>\n<table><tr><th>method</th>"
          "<th>seeds</th><th>average accuracy</th><th>BWT</th><th>FWT</th></tr>\n", f);
    for (int j = 0; j < nm; j++) {
        fprintf(f, "<tr><td>%s</td><td>%d</td>", methods[j], nseeds[j]);
        for (int q = 0; q < 3; q++)
            fprintf(f, "<td>%+.3f [%+.3f, %+.3f]</td>", est[j][q].v, est[j][q].lo, est[j][q].hi);
        fprintf(f, "</tr>\n");
    }
    fputs("</table>\n<h2>Per run</h2>\n<table><tr><th>method</th>"
          "<th>seed</th><th>average accuracy</th><th>BWT</th><th>FWT</th><th>forgetting (first-last)</th>"
          "<th>forgetting (max-last)</th></tr>\n", f);
    for (int k = 0; k < nruns; k++)
        fprintf(f, "<tr><td>%s</td><td>%d</td><td>%.3f</td><td>%+.3f</td><td>%+.3f</td><td>%.3f</td><td>%.3f</td>"
                "</tr>\n", r[k].method, r[k].seed, r[k].m.avg_acc, r[k].m.bwt, r[k].m.fwt, r[k].m.forgetting_first,
                r[k].m.forgetting_max);
    fputs("</table>\n<p>Data: <a href=\"results.csv\">results.csv</a>, <a href=\"metrics.csv\">metrics.csv</a>, "
          "<a href=\"predictors.csv\">predictors.csv</a>, <a href=\"methods.csv\">methods.csv</a>, results.sqlite; each run's matrix in "
          "runs/RUN/accuracy_matrix.npy and accuracy_METHOD_sSEED.png.</p>\n</body></html>\n", f);
    fclose(f);
    const int rc = write_file(dir, "index.html", buf);
    free(buf);
    return rc;
}

int fl_clstudy_analyse(const char *dir, FILE *out) {
    char *path = fl_path_join(dir, "results.sqlite"), *csv = fl_path_join(dir, "results.csv");
    fl_results db = {0};
    fl_points pts = {0};
    cl_run_data *r = NULL;
    pred_points pp = {0};
    char methods[MAXM][32];
    int nruns = 0, rc = -1;
    if (!path || !csv) goto out;
    if (fl_results_open_any(&db, path) || fl_results_export_csv(&db, csv) || fl_results_points(&db, &pts)) goto out;
    if (collect(&pts, &r, &nruns)) goto out;
    const int nm = order_methods(r, nruns, methods);
    if (write_metrics(dir, r, nruns)) goto out;
    fl_estimate est[MAXM][5];
    int nseeds[MAXM];
    method_estimates(r, nruns, methods, nm, est, nseeds);
    double kl_new[MAXM], step_forgetting[MAXM];
    cl_fits fit;
    if (predictor_points(r, nruns, methods, nm, &pp) || fit_predictors(&pp, nm, &fit, kl_new, step_forgetting) ||
        write_methods(dir, methods, nm, est, nseeds, kl_new, step_forgetting) || write_predictors(dir, &fit) ||
        plot_average(dir, r, nruns, methods, nm) || plot_predictor(dir, &pp, methods, nm, &fit.ci[0]) ||
        write_index(dir, r, nruns, methods, nm, est, nseeds, &fit))
        goto out;
    for (int j = 0; j < nm && out; j++)
        fprintf(out, "%-10s average accuracy %.3f [%.3f, %.3f]  BWT %+.3f [%+.3f, %+.3f]  (%d seed%s)\n", methods[j],
                est[j][0].v, est[j][0].lo, est[j][0].hi, est[j][1].v, est[j][1].lo, est[j][1].hi, nseeds[j],
                nseeds[j] > 1 ? "s" : "");
    if (out)
        fprintf(out, "forward KL on the new task vs the step's forgetting: R^2 %.3f [%.3f, %.3f], Spearman %+.3f\n",
                fit.ci[0].r2, fit.ci[0].lo, fit.ci[0].hi, fit.spearman[0]);
    rc = 0;
out:
    free(path), free(csv), free(r);
    pred_free(&pp);
    fl_points_free(&pts);
    if (db.db) fl_results_close(&db);
    return rc;
}
