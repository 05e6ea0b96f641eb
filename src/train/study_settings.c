/* study_settings.c: the options of `study razor`, described once: the
 * settings table over fl_razor_config (the option parser and --help take it
 * from here), fl_razor_resolve, which checks what the options ask for
 * together, and the grid string that identifies a study (results.sqlite's
 * grid, compared to resume one), written and read back with the same
 * parsers and formatters as the options. */
#include "study_int.h"

#include "forgetlab/core/error.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A setting over several fields is given the first (member): the
 * configuration that holds it. */
#define OWNER(field, member) ((fl_razor_config *)((char *)(field) - offsetof(fl_razor_config, member)))
#define COWNER(field, member) ((const fl_razor_config *)((const char *)(field) - offsetof(fl_razor_config, member)))

/* "sft1,sft2": distinct methods of the sweep (field: nmethods). */
static int parse_methods(const char *v, void *field) {
    fl_razor_config *c = OWNER(field, nmethods);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    c->nmethods = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        fl_ft_method m;
        if (fl_ft_method_parse(tok, &m)) return -1;
        if (m == FL_FT_DISTILL)
            return fl_error_set("distill is not a sweep method (its runs follow the sweep; --no-distill skips them)");
        for (int k = 0; k < c->nmethods; k++)
            if (c->methods[k] == m) return fl_error_set("%s given twice", tok);
        c->methods[c->nmethods++] = m;
    }
    return c->nmethods > 0 ? 0 : fl_error_set("expected a comma-separated list of methods");
}
/* The methods, comma-separated; "" for the whole sweep. */
static void format_methods(const void *field, char *buf, size_t n) {
    const fl_razor_config *c = COWNER(field, nmethods);
    size_t len = 0;
    buf[0] = '\0';
    for (int m = 0; m < c->nmethods && len < n; m++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", m ? "," : "", fl_ft_method_name(c->methods[m]));
}

/* "1e-5,1e-4": learning rates in place of the grid's (field: nlrs). */
static int parse_lrs(const char *v, void *field) {
    fl_razor_config *c = OWNER(field, nlrs);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", v);
    c->nlrs = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (c->nlrs == FL_STUDY_MAX_LRS) return fl_error_set("at most %d learning rates", FL_STUDY_MAX_LRS);
        if (fl_parse_double("lrs", t, 1e-12, 10, &c->lrs[c->nlrs]))
            return fl_error_set("'%s' is not a learning rate in [1e-12, 10]", t);
        for (int k = 0; k < c->nlrs; k++)
            if (fl_same_run_lr(c->lrs[k], c->lrs[c->nlrs])) return fl_error_set("%s given twice", t);
        c->nlrs++;
    }
    return c->nlrs > 0 ? 0 : fl_error_set("expected a comma-separated list of learning rates");
}
static void format_lrs(const void *field, char *buf, size_t n) {
    const fl_razor_config *c = COWNER(field, nlrs);
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < c->nlrs && len < n; k++) len += (size_t)snprintf(buf + len, n - len, "%s%.10g", k ? "," : "", c->lrs[k]);
}

static int parse_sft2(const char *v, void *field) { return fl_sft2_labels_parse(v, field); }
/* "A,B/C,D", as fine-tuning's own setting writes it. */
static void format_sft2(const void *field, char *buf, size_t n) {
    fl_setting_find(FL_FINETUNE_SETTINGS, FL_FINETUNE_NSETTINGS, "sft2-labels")->format(field, buf, n);
}

/* "I/N", 1 <= I <= N: shard I of N (1-based, as SLURM's --array=1-N;
 * field: shard_index). */
static int parse_shard(const char *v, void *field) {
    fl_razor_config *c = OWNER(field, shard_index);
    return fl_parse_shard(v, &c->shard_index, &c->shard_count);
}
static void format_shard(const void *field, char *buf, size_t n) {
    const fl_razor_config *c = COWNER(field, shard_index);
    if (c->shard_count > 0) snprintf(buf, n, "%d/%d", c->shard_index, c->shard_count);
    else buf[0] = '\0';
}

/* The circuit probe: its method (field: cs_plain, read by
 * fl_razor_resolve so that --cs-steps may come before or after it), loss,
 * corruption (an input: the study has no mean activations) and
 * integrated-gradient form. */
