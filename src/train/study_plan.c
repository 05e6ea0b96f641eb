/* study_plan.c: what a razor study runs, before anything runs: its
 * defaults, its sweep's methods, the grid of runs (methods x learning
 * rates x schedules x epochs x seeds), each seed's base directory, the
 * shards' share of the grid and the threads each run gets. The sweep
 * (study.c), the record of a run (study_record.c), the settings
 * (study_settings.c) and the merge (study_merge.c) read it; it reads none
 * of them. */
#include "study_int.h"

#include "forgetlab/core/threads.h"
#include "forgetlab/train/finetune.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void fl_razor_defaults(fl_razor_config *c) {
    memset(c, 0, sizeof *c);
    c->seeds = 1;
    c->jobs = 0;
    c->checkpoint_every = 0.2;
    c->progress = 1;
    fl_pretrain_defaults(&c->pretrain);
    fl_circuit_probe_default(&c->probe);
    fl_finetune_config ft;
    fl_finetune_defaults(&ft);
    memcpy(c->sft2_labels, ft.sft2_labels, sizeof c->sft2_labels);
}

const fl_ft_method *study_methods(const fl_razor_config *c, int *n) {
    *n = c->nmethods > 0 ? c->nmethods : STUDY_NSWEEP;
    return c->nmethods > 0 ? c->methods : STUDY_SWEEP;
}

/* The sweep methods: the paper's 2x2 (on-policy vs offline, with vs without
 * negatives) plus the SFT variants and the oracle. */
const fl_ft_method STUDY_SWEEP[] = {FL_FT_SFT1, FL_FT_SFT2, FL_FT_ORACLE, FL_FT_GRPO,
                                    FL_FT_GRPO_KL, FL_FT_REINFORCE, FL_FT_SIMPO};
const int STUDY_NSWEEP = (int)(sizeof STUDY_SWEEP / sizeof *STUDY_SWEEP);

int study_max_runs(const fl_razor_config *c) { return STUDY_NSWEEP * FL_STUDY_MAX_LRS * 2 * 2 * c->seeds; }

void study_base_dir(int s, char *buf, size_t n) {
    if (s == 0)
        snprintf(buf, n, "base");
    else
        snprintf(buf, n, "base_s%d", s);
}

void study_plan(const fl_razor_config *c, const fl_ft_method *methods, int nmethods, const study_base *bases,
                planned_run *runs, int *n) {
    const int nlr = c->nlrs > 0 ? c->nlrs : c->quick ? 5 : 15, nsched = c->quick ? 1 : 2, nep = c->quick ? 1 : 2;
    const fl_sched_kind scheds[2] = {FL_SCHED_CONSTANT, FL_SCHED_COSINE};
    for (int s = 0; s < c->seeds; s++)
        for (int e = 0; e < nep; e++)
            for (int k = 0; k < nsched; k++)
                for (int i = 0; i < nlr; i++)
                    for (int m = 0; m < nmethods; m++) {
                        planned_run *r = &runs[(*n)++];
                        fl_finetune_defaults(&r->ft);
                        /* 15 (or 5) learning rates log-spaced over [3e-6, 1e-3], or --lrs. */
                        r->ft.lr = c->nlrs > 0 ? c->lrs[i] : 3e-6 * pow(1e-3 / 3e-6, (double)i / (nlr - 1));
                        r->ft.method = methods[m];
                        r->ft.schedule = scheds[k];
                        r->ft.epochs = e + 1;
                        /* Seed s: its own base model, and the fine-tuning seed s. */
                        r->ft.seed = (uint64_t)s;
                        r->ft.checkpoint_every = c->checkpoint_every;
                        memcpy(r->ft.sft2_labels, c->sft2_labels, sizeof r->ft.sft2_labels);
                        r->ft.sft2_soft = c->sft2_soft;
                        r->ft.teacher = bases ? &bases[s].teacher : NULL;
                        r->ft.progress = 0;
                        r->ft.save_model = c->keep_models || (c->with_distill && methods[m] == FL_FT_GRPO);
                        r->key = (fl_run_key){fl_ft_method_name(methods[m]), r->ft.lr,
                                              k ? "cosine" : "constant", e + 1, (uint64_t)s};
                        fl_run_id(&r->key, r->id, sizeof r->id);
                    }
}

/* Round robin, not contiguous blocks: the grid is ordered by method and
 * learning rate, and run times vary with both, so every shard gets a mix
 * and the shards of a job array end together. */
int study_in_shard(const fl_razor_config *c, int i) {
    return c->shard_count <= 1 || i % c->shard_count == c->shard_index - 1;
}

int study_run_threads(const fl_razor_config *c, int nplan) {
    int cores = c->threads > 0 ? c->threads : fl_cpu_count();
    int jobs = c->jobs > 0 ? c->jobs : cores;
    if (jobs > nplan) jobs = nplan > 0 ? nplan : 1;
    return cores / jobs > 0 ? cores / jobs : 1;
}

