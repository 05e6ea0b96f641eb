/* cmd_study.c: `forgetlab study razor`, the whole RL's Razor study, on one
 * machine, over MPI ranks, or one shard of it. */
#include "cli.h"

#include "forgetlab/error.h"
#include "forgetlab/fileio.h"
#include "forgetlab/report.h"
#include "forgetlab/study.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab study razor --out DIR [OPTIONS]\n"
    "\n"
    "The RL's Razor study: pretrains the base model (or reuses DIR/base), fine-tunes\n"
    "it on ParityMNIST with sft1, sft2, oracle, grpo, grpo-kl, reinforce and simpo\n"
    "over 15 learning rates log-spaced in [3e-6, 1e-3] x {constant, cosine} x {1, 2}\n"
    "epochs, measures every checkpoint (every 0.2 epoch), fits forgetting against\n"
    "every predictor and each method's Pareto frontier, and writes the report.\n"
    "Finished runs are kept in DIR/results.sqlite: rerunning resumes a killed study.\n"
    "\n"
    "Options:\n"
    "  --out DIR            study directory (required); a rerun of the same grid and probe\n"
    "                       resumes; --overwrite replaces another study or run there\n"
    "  --quick              5 learning rates, constant schedule, 1 epoch\n"
    "  --seeds N            base seeds (default 1): seed s pretrains its own base model\n"
    "                       (DIR/base, DIR/base_s1, ...) and runs the whole grid from it\n"
    "  --jobs N             concurrent runs (default: one per core)\n"
    "  --threads N          total threads, shared by the jobs (default: all cores)\n"
    "  --no-distill         skip the distill runs (default: after the sweep, each seed's\n"
    "                       best grpo run, by final new-task accuracy then least\n"
    "                       forgetting, teaches distill runs over the same grid; not in\n"
    "                       a shard: run the study again on the merged directory)\n"
    "  --methods LIST       only these of the sweep's methods, comma-separated (e.g.\n"
    "                       sft1,sft2); distill runs need grpo among them\n"
    "  --sft2-labels A,B/C,D sft2's labels for even digits (A or B) and odd ones (C or\n"
    "                       D) (default 0,4/1,5)\n"
    "  --sft2-soft          sft2 trains on the 50/50 target over its pair\n"
    "  --keep-models        keep every run's model.safetensors (2 MB each)\n"
    "  --checkpoint-every X epochs between measured checkpoints (default 0.2)\n"
    "  --data-dir DIR       datasets (default: $FORGETLAB_DATA, else the source tree's data/)\n"
    "  --shard I/N          run only the I-th of N disjoint parts of the grid (1 <= I <= N),\n"
    "                       each into its own --out; 'forgetlab merge' combines them\n"
    "  --cs-method M        circuit probe at every checkpoint (docs/circuits.md): ap-ig\n"
    "                       (default) or ap\n"
    "  --cs-steps M         its integrated-gradient steps (default 5)\n"
    "  --cs-ig-form F       path (default) or average (see 'forgetlab circuits --help')\n"
    "  --cs-loss L          kl (default: KL from the model's clean output), ce or logit-diff\n"
    "  --cs-corrupt C       within (default: another image of the same class) or\n"
    "                       counterfactual (an image of another class)\n"
    "  --help               show this help\n"
    "\n"
    "Under 'mpirun -np N' (or srun) the runs are spread over the N ranks; rank 0\n"
    "writes results.sqlite. DIR must be on a file system every rank sees. The\n"
    "numbers equal a single-process study's run with the same --threads and --jobs\n"
    "(they set the threads per run: threads / jobs). See docs/scaling.md.\n";

/* The help ends with whether this build has MPI. */
#define HELP_MPI_YES "MPI: built in.\n"
#define HELP_MPI_NO "MPI: not built in (needs libopenmpi-dev at build time).\n"
static char HELP[sizeof HELP_HEAD + sizeof HELP_MPI_NO + 1];

enum { O_OUT = 256, O_QUICK, O_SEEDS, O_JOBS, O_THREADS, O_DISTILL, O_KEEP, O_CKPT, O_DATA, O_SHARD,
       O_CS_METHOD, O_CS_STEPS, O_CS_LOSS, O_CS_CORRUPT, O_CS_FORM, O_OVERWRITE, O_NO_DISTILL, O_METHODS, O_SFT2_LABELS, O_SFT2_SOFT };
