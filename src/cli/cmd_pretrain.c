/* cmd_pretrain.c: `forgetlab pretrain`, the joint ParityMNIST + FashionMNIST
 * pretraining of the RL's Razor base model. */
#include "cli.h"

#include "forgetlab/nn/mlp.h"
#include "forgetlab/train/pretrain.h"

#include <stdint.h>
#include <stdio.h>

static const char HELP_HEAD[] =
    "usage: forgetlab pretrain --out DIR [OPTIONS]\n"
    "\n"
    "Trains the base model of the RL's Razor toy jointly on ParityMNIST and\n"
    "FashionMNIST (785 inputs: 784 pixels + task indicator, 10 outputs), then\n"
    "evaluates it on both test sets. Writes DIR/config.json, model.safetensors,\n"
    "metrics.jsonl and summary.json.\n"
    "\n"
    "Options:\n"
    "  --out DIR               run directory (required); a rerun of the same\n"
    "                          configuration resumes; --overwrite replaces a run of\n"
    "                          another command or configuration there (refused\n"
    "                          otherwise)\n";
static char HELP[4096];

enum { O_OVERWRITE = 200, O_OUT = 256 };
static const struct option OPTS[] = {
    {"out", required_argument, 0, O_OUT}, {"overwrite", no_argument, 0, O_OVERWRITE}, {0, 0, 0, 0}};

typedef struct {
    fl_pretrain_config cfg;
    const char *out;
} args;

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    switch (opt) {
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: a->cfg.overwrite = 1; return 0;
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_pretrain = {"pretrain", "train the RL's Razor base model on ParityMNIST + FashionMNIST",
                                    run, HELP};

static int run(int argc, char **argv) {
    args a = {.out = NULL};
    fl_pretrain_defaults(&a.cfg);
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, FL_PRETRAIN_SETTINGS, FL_PRETRAIN_NSETTINGS, &a.cfg,
                    "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_pretrain, FL_PRETRAIN_SETTINGS, FL_PRETRAIN_NSETTINGS, &a.cfg, OPTS,
                               handle, &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.out) return fl_usage_error("pretrain", "--out DIR is required");
    if (fl_pretrain_run(&a.cfg, a.out)) return fl_fail("pretrain");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "pretrain: parity accuracy %%K3{parity_acc}, fashion accuracy %%K3{fashion_acc} "
             "(%%K{wall_time_s} s) -> %s", a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
