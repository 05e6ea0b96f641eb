/* budget_args.c: the forgetting-budget options the fine-tuning commands
 * share (--max-forgetting F --calibration STUDY [--budget-level L], or
 * --max-forward-kl X), turned into a KL budget (budget.h) with every
 * refusal named: a calibration of another setting or another base, one
 * with too few runs for the level, a limit no KL the study saw can keep. */
#include "cli.h"

#include "forgetlab/core/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const struct option FL_BUDGET_OPTS[] = {FL_BUDGET_OPTIONS, {0, 0, 0, 0}};

const char FL_BUDGET_HELP[] =
    "\nA forgetting budget (the run stops past it and keeps the last checkpoint within it):\n"
    "  --max-forgetting F      stop before forgetting F (0 < F <= 1): the run keeps the\n"
    "                          last checkpoint whose forward KL on the new task's inputs\n"
    "                          the calibration's upper bound maps to <= F; decided on the\n"
    "                          new task's inputs alone (docs/budget.md)\n"
    "  --calibration STUDY     the study whose forecast.json maps KL to forgetting (of\n"
    "                          the same setting and base architecture)\n"
    "  --budget-level L        the bound's level: 0.8, 0.9 or 0.95 (default 0.9)\n"
    "  --max-forward-kl X      the KL budget itself, without a calibration\n";

int fl_budget_arg(int opt, const char *v, void *ctx) {
    fl_budget_args *b = ctx;
    switch (opt) {
    case FL_OPT_MAX_FORGETTING: return fl_arg_double("max-forgetting", v, 1e-9, 1, &b->max_forgetting);
    case FL_OPT_CALIBRATION: b->calibration = v; return 0;
    case FL_OPT_BUDGET_LEVEL:
        if (fl_arg_double("budget-level", v, 0, 1, &b->level)) return -1;
        if (fl_forecast_level_index(b->level) < 0)
            return fl_error_set("--budget-level %s: the forecast has levels 0.8, 0.9 and 0.95", v);
        return 0;
    case FL_OPT_MAX_FORWARD_KL: return fl_arg_double("max-forward-kl", v, 1e-12, 1e6, &b->max_kl);
    }
    return -1;
}

void fl_budget_summary_line(const char *cmd, const char *method, const char *out) {
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "%s %s within budget: kept checkpoint %%K{kept_checkpoint} (epoch %%K3{kept_epoch}), "
             "forward KL %%K{kept_forward_kl} of %%K{kl_budget}, forecast forgetting %%K3{forecast} "
             "[%%K3{forecast_lo}, %%K3{forecast_hi}], measured %%K3{forgetting}, new-task accuracy %%K3{new_acc} -> %s",
             cmd, method, out);
    fl_summary_line(out, "summary.json", fmt);
}

int fl_budget_usage(const char *cmd, const fl_budget_args *b) {
    if (b->max_kl > 0 && (b->max_forgetting > 0 || b->calibration))
        return fl_usage_error(cmd, "--max-forward-kl is the budget itself: not with --max-forgetting or --calibration");
    if ((b->max_forgetting > 0) != (b->calibration != NULL))
        return fl_usage_error(cmd, "--max-forgetting F needs --calibration STUDY (the forecast that maps KL to "
                                   "forgetting), and --calibration needs --max-forgetting");
    if (b->level > 0 && !(b->max_forgetting > 0))
        return fl_usage_error(cmd, "--budget-level goes with --max-forgetting");
    return 0;
}

int fl_budget_setup(const char *cmd, fl_budget_args *b, const char *setting, const char *model, fl_budget_spec *out) {
    memset(out, 0, sizeof *out);
    out->max_forgetting = NAN;
    if (b->max_kl > 0) {
        out->kl_budget = b->max_kl;
        return FL_EXIT_OK;
    }
    if (!b->calibration) return FL_EXIT_OK;
    fl_forecast_file *ff = &b->file;
    if (fl_forecast_load(b->calibration, ff)) return fl_fail(cmd);
    const fl_forecast *fc = &ff->fc;
    if (strcmp(ff->setting, setting) != 0)
        return fl_usage_error(cmd, "--calibration %s: a forecast of the '%s' setting; %s fine-tunes in the '%s' "
                                   "setting, whose KL means something else", b->calibration, ff->setting, cmd, setting);
    if (strcmp(ff->model, model) != 0)
        return fl_usage_error(cmd, "--calibration %s: calibrated on a base of architecture %s, this base is %s",
                              b->calibration, ff->model[0] ? ff->model : "(not recorded)", model);
    const int l = fl_forecast_level_index(b->level > 0 ? b->level : 0.9);
    if (!isfinite(fc->q[l])) {
        const double L = FL_FORECAST_LEVELS[l];
        return fl_usage_error(cmd, "--calibration %s: a %.0f%% bound needs at least %d runs held out in turn "
                                   "(ceil(%.2f (R + 1)) <= R); the study has %d", b->calibration, 100 * L,
                              (int)ceil(L / (1 - L) - 1e-9), L, fc->nruns);
    }
    const double kl = fl_forecast_budget(fc, b->max_forgetting, l);
    if (kl < 0) {
        double hi;
        fl_forecast_at(fc, fc->x_min, l, NULL, &hi);
        fl_error_set("--max-forgetting %g: the %.0f%% bound of %s is already %.4f at the smallest KL it saw "
                     "(%.4g): no budget can promise it", b->max_forgetting, 100 * FL_FORECAST_LEVELS[l],
                     b->calibration, hi, fc->x_min);
        return fl_fail(cmd);
    }
    *out = (fl_budget_spec){kl, fc, l, b->max_forgetting, b->calibration};
    return FL_EXIT_OK;
}
