/* cmd_lm_pretrain.c: `forgetlab lm-pretrain`, the byte-level language
 * model pretrained on text and synthetic skills (docs/lm.md). */
#include "cli.h"

#include "forgetlab/error.h"
#include "forgetlab/lm.h"
#include "forgetlab/report.h"

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
    "  default  4 layers, width 128, 4 heads, context 128, batch 16, 8000 steps,\n"
    "           lr 2e-3, 30% text\n"
    "  quick    2 layers, width 64, context 64, 15000 steps, lr 3e-3, 20% text\n"
    "           (every skill above 0.9 in about 4 minutes on 2 cores: docs/lm.md)\n"
    "\n"
    "Options:\n"
    "  --out DIR               run directory (required); --overwrite replaces a run\n"
    "                          of another command or configuration there\n"
    "  --preset NAME           quick or default\n";
static char HELP[8192];

enum { O_OUT = 256, O_OVERWRITE, O_PRESET };
static const struct option OPTS[] = {{"out", required_argument, 0, O_OUT},
                                     {"overwrite", no_argument, 0, O_OVERWRITE},
                                     {"preset", required_argument, 0, O_PRESET},
                                     {0, 0, 0, 0}};

typedef struct {
    fl_lm_config cfg;
    const char *out;
} args;

/* What a preset leaves alone, so they may come before it. */
static const char *const NOT_PRESET[] = {"seed", "threads", "data-dir", NULL};

static int handle(int opt, const char *v, void *ctx) {
    args *a = ctx;
    switch (opt) {
    case O_OUT: a->out = v; return 0;
    case O_OVERWRITE: a->cfg.overwrite = 1; return 0;
    case O_PRESET: {
        fl_lm_config d;
        fl_lm_defaults(&d);
        if (fl_preset_may_apply(FL_LM_SETTINGS, FL_LM_NSETTINGS, &a->cfg, &d, NOT_PRESET)) return -1;
        return fl_lm_preset(&a->cfg, v) ? fl_error_wrap("--preset") : 0;
    }
    }
    return -1;
}

static int run(int argc, char **argv);
const fl_command fl_cmd_lm_pretrain = {"lm-pretrain", "pretrain the byte-level language model on text and skills", run,
                                       HELP};

static int run(int argc, char **argv) {
    args a = {.out = NULL};
    fl_lm_defaults(&a.cfg);
    fl_help_compose(HELP, sizeof HELP, HELP_HEAD, FL_LM_SETTINGS, FL_LM_NSETTINGS, &a.cfg,
                    "  --help                  show this help\n");
    int rc = fl_parse_settings(argc, argv, &fl_cmd_lm_pretrain, FL_LM_SETTINGS, FL_LM_NSETTINGS, &a.cfg, OPTS, handle,
                               &a, NULL, NULL);
    if (rc == FL_ARGS_HELP) return FL_EXIT_OK;
    if (rc) return FL_EXIT_USAGE;
    if (!a.out) return fl_usage_error("lm-pretrain", "--out DIR is required");
    if (a.cfg.n_embd % a.cfg.n_head)
        return fl_usage_error("lm-pretrain", "--embd %d must be divisible by --heads %d", a.cfg.n_embd, a.cfg.n_head);
    if (fl_lm_pretrain_run(&a.cfg, a.out) || fl_lm_plots(a.out)) return fl_fail("lm-pretrain");
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "lm-pretrain: exact match add %%K3{acc_add}, reverse %%K3{acc_reverse}, sort "
             "%%K3{acc_sort}, count %%K3{acc_count}; held-out text %%K3{bpb} bits per byte (%%K{wall_time_s} s) -> %s",
             a.out);
    fl_summary_line(a.out, "summary.json", fmt);
    return FL_EXIT_OK;
}