static int parse_cs_method(const char *v, void *field) {
    fl_ap_opts o = {0};
    if (fl_ap_method_parse(v, &o)) return -1;
    *(int *)field = o.ig_steps == 0;
    return 0;
}
static void format_cs_method(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const int *)field ? "ap" : "ap-ig");
}
static int parse_cs_loss(const char *v, void *field) { return fl_ap_loss_parse(v, field); }
static void format_cs_loss(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", fl_ap_loss_name(*(const fl_ap_loss *)field));
}
static int parse_cs_corrupt(const char *v, void *field) {
    fl_ap_corrupt k;
    if (fl_ap_corrupt_parse(v, &k) || !fl_ap_corrupt_is_input(k))
        return fl_error_set("'%s': expected within or counterfactual", v);
    *(fl_ap_corrupt *)field = k;
    return 0;
}
static void format_cs_corrupt(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", fl_ap_corrupt_name(*(const fl_ap_corrupt *)field));
}
static int parse_cs_form(const char *v, void *field) { return fl_ig_form_parse(v, field); }
static void format_cs_form(const void *field, char *buf, size_t n) {
    snprintf(buf, n, "%s", *(const fl_ig_form *)field == FL_IG_AVERAGE ? "average" : "path");
}

/* No key: the study writes no config.json; what identifies it (the grid,
 * the probe) is recorded in results.sqlite. --with-distill, kept from when
 * the distill runs were optional, comes last, past FL_STUDY_NHELP. */
#define F(field) offsetof(fl_razor_config, field)
const fl_setting FL_STUDY_SETTINGS[] = {
    {"overwrite", FL_SET_FLAG, F(overwrite), 0, 0, NULL,
     "replace another study (another grid or circuit probe) or another command's run in --out", NULL, NULL, NULL},
    {"quick", FL_SET_FLAG, F(quick), 0, 0, NULL, "5 learning rates, constant schedule, 1 epoch", NULL, NULL, NULL},
    {"seeds", FL_SET_INT, F(seeds), 1, 1000, "N",
     "base seeds: seed s pretrains its own base model (DIR/base, DIR/base_s1, ...) and runs the whole grid from it",
     NULL, NULL, NULL},
    {"jobs", FL_SET_INT, F(jobs), 1, 256, "N", "concurrent runs (default: one per core)", NULL, NULL, NULL},
    {"threads", FL_SET_INT, F(threads), 0, FL_MAX_THREADS, "N", "total threads, shared by the jobs (default: all cores)", NULL,
     NULL, NULL},
    {"no-distill", FL_SET_FLAG, F(no_distill), 0, 0, NULL,
     "skip the distill runs (default: after the sweep, each seed's best grpo run, by final new-task accuracy then "
     "least forgetting, teaches distill runs over the same grid; not in a shard: run the study again on the merged "
     "directory)", NULL, NULL, NULL},
    {"methods", FL_SET_CUSTOM, F(nmethods), 0, 0, "LIST",
     "only these of the sweep's methods, comma-separated (e.g. sft1,sft2); distill runs need grpo among them", NULL,
     parse_methods, format_methods},
    {"lrs", FL_SET_CUSTOM, F(nlrs), 0, 0, "LIST",
     "these learning rates, comma-separated, in place of the grid's (15, or 5 with --quick, log-spaced over "
     "[3e-6, 1e-3])", NULL, parse_lrs, format_lrs},
    {"sft2-labels", FL_SET_CUSTOM, F(sft2_labels), 0, 0, "A,B/C,D",
     "sft2's labels for even digits (A or B) and odd ones (C or D)", NULL, parse_sft2, format_sft2},
    {"sft2-soft", FL_SET_FLAG, F(sft2_soft), 0, 0, NULL, "sft2 trains on the 50/50 target over its pair", NULL, NULL,
     NULL},
    {"keep-models", FL_SET_FLAG, F(keep_models), 0, 0, NULL, "keep every run's model.safetensors (2 MB each)", NULL,
     NULL, NULL},
    {"checkpoint-every", FL_SET_DOUBLE, F(checkpoint_every), 1e-3, 100, "X", "epochs between measured checkpoints",
     NULL, NULL, NULL},
    FL_SETTING_DATA_DIR(F(data_dir)),
    {"shard", FL_SET_CUSTOM, F(shard_index), 0, 0, "I/N",
     "run only the I-th (1 <= I <= N) of N disjoint parts of the grid, each into its own --out; 'forgetlab merge' "
     "combines them", NULL, parse_shard, format_shard},
    {"cs-method", FL_SET_CUSTOM, F(cs_plain), 0, 0, "M",
     "circuit probe at every checkpoint (docs/circuits.md): ap-ig or ap", NULL, parse_cs_method, format_cs_method},
    {"cs-steps", FL_SET_INT, F(cs_steps), 1, 1000, "M", "its integrated-gradient steps (default 5)", NULL, NULL,
     NULL},
    {"cs-ig-form", FL_SET_CUSTOM, F(probe.ig_form), 0, 0, "F",
     "path or average (see 'forgetlab circuits --help')", NULL, parse_cs_form, format_cs_form},
    {"cs-loss", FL_SET_CUSTOM, F(probe.loss), 0, 0, "L",
     "kl (KL from the model's clean output), ce or logit-diff", NULL, parse_cs_loss, format_cs_loss},
    {"cs-corrupt", FL_SET_CUSTOM, F(probe.corrupt), 0, 0, "C",
     "within (another image of the same class) or counterfactual (an image of another class)", NULL,
     parse_cs_corrupt, format_cs_corrupt},
    {"with-distill", FL_SET_FLAG, F(need_distill), 0, 0, NULL,
     "refuse a grid without distill runs (legacy: they are the default)", NULL, NULL, NULL},
};
#undef F
const int FL_STUDY_NSETTINGS = (int)(sizeof FL_STUDY_SETTINGS / sizeof *FL_STUDY_SETTINGS);
const int FL_STUDY_NHELP = FL_STUDY_NSETTINGS - 1;

