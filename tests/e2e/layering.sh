#!/usr/bin/env bash
# layering.sh: dependencies point one way (docs/design.md, "Layers of the
# code"): core under everything; nn, optim and data over core (data reads
# files through io's file helpers); measure over those; train over measure;
# report over train's results; cli on top. Checked here: no file below
# src/report includes a report header or calls a report entry point (the
# CLI runs the report after training); none below src/train includes a
# train header; none outside src/cli includes a cli header; core includes
# only core; nothing outside src/cli aborts, exits, or writes to stdout or
# stderr but through the log (log.h); and no public header includes cJSON.
source "$(dirname "$0")/lib.sh"
SRC="$(dirname "$0")/../../src"
below=("$SRC"/core "$SRC"/data "$SRC"/nn "$SRC"/optim "$SRC"/train "$SRC"/measure "$SRC"/io)
hits=$(grep -rnE '#include "forgetlab/(report|plot|circuits_out)\.h"|fl_(grok_plots|razor_analyse|razor_report|plot_save|heatmap_save|bars_save|circuits_write)\(' \
       "${below[@]}" || true)
[ -z "$hits" ] && ok "nothing below src/report calls into it" || bad "calls into src/report: $hits"
# Headers by the layer that implements them.
TRAIN_H='(pretrain|finetune|grok|objectives|study|train|lm|lmft|lmstudy|continual|clstudy)'
hits=$(grep -rnE "#include \"forgetlab/$TRAIN_H\.h\"" "$SRC"/core "$SRC"/data "$SRC"/nn "$SRC"/optim "$SRC"/measure || true)
[ -z "$hits" ] && ok "nothing below src/train includes a train header" || bad "train headers below train: $hits"
hits=$(grep -rn '#include "\(cli\|circuits\)\.h"' "$SRC" --include=*.c | grep -v "^$SRC/cli/" || true)
[ -z "$hits" ] && ok "no cli header outside src/cli" || bad "cli headers outside cli: $hits"
hits=$(grep -rn '#include "forgetlab/' "$SRC"/core | grep -vE 'forgetlab/(blas|blob|clock|error|log|progress|rng|threads)\.h' || true)
[ -z "$hits" ] && ok "core includes only core" || bad "core reaches up: $hits"
# A host process (Python) must survive any failure of the library: no
# abort() or exit() outside the CLI (a forked study worker's _exit is its
# own process's end).
hits=$(grep -rnE '(^|[^_a-z])(abort|exit) *\(' "$SRC" --include=*.c | grep -v "^$SRC/cli/" || true)
[ -z "$hits" ] && ok "no abort() or exit() outside src/cli" || bad "the library ends its host: $hits"
# Notices go through the log's sink (log.h), results to files or to the
# stream the CLI hands over: nothing outside src/cli writes to stdout or
# stderr but the sink's default (core/log.c) and the progress bar
# (core/progress.c).
hits=$(grep -rnE 'stderr|stdout|perror *\(|(^|[^a-z_])(printf|puts|putchar) *\(' "$SRC" --include=*.c \
       | grep -vE "^$SRC/(cli/|core/log\.c|core/progress\.c)" || true)
[ -z "$hits" ] && ok "nothing writes to stdout or stderr outside src/cli but the log's and progress's sinks" \
    || bad "stdout or stderr written directly: $hits"
hits=$(grep -rln 'cjson/cJSON.h' "$(dirname "$0")/../../include" || true)
[ -z "$hits" ] && ok "no public header includes cJSON" || bad "cJSON in public headers: $hits"
finish
