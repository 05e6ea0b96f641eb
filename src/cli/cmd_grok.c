/* cmd_grok.c: `forgetlab grok`, a transformer trained on modular
 * arithmetic until it groks (or not), with its progress measures. */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/train/grok.h"
#include "forgetlab/report/report.h"
#include "forgetlab/train/step.h"

#include <stdint.h>
#include <stddef.h>
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

/* What a preset leaves alone, so they may come before it. */
static const char *const NOT_PRESET[] = {"seed", "threads", "snapshot-every", NULL};

static int preset(void *cfg, const char *name) { return fl_grok_preset(cfg, name); }

static int run(int argc, char **argv);
const fl_command fl_cmd_grok = {"grok", "train a transformer on modular arithmetic and track grokking", run, HELP};

static int run(int argc, char **argv) {
    fl_grok_config cfg, defaults;
    const char *out;
    fl_grok_defaults(&defaults);
    cfg = defaults;
    const fl_run_cmd r = {HELP, sizeof HELP, HELP_HEAD, FL_GROK_SETTINGS, FL_GROK_NSETTINGS, &defaults, preset, NOT_PRESET,
                          offsetof(fl_grok_config, overwrite), NULL, NULL, NULL, NULL};
    const int rc = fl_parse_run(argc, argv, &fl_cmd_grok, &r, &cfg, &out);
    if (rc) return rc == FL_ARGS_HELP ? FL_EXIT_OK : FL_EXIT_USAGE;
    fl_grok_config *c = &cfg;
    if (c->d_model % c->heads)
        return fl_usage_error("grok", "--d-model %d must be divisible by --heads %d", c->d_model, c->heads);
    if (c->measure_every % c->log_every || c->checkpoint_every % c->log_every)
        return fl_usage_error("grok", "--measure-every and --checkpoint-every must be multiples of --log-every (%d)",
                              c->log_every);
    if (fl_grok_run(c, out) || fl_grok_plots(out)) return fl_fail("grok");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "grok: memorised at epoch %%K{memorized_epoch}, grokked at epoch %%K{grokked_epoch} "
             "(? = not yet), test accuracy %%K3{test_acc} after %%K{epochs} epochs -> %s", out);
    fl_summary_line(out, "summary.json", fmt);
    return FL_EXIT_OK;
}