static const struct option OPTS[] = {
    {"out", required_argument, 0, O_OUT},       {"quick", no_argument, 0, O_QUICK},
    {"seeds", required_argument, 0, O_SEEDS},   {"jobs", required_argument, 0, O_JOBS},
    {"threads", required_argument, 0, O_THREADS}, {"with-distill", no_argument, 0, O_DISTILL},
    {"no-distill", no_argument, 0, O_NO_DISTILL}, {"methods", required_argument, 0, O_METHODS},
    {"sft2-labels", required_argument, 0, O_SFT2_LABELS}, {"sft2-soft", no_argument, 0, O_SFT2_SOFT},
    {"keep-models", no_argument, 0, O_KEEP},    {"checkpoint-every", required_argument, 0, O_CKPT},
    {"data-dir", required_argument, 0, O_DATA}, {"shard", required_argument, 0, O_SHARD},
    {"cs-method", required_argument, 0, O_CS_METHOD}, {"cs-steps", required_argument, 0, O_CS_STEPS},
    {"cs-loss", required_argument, 0, O_CS_LOSS}, {"cs-corrupt", required_argument, 0, O_CS_CORRUPT},
    {"cs-ig-form", required_argument, 0, O_CS_FORM}, {"overwrite", no_argument, 0, O_OVERWRITE},
    {0, 0, 0, 0}};

/* "I/N", 1 <= I <= N: shard I of N (1-based, as SLURM's --array=1-N). */
static int parse_shard(const char *v, int *index, int *count) {
    char *end;
    long i = strtol(v, &end, 10), n = 0;
    int ok = end != v && *end == '/';
    if (ok) {
        const char *ns = end + 1;
        n = strtol(ns, &end, 10);
        ok = end != ns && *end == '\0' && n >= 1 && n <= 100000 && i >= 1 && i <= n;
    }
    if (!ok) return fl_error_set("--shard: expected I/N with 1 <= I <= N (e.g. 2/8), got '%s'", v);
    *index = (int)i;
    *count = (int)n;
    return 0;
}

/* "sft1,sft2": distinct methods of the sweep. */
static int parse_methods(const char *v, fl_razor_config *c) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    c->nmethods = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        fl_ft_method m;
        if (fl_ft_method_parse(tok, &m)) return fl_error_wrap("--methods");
        if (m == FL_FT_DISTILL)
            return fl_error_set("--methods: distill is not a sweep method (its runs follow the sweep; --no-distill skips them)");
        for (int k = 0; k < c->nmethods; k++)
            if (c->methods[k] == m) return fl_error_set("--methods: %s given twice", tok);
        c->methods[c->nmethods++] = m;
    }
    return c->nmethods > 0 ? 0 : fl_error_set("--methods: expected a comma-separated list of methods");
}

/* The probe's method and steps, applied once every option is read, so
 * their order does not matter. */
static int cs_plain, cs_steps;
/* --with-distill (kept from when distill was optional) or --no-distill. */
static int distill_asked = -1;

static int handle(int opt, const char *v, void *ctx) {
    fl_razor_config *c = ctx;
    long n;
    double x;
    switch (opt) {
    case O_OUT: c->out_dir = v; return 0;
    case O_OVERWRITE: c->overwrite = 1; return 0;
    case O_DATA: c->data_dir = v; return 0;
    case O_QUICK: c->quick = 1; return 0;
    case O_DISTILL: distill_asked = 1; return 0;
    case O_NO_DISTILL: distill_asked = 0; return 0;
    case O_METHODS: return parse_methods(v, c);
    case O_SFT2_LABELS: return fl_sft2_labels_parse(v, c->sft2_labels);
    case O_SFT2_SOFT: c->sft2_soft = 1; return 0;
    case O_KEEP: c->keep_models = 1; return 0;
    case O_SEEDS: if (fl_arg_long("seeds", v, 1, 1000, &n)) return -1; c->seeds = (int)n; return 0;
    case O_JOBS: if (fl_arg_long("jobs", v, 1, 256, &n)) return -1; c->jobs = (int)n; return 0;
    case O_THREADS: if (fl_arg_long("threads", v, 0, 1024, &n)) return -1; c->threads = (int)n; return 0;
    case O_SHARD: return parse_shard(v, &c->shard_index, &c->shard_count);
    case O_CS_METHOD:
        if (strcmp(v, "ap") && strcmp(v, "ap-ig")) return fl_error_set("--cs-method %s: expected ap-ig or ap", v);
        cs_plain = !strcmp(v, "ap");
        return 0;
    case O_CS_STEPS: if (fl_arg_long("cs-steps", v, 1, 1000, &n)) return -1; cs_steps = (int)n; return 0;
    case O_CS_LOSS: return fl_ap_loss_parse(v, &c->probe.loss);
    case O_CS_FORM: return fl_ig_form_parse(v, &c->probe.ig_form);
    case O_CS_CORRUPT:
        if (fl_ap_corrupt_parse(v, &c->probe.corrupt)) return -1;
        if (fl_ap_corrupt_is_input(c->probe.corrupt)) return 0;
        return fl_error_set("--cs-corrupt: expected within or counterfactual");
    case O_CKPT: if (fl_arg_double("checkpoint-every", v, 1e-3, 100, &x)) return -1; c->checkpoint_every = x; return 0;
    }
    return -1;
}

