/* cmd_lm_pretrain.c: `forgetlab lm-pretrain`, the byte-level language
 * model pretrained on text and synthetic skills (docs/lm.md). */
#include "cli.h"

#include "forgetlab/core/error.h"
#include "forgetlab/train/lm_pretrain.h"
#include "forgetlab/report/report.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char HELP_HEAD[] =
    "usage: forgetlab lm-pretrain --out DIR [--preset quick|default] [OPTIONS]\n"
    "\n"
    "Pretrains the byte-level language model (GPT-2 in nanoGPT's layout) on a\n"
    "mixture of King James text windows and four synthetic skills (add, reverse,\n"
    "sort, count), and evaluates every skill's exact-match accuracy on its test\n"
    "prompts (greedy completions) and the held-out text's bits per byte. Writes\n"
    "DIR/config.json, metrics.jsonl, model.safetensors (nanoGPT names),\n"
    "summary.json, state.safetensors and the curves skills.png and loss.png (with\n"
    "SVGs); rerunning the same command resumes.\n"
    "\n"
    "Presets (options after --preset override it):\n"
    "  default  6 layers, width 128, 4 heads, context 128, batch 16, 8000 steps,\n"
    "           lr 2e-3, 30% text\n"
    "  quick    2 layers, width 64, context 64, 15000 steps, lr 3e-3, 20% text\n"
    "           (every skill above 0.9 in about 4 minutes on 2 cores: docs/lm.md)\n"
    "\n"
    "Options:\n"
    "  --out DIR               run directory (required); --overwrite replaces a run\n"
    "                          of another command or configuration there\n"
    "  --preset NAME           quick or default\n";
static char HELP[8192];

/* What a preset leaves alone, so they may come before it. */
static const char *const NOT_PRESET[] = {"seed", "threads", "data-dir", NULL};

static int preset(void *cfg, const char *name) { return fl_lm_preset(cfg, name); }

static int run(int argc, char **argv);
const fl_command fl_cmd_lm_pretrain = {"lm-pretrain", "pretrain the byte-level language model on text and skills", run,
                                       HELP};

static int run(int argc, char **argv) {
    fl_lm_config cfg, defaults;
    const char *out;
    fl_lm_defaults(&defaults);
    cfg = defaults;
    const fl_run_cmd r = {HELP, sizeof HELP, HELP_HEAD, FL_LM_SETTINGS, FL_LM_NSETTINGS, &defaults, preset, NOT_PRESET,
                          offsetof(fl_lm_config, overwrite), NULL, NULL, NULL, NULL};
    const int rc = fl_parse_run(argc, argv, &fl_cmd_lm_pretrain, &r, &cfg, &out);
    if (rc) return rc == FL_ARGS_HELP ? FL_EXIT_OK : FL_EXIT_USAGE;
    if (cfg.n_embd % cfg.n_head)
        return fl_usage_error("lm-pretrain", "--embd %d must be divisible by --heads %d", cfg.n_embd, cfg.n_head);
    if (fl_lm_pretrain_run(&cfg, out) || fl_lm_plots(out)) return fl_fail("lm-pretrain");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "lm-pretrain: exact match add %%K3{acc_add}, reverse %%K3{acc_reverse}, sort "
             "%%K3{acc_sort}, count %%K3{acc_count}; held-out text %%K3{bpb} bits per byte (%%K{wall_time_s} s) -> %s",
             out);
    fl_summary_line(out, "summary.json", fmt);
    return FL_EXIT_OK;
}
