#!/usr/bin/env bash
# cli_basics.sh: --help, --version, exit codes 0/1/2 and one-line errors.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "forgetlab --help" -- "$FL" --help
grep -q "pretrain" "$T/stdout" && ok "--help lists pretrain" || bad "--help lists pretrain"
expect_exit 0 "forgetlab --version" -- "$FL" --version
grep -qE '^forgetlab [0-9]+\.[0-9]+\.[0-9]+$' "$T/stdout" && ok "version format" || bad "version format"
for cmd in pretrain eval finetune measure circuits report; do
    expect_exit 0 "$cmd --help" -- "$FL" "$cmd" --help
    grep -q "usage: forgetlab $cmd" "$T/stdout" && ok "$cmd --help text" || bad "$cmd --help text"
done
expect_exit 2 "no command" -- "$FL"
expect_exit 0 "study --help" -- "$FL" study --help
grep -q "usage: forgetlab study razor" "$T/stdout" && ok "study --help text" || bad "study --help text"
expect_exit 2 "study without a study name" -- "$FL" study
expect_exit 2 "study of an unknown kind" -- "$FL" study grokking --out "$T/x"
expect_exit 2 "study razor without --out" -- "$FL" study razor --quick
expect_exit 2 "unknown command" -- "$FL" frobnicate
expect_stderr "unknown command 'frobnicate'" "unknown command named"
expect_exit 2 "unknown option" -- "$FL" pretrain --out "$T/x" --bogus
expect_stderr "unknown option '--bogus'" "unknown option named"
expect_exit 2 "missing --out" -- "$FL" pretrain
expect_stderr "--out DIR is required" "missing --out named"
expect_exit 2 "bad --lr" -- "$FL" pretrain --out "$T/x" --lr abc
expect_stderr "^forgetlab pretrain: --lr: expected a finite number, got 'abc'" "bad --lr named"
expect_exit 2 "negative --epochs" -- "$FL" pretrain --out "$T/x" --epochs -3
expect_stderr "--epochs: -3 is out of range" "negative --epochs named"
expect_exit 2 "nan --lr" -- "$FL" pretrain --out "$T/x" --lr nan
expect_exit 2 "option without value" -- "$FL" pretrain --out
expect_exit 2 "eval without --model" -- "$FL" eval
expect_exit 2 "eval bad --task" -- "$FL" eval --model "$T/x" --task cifar
expect_exit 2 "eval --logits-out without --task" -- "$FL" eval --model "$T/x" --logits-out "$T/l.npy"
expect_exit 1 "eval of a missing model" -- "$FL" eval --model "$T/nonexistent"
expect_stderr "nonexistent" "missing model named"
[ "$(wc -l <"$T/stderr")" -eq 1 ] && ok "one line on stderr" || bad "one line on stderr: $(cat "$T/stderr")"
expect_exit 1 "pretrain with a missing data dir" -- "$FL" pretrain --out "$T/x" --data-dir "$T/nodata"
expect_stderr "$T/nodata" "missing data dir named"
expect_exit 2 "bad model spec" -- "$FL" pretrain --out "$T/x" --model 785-0-10 --epochs 1
expect_exit 0 "-h is --help" -- "$FL" eval -h
grep -q "usage: forgetlab eval" "$T/stdout" && ok "  ... prints the help" || bad "-h: no help"
expect_exit 2 "grpo with --group-size 1" -- "$FL" finetune --base "$T/none" --method grpo --group-size 1 --out "$T/x"
expect_stderr "advantage 0" "  ... says why"
expect_exit 1 "--threads beyond the cores" -- "$FL" circuits --model "$T/none" --task fashion --subtasks by-class \
    --threads 1000 --out "$T/x"
expect_stderr "threads asked for, this machine has [0-9]+ cores: using" "  ... is capped with a warning"
expect_exit 2 "--threads beyond every command's limit" -- "$FL" circuits --model "$T/none" --task fashion \
    --subtasks by-class --threads 100000 --out "$T/x"
expect_stderr "out of range \\[0, 1024\\]" "  ... names the limit"
# Output to a log file (SLURM, nohup, CI): plain progress lines and a closing
# summary on stderr; --quiet keeps the summary only.
"$FL" pretrain --per-task 100 --epochs 2 --out "$T/p" > "$T/log" 2>&1 && ok "pretrain into a log" || bad "pretrain into a log"
grep -qE "^pretrain: [0-9]+/[0-9]+ \([0-9]+%\)" "$T/log" && ok "  ... progress lines in the log" || bad "no progress lines: $(head -c 300 "$T/log")"
grep -q "^pretrain: parity accuracy 0\.[0-9]*, fashion accuracy" "$T/log" && ok "  ... and a summary line" || bad "no summary line"
"$FL" pretrain --quiet --per-task 100 --epochs 2 --out "$T/q" > "$T/log" 2>&1
[ "$(wc -l < "$T/log")" -eq 1 ] && grep -q "parity accuracy" "$T/log" && ok "--quiet: the summary alone" || bad "--quiet: $(cat "$T/log")"
finish
