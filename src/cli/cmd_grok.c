/* cmd_grok.c: `forgetlab grok`, a transformer trained on modular
 * arithmetic until it groks (or not), with its progress measures. */
#include "cli.h"

#include "forgetlab/error.h"
#include "forgetlab/grok.h"
#include "forgetlab/report.h"
#include "forgetlab/train.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab grok --out DIR [--preset nanda|quick|tiny] [OPTIONS]\n"
    "\n"
    "Trains a decoder-only transformer on a o b mod p (tokens [a, b, =], the\n"
    "answer read at the last position) and tracks grokking: train and test\n"
    "accuracy and loss, the total weight norm, and every --measure-every epochs\n"
    "Nanda et al.'s progress measures (the embedding's key Fourier frequencies,\n"
    "the restricted and the excluded loss; for + and - only). Writes\n"
    "DIR/config.json, metrics.jsonl, summary.json (memorized_epoch: first logged\n"
    "epoch with train accuracy >= 0.99; grokked_epoch: test accuracy >= 0.95),\n"
    "model.safetensors, state.safetensors and the plots. Rerunning the same\n"
    "command resumes from the last checkpoint.\n"
    "\n"
    "Presets (options given after --preset override it):\n"
    "  nanda   p 113, +, 30%, 1 layer, d_model 128, 4 heads, d_mlp 512, ReLU,\n"
    "          AdamW lr 1e-3, wd 1, betas 0.9/0.98, full batch, 40000 epochs\n"
    "          (the default)\n"
    "  quick   p 59, +, 50%, d_model 64, d_mlp 256, otherwise as nanda, 3000\n"
    "          epochs: memorises by epoch ~200, groks by ~1500, in about a minute\n"
    "  tiny    p 31, +, 70%, d_model 32, d_mlp 128, lr 3e-3, 2000 epochs: memorises\n"
    "          by ~150, groks by 250-600 (seeds 0-4) in seconds; for tests\n"
    "\n"
    "Options:\n"
    "  --out DIR               run directory (required); a rerun of the same\n"
    "                          configuration resumes (or continues to a larger\n"
    "                          --epochs); --overwrite replaces a run of another\n"
    "                          command or configuration there\n"
    "  --preset NAME           nanda, quick or tiny\n";
static char HELP[8192];

enum { O_OVERWRITE = 200, O_OUT = 256, O_PRESET };
static const struct option OPTS[] = {{"out", required_argument, 0, O_OUT},
                                     {"overwrite", no_argument, 0, O_OVERWRITE},
                                     {"preset", required_argument, 0, O_PRESET},
                                     {0, 0, 0, 0}};

typedef struct {
    fl_grok_config cfg;
    const char *out;
} args;

/* What a preset leaves alone, so they may come before it. */
static const char *const NOT_PRESET[] = {"seed", "threads", "snapshot-every", NULL};

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    switch (opt) {
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: a->cfg.overwrite = 1; return 0;
    case O_PRESET: {
        fl_grok_config d;
        fl_grok_defaults(&d);
        if (fl_preset_may_apply(FL_GROK_SETTINGS, FL_GROK_NSETTINGS, &a->cfg, &d, NOT_PRESET)) return -1;
        return fl_grok_preset(&a->cfg, v) ? fl_error_wrap("--preset") : 0;
    }
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_grok = {"grok", "train a transformer on modular arithmetic and track grokking", run, HELP};

static int run(int argc, char **argv) {
    args a = {.out = NULL};
    fl_grok_defaults(&a.cfg);
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, FL_GROK_SETTINGS, FL_GROK_NSETTINGS, &a.cfg,
                    "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_grok, FL_GROK_SETTINGS, FL_GROK_NSETTINGS, &a.cfg, OPTS, handle, &a,
                               NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    fl_grok_config *c = &a.cfg;
    if (!a.out) return fl_usage_error("grok", "--out DIR is required");
    if (c->d_model % c->heads)
        return fl_usage_error("grok", "--d-model %d must be divisible by --heads %d", c->d_model, c->heads);
    if (c->measure_every % c->log_every || c->checkpoint_every % c->log_every)
        return fl_usage_error("grok", "--measure-every and --checkpoint-every must be multiples of --log-every (%d)",
                              c->log_every);
    rc = fl_grok_run(c, a.out);
    if (rc || fl_grok_plots(a.out)) return fl_fail("grok");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "grok: memorised at epoch %%K{memorized_epoch}, grokked at epoch %%K{grokked_epoch} "
             "(? = not yet), test accuracy %%K3{test_acc} after %%K{epochs} epochs -> %s", a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
