#!/usr/bin/env bash
# out_guard.sh: no command overwrites a run by accident. --out holding
# another command's run, another configuration's run, another study, or
# the model the command reads: exit 1 before anything is written, the
# directory byte-identical, the message naming what is there;
# --overwrite replaces it; the same command and configuration resumes.
source "$(dirname "$0")/lib.sh"
B="$T/base"
sums() { (cd "$1" && find . -type f | sort | xargs md5sum); }
expect_exit 0 "a small base" -- "$FL" pretrain --quiet --per-task 100 --epochs 2 --out "$B"
before=$(sums "$B")

expect_exit 1 "finetune --base X --out X" -- "$FL" finetune --base "$B" --out "$B" --method sft1 --epochs 1
expect_stderr "is where --base" "  ... names the clash"
[ "$(sums "$B")" = "$before" ] && ok "  ... the base is byte-identical" || bad "the base changed"
expect_exit 1 "circuits --out the model" -- "$FL" circuits --model "$B" --task fashion --subtasks by-class --out "$B"
expect_exit 1 "grok into a pretrain run" -- "$FL" grok --p 7 --epochs 10 --out "$B"
expect_stderr "holds a 'pretrain' run" "  ... names the command there"
expect_exit 1 "pretrain of another configuration" -- "$FL" pretrain --quiet --per-task 100 --epochs 3 --out "$B"
expect_stderr "epochs = 2 there, 3 here" "  ... names the setting that differs"
expect_exit 1 "a study into a pretrain run" -- "$FL" study razor --quick --out "$B"
[ "$(sums "$B")" = "$before" ] && ok "  ... still byte-identical after every refusal" || bad "the base changed"
expect_exit 0 "the same pretrain again" -- "$FL" pretrain --quiet --per-task 100 --epochs 2 --out "$B"

mkdir -p "$T/other" && echo notes > "$T/other/notes.txt"
expect_exit 1 "a directory of other files" -- "$FL" pretrain --quiet --per-task 100 --epochs 2 --out "$T/other"
expect_stderr "not a forgetlab run" "  ... says so"
# What a run killed in the middle of an atomic write leaves is no one's file.
mkdir -p "$T/torn" && echo '{"comm' > "$T/torn/config.json.tmp.Ab3xYz"
expect_exit 0 "a directory holding only a torn temporary file" -- "$FL" pretrain --quiet --per-task 100 --epochs 2 \
    --out "$T/torn"

cp -r "$B" "$T/b2"
expect_exit 0 "--overwrite replaces another configuration" -- "$FL" pretrain --quiet --per-task 100 --epochs 3 \
    --out "$T/b2" --overwrite
check "__import__('json').load(open('$T/b2/config.json'))['epochs'] == 3" "  ... with the new run"
[ -z "$(ls -d "$T"/b2.replaced-* 2>/dev/null)" ] && ok "  ... and the old one removed" || bad "the old run was left"

# Another study: a full grid's results.sqlite in --out refuses --quick.
mkdir -p "$T/full"
/usr/bin/python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1] + '/results.sqlite')
db.execute('CREATE TABLE study (key TEXT PRIMARY KEY, value TEXT)')
db.execute(\"INSERT INTO study VALUES ('grid', 'quick=0 seeds=1 checkpoint_every=0.2')\")
db.commit()" "$T/full"
before=$(sums "$T/full")
expect_exit 1 "study --quick into a full study" -- "$FL" study razor --quick --out "$T/full"
expect_stderr "another grid" "  ... names the grids"
[ "$(sums "$T/full")" = "$before" ] && ok "  ... and changes nothing" || bad "the study changed"
expect_exit 1 "report of a pretrain run" -- "$FL" report "$B"
expect_stderr "holds a 'pretrain' run, which has no report" "  ... says what it found and what it needs"
# Models of other widths: both architectures named.
expect_exit 0 "a base of other widths" -- "$FL" pretrain --quiet --model 785-64-10 --per-task 100 --epochs 1 \
    --out "$T/narrow"
expect_exit 1 "measure across architectures" -- "$FL" measure --base "$B" --model "$T/narrow"
expect_stderr "785-64-10.*785-512-256-10" "  ... names both"
finish
