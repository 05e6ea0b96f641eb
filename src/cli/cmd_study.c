/* cmd_study.c: `forgetlab study razor`, the whole RL's Razor study, on one
 * machine, over MPI ranks, or one shard of it. */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/io/fileio.h"
#include "forgetlab/report/report.h"
#include "forgetlab/train/study.h"

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
    "  --out DIR               study directory (required); a rerun of the same grid\n"
    "                          and circuit probe resumes\n";
static const char HELP_TAIL[] =
    "  --help                  show this help\n"
    "\n"
    "Under 'mpirun -np N' (or srun) the runs are spread over the N ranks; rank 0\n"
    "writes results.sqlite. DIR must be on a file system every rank sees. The\n"
    "numbers equal a single-process study's run with the same --threads and --jobs\n"
    "(they set the threads per run: threads / jobs). See docs/scaling.md.\n";

/* The help ends with whether this build has MPI. */
#define HELP_MPI_YES "MPI: built in.\n"
#define HELP_MPI_NO "MPI: not built in (needs libopenmpi-dev at build time).\n"
static char HELP[8192];

enum { O_OUT = 256 };
static const struct option OPTS[] = {{"out", required_argument, 0, O_OUT}, {0, 0, 0, 0}};

static int handle(int opt, const char *v, void *ctx) {
    fl_razor_config *c = ctx;
    if (opt != O_OUT) return -1;
    c->out_dir = v;
    return 0;
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
const fl_command fl_cmd_study = {"study", "run a whole study: 'study razor' (SFT vs on-policy RL, forgetting, "
                                 "predictors), 'study lm' (the same on the language model), 'study continual' (task sequences), "
                                 "'study grok-forget' (grok a task, then forget it)",
                                 run, HELP};

static int run(int argc, char **argv) {
    fl_razor_config c;
    fl_razor_defaults(&c);
    char tail[sizeof HELP_TAIL + sizeof HELP_MPI_NO + 1];
    snprintf(tail, sizeof tail, "%s\n%s", HELP_TAIL, fl_razor_has_mpi() ? HELP_MPI_YES : HELP_MPI_NO);
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, FL_STUDY_SETTINGS, FL_STUDY_NHELP, &c, tail);
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(HELP, stdout);
        return FL_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "lm") == 0) return fl_study_lm_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "continual") == 0) return fl_study_continual_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "grok-forget") == 0) return fl_study_grokforget_main(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "razor") != 0)
        return fl_usage_error("study", "expected a study name: razor, lm, continual or grok-forget");
    /* The study name is argv[1]; options follow it. */
    int rc = fl_parse_settings(argc - 1, argv + 1, &fl_cmd_study, FL_STUDY_SETTINGS, FL_STUDY_NSETTINGS, &c, OPTS,
                               handle, &c, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!c.out_dir) return fl_usage_error("study", "--out DIR is required");
    if (fl_razor_resolve(&c)) return fl_usage_error("study", "%s", fl_error_msg());
    int writer;
    if (fl_razor_run(&c, &writer)) return fl_fail("study");
    /* The process that wrote results.sqlite analyses it; a shard's
     * analysis covers its part only (`merge` gives the study's). */
    if (!writer) return FL_EXIT_OK;
    if (fl_razor_analyse(c.out_dir, NULL, stdout)) return fl_fail("study");
    summary(c.out_dir);
    return FL_EXIT_OK;
}
