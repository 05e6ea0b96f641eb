#!/usr/bin/env bash
# layering.sh: the code below src/report never reaches up into it: no file
# of core, data, nn, optim, train, measure or io includes a report header or
# calls a report entry point (the CLI runs the report after training).
source "$(dirname "$0")/lib.sh"
SRC="$(dirname "$0")/../../src"
below=("$SRC"/core "$SRC"/data "$SRC"/nn "$SRC"/optim "$SRC"/train "$SRC"/measure "$SRC"/io)
hits=$(grep -rnE '#include "forgetlab/(report|plot|circuits_out)\.h"|fl_(grok_plots|razor_analyse|razor_report|plot_save|heatmap_save|bars_save|circuits_write)\(' \
       "${below[@]}" || true)
[ -z "$hits" ] && ok "nothing below src/report calls into it" || bad "calls into src/report: $hits"
finish