/* The closing line: where the report is, and forward KL's R^2. */
static void summary(const char *dir) {
    char *path = fl_path_join(dir, "predictors.csv"), *text = NULL, *at;
    size_t len;
    double r2 = 0, lo = 0, hi = 0;
    int n = 0;
    if (path && fl_read_file(path, &text, &len) == 0 && (at = strstr(text, "\nforward_kl_new,")) &&
        sscanf(at, "\nforward_kl_new,%lf,%lf,%lf,%d", &r2, &lo, &hi, &n) == 4)
        fprintf(stderr, "study: forward KL on the new task explains forgetting with R^2 %.3f [%.3f, %.3f] over %d "
                        "checkpoints; report: %s/index.html\n", r2, lo, hi, n, dir);
    else
        fprintf(stderr, "study: report: %s/index.html\n", dir);
    free(path), free(text);
}

static int run(int argc, char **argv);
const fl_command fl_cmd_study = {"study", "run a whole study: 'study razor' (SFT vs on-policy RL, forgetting, predictors)",
                                 run, HELP};

static int run(int argc, char **argv) {
    snprintf(HELP, sizeof HELP, "%s\n%s", HELP_HEAD, fl_razor_has_mpi() ? HELP_MPI_YES : HELP_MPI_NO);
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(HELP, stdout);
        return FL_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "razor") != 0)
        return fl_usage_error("study", "expected a study name: razor");
    fl_razor_config c;
    fl_razor_defaults(&c);
    /* The study name is argv[1]; options follow it. */
    int rc = fl_parse_args(argc - 1, argv + 1, &fl_cmd_study, OPTS, handle, &c, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!c.out_dir) return fl_usage_error("study", "--out DIR is required");
    if (cs_plain && cs_steps) return fl_usage_error("study", "--cs-steps is for --cs-method ap-ig");
    c.probe.ig_steps = cs_plain ? 0 : cs_steps ? cs_steps : c.probe.ig_steps;
    if (fl_ap_check(&c.probe, 1)) return fl_usage_error("study", "--cs-*: %s", fl_error_msg());
    /* The distill runs' teacher is the best grpo run of the whole grid:
     * a shard leaves them to the merged study. */
    if (distill_asked == 1 && c.shard_count > 1)
        return fl_usage_error("study", "--with-distill needs the whole grid: merge the shards, then run it on the merged study");
    int has_grpo = c.nmethods == 0;
    for (int k = 0; k < c.nmethods; k++) has_grpo |= c.methods[k] == FL_FT_GRPO;
    if (distill_asked == 1 && !has_grpo)
        return fl_usage_error("study", "--with-distill needs grpo among --methods (its best run is the teacher)");
    c.with_distill = distill_asked >= 0 ? distill_asked : c.shard_count <= 1 && has_grpo;
    int writer;
    if (fl_razor_run(&c, &writer)) return fl_fail("study");
    /* The process that wrote results.sqlite analyses it; a shard's
     * analysis covers its part only (`merge` gives the study's). */
    if (!writer) return FL_EXIT_OK;
    if (fl_razor_analyse(c.out_dir, NULL)) return fl_fail("study");
    summary(c.out_dir);
    return FL_EXIT_OK;
}