int fl_razor_resolve(fl_razor_config *c) {
    if (c->cs_plain && c->cs_steps) return fl_error_set("--cs-steps is for --cs-method ap-ig");
    c->probe.ig_steps = c->cs_plain ? 0 : c->cs_steps ? c->cs_steps : c->probe.ig_steps;
    if (fl_ap_check(&c->probe, 1)) return fl_error_wrap("--cs-*");
    int n, has_grpo = 0;
    const fl_ft_method *methods = study_methods(c, &n);
    for (int k = 0; k < n; k++) has_grpo |= methods[k] == FL_FT_GRPO;
    if (c->need_distill && c->no_distill) return fl_error_set("--with-distill and --no-distill contradict each other");
    /* The distill runs' teacher is the best grpo run of the whole grid:
     * a shard leaves them to the merged study. */
    if (c->need_distill && c->shard_count > 1)
        return fl_error_set("--with-distill needs the whole grid: merge the shards, then run it on the merged study");
    if (c->need_distill && !has_grpo)
        return fl_error_set("--with-distill needs grpo among --methods (its best run is the teacher)");
    c->with_distill = !c->no_distill && c->shard_count <= 1 && has_grpo;
    return 0;
}

void study_grid_string(const fl_razor_config *c, char *buf, size_t n) {
    char methods[160], sft2[32] = "", lrs[320];
    format_methods(&c->nmethods, methods, sizeof methods);
    format_lrs(&c->nlrs, lrs, sizeof lrs);
    if (!fl_sft2_labels_default(c->sft2_labels)) format_sft2(c->sft2_labels, sft2, sizeof sft2);
    /* A part an older grid lacks is written only when set, so that an
     * older study's grid reads the same. */
    snprintf(buf, n, "quick=%d seeds=%d checkpoint_every=%.10g%s%s%s%s%s%s%s", c->quick, c->seeds, c->checkpoint_every,
             methods[0] ? " methods=" : "", methods, sft2[0] ? " sft2=" : "", sft2, c->sft2_soft ? " sft2_soft=1" : "",
             lrs[0] ? " lrs=" : "", lrs);
}

int study_grid_parse(const char *grid, fl_razor_config *c) {
    int used = 0;
    if (sscanf(grid, "quick=%d seeds=%d checkpoint_every=%lf%n", &c->quick, &c->seeds, &c->checkpoint_every, &used) != 3 ||
        c->seeds < 1 || c->seeds > 1000)
        return fl_error_set("unreadable grid '%s'", grid);
    for (const char *at = grid + used; *at == ' ';) {
        char word[160];
        int len = 0;
        if (sscanf(at, " %159s%n", word, &len) != 1) break;
        at += len;
        if (strncmp(word, "methods=", 8) == 0) {
            if (parse_methods(word + 8, &c->nmethods)) return fl_error_set("unreadable grid '%s'", grid);
        } else if (strncmp(word, "sft2=", 5) == 0) {
            if (parse_sft2(word + 5, c->sft2_labels)) return fl_error_set("unreadable grid '%s'", grid);
        } else if (strncmp(word, "lrs=", 4) == 0) {
            if (parse_lrs(word + 4, &c->nlrs)) return fl_error_set("unreadable grid '%s'", grid);
        } else if (strcmp(word, "sft2_soft=1") == 0) {
            c->sft2_soft = 1;
        } else {
            return fl_error_set("unreadable grid '%s'", grid);
        }
    }
    return 0;
}
