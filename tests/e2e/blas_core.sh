#!/usr/bin/env bash
# blas_core.sh: the CLI puts itself on the matrix kernels the CPU deserves
# (docs/design.md, "Matrix kernels"). With OpenBLAS made to look as if it
# fell back to its SSE3 kernels (Prescott) on its own, a run (and a study)
# re-executes on the CPU's best core after the self-check, says so once,
# and records the core in config.json (the study in results.sqlite); the
# environment's OPENBLAS_CORETYPE and --blas-core keep|NAME are obeyed; a
# bad --blas-core exits 2; `env` names the kernels and the CPU.
source "$(dirname "$0")/lib.sh"
RUN=(grok --p 7 --frac 0.5 --d-model 8 --heads 2 --d-mlp 8 --epochs 4 --log-every 2 --measure-every 4
     --checkpoint-every 4 --threads 1)
env_json() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["environment"][sys.argv[2]])' \
    "$1/config.json" "$2"; }

expect_exit 0 "forgetlab env" -- "$FL" env --json
best=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_core_best"])' <"$T/stdout")
check "'$(grep -c '"blas_self_check":	true' "$T/stdout")' == '1'" "  ... the loaded kernels pass the self-check"
expect_exit 0 "forgetlab --version --verbose" -- "$FL" --version --verbose
grep -q "^BLAS core" "$T/stdout" && ok "  ... names the BLAS core" || bad "no BLAS core in --version --verbose"

# The library's own fallback (simulated): switched, said once, recorded.
expect_exit 0 "a run on a fallback core" -- env OPENBLAS_CORETYPE=Prescott FORGETLAB_BLAS_TEST_FALLBACK=1 \
    "$FL" "${RUN[@]}" --out "$T/fallback"
if [ -z "$best" ]; then
    echo "# this CPU runs nothing better than SSE: nothing to switch to"
    check "'$(env_json "$T/fallback" blas_core)' == 'Prescott'" "  ... stays on Prescott"
else
    check "'$(grep -c "running on $best instead" "$T/stderr")' == '1'" "  ... says once that it runs on $best"
    check "'$(env_json "$T/fallback" blas_core)' == '$best'" "  ... config.json records core $best"
    check "'$(env_json "$T/fallback" blas_core_chosen_by)' == 'forgetlab'" "  ... chosen by forgetlab"
fi

# A study on a fallback core: switched once before anything runs (its
# forked workers inherit the kernels), said once, recorded in the study.
if [ -n "$best" ]; then
    expect_exit 0 "a small study on a fallback core" -- env OPENBLAS_CORETYPE=Prescott FORGETLAB_BLAS_TEST_FALLBACK=1 \
        "$FL" study razor --quick --methods sft1 --no-distill --checkpoint-every 1 --lrs 3e-6,1e-3 --out "$T/study"
    check "'$(grep -c "running on $best instead" "$T/stderr")' == '1'" "  ... says once that it runs on $best"
    check "'$(sql "$T/study/results.sqlite" "select value from study where key = 'blas'")'.endswith(' $best')" \
        "  ... the study records core $best"
fi

# The user's (or the environment's) setting is kept, silently.
expect_exit 0 "OPENBLAS_CORETYPE=Prescott set by the user" -- env OPENBLAS_CORETYPE=Prescott \
    "$FL" "${RUN[@]}" --out "$T/user"
check "'$(env_json "$T/user" blas_core)' == 'Prescott'" "  ... keeps Prescott"
check "'$(env_json "$T/user" blas_core_chosen_by)' == 'environment'" "  ... chosen by the environment"
grep -q "instead" "$T/stderr" && bad "  ... said it switched" || ok "  ... says nothing"
expect_exit 0 "--blas-core keep on a fallback core" -- env OPENBLAS_CORETYPE=Prescott FORGETLAB_BLAS_TEST_FALLBACK=1 \
    "$FL" --blas-core keep "${RUN[@]}" --out "$T/keep"
check "'$(env_json "$T/keep" blas_core)' == 'Prescott'" "  ... keeps Prescott"
expect_exit 0 "--blas-core Sandybridge after the command" -- "$FL" "${RUN[@]}" --out "$T/named" --blas-core Sandybridge
check "'$(env_json "$T/named" blas_core)' == 'Sandybridge'" "  ... runs Sandybridge"
expect_exit 0 "FORGETLAB_BLAS_CORE=Sandybridge" -- env FORGETLAB_BLAS_CORE=Sandybridge "$FL" env --json
check "'$(grep -c '"blas_core":	"Sandybridge"' "$T/stdout")' == '1'" "  ... runs Sandybridge"

expect_exit 2 "--blas-core with an unknown core" -- "$FL" --blas-core Pentium4000 env
expect_stderr "not auto, keep or a core" "  ... names what it takes"
expect_exit 2 "--blas-core without a value" -- "$FL" env --blas-core
finish
