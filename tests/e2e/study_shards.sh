#!/usr/bin/env bash
# study_shards.sh: the small two-seed study cut into two shards (each
# pretraining its own base models, as separate jobs of a job array would), one of them killed
# (kill -9) and rerun, then merged: the merged results.csv has the rows of a
# single-process study, to the bit. merge refuses parts that do not belong
# together; bad --shard values are usage errors.
source "$(dirname "$0")/lib.sh"
reference_study || { finish; exit; }

"$FL" study razor "${SMALL[@]}" --shard 1/2 --out "$T/s1" >/dev/null 2>"$T/s1.err" &
p1=$!
"$FL" study razor "${SMALL[@]}" --shard 2/2 --out "$T/s2" >/dev/null 2>&1 &
p2=$!
wait_runs "$T/s2/results.sqlite" 3 300 || true
kill -9 "$p2" 2>/dev/null || true
wait "$p2" 2>/dev/null || true
before=$(sql "$T/s2/results.sqlite" "select count(*) from runs")
echo "# shard 2/2 killed after $before runs"
sleep 0.3
if pgrep -f -- "--out $T/s2" >/dev/null; then bad "workers outlived the killed shard"; else ok "no worker of the killed shard left"; fi
wait "$p1" && ok "shard 1/2" || bad "shard 1/2: $(tail -1 "$T/s1.err")"

expect_exit 1 "merging without shard 2/2" -- "$FL" merge "$T/s1" --out "$T/m"
expect_stderr "runs are missing.*of shard 2/2" "the missing runs and their shard named"
expect_exit 0 "--partial merges what is there" -- "$FL" merge "$T/s1" --out "$T/partial" --partial
check "$(sql "$T/partial/results.sqlite" "select count(*) from runs") == 6" "6 runs in the partial merge"

expect_exit 0 "rerunning the killed shard finishes it" -- "$FL" study razor "${SMALL[@]}" --shard 2/2 --out "$T/s2"
check "$(sql "$T/s2/results.sqlite" "select count(*) from runs") == 6" "shard 2/2 holds its 6 runs"
check "'$(sql "$T/s2/results.sqlite" "select value from study where key = 'shard'")' == '2/2'" "shard recorded"
for b in base base_s1; do
    cmp -s "$T/s1/$b/model.safetensors" "$T/s2/$b/model.safetensors" && ok "both shards pretrained the same $b" \
        || bad "the shards' $b differ"
done
expect_exit 0 "merge" -- "$FL" merge "$T/s1" "$T/s2" --out "$T/m"
same_rows "$REF/results.csv" "$T/m/results.csv" "merged results.csv = the single-process study's"
cmp -s "$REF/predictors.csv" "$T/m/predictors.csv" && ok "predictors.csv identical" || bad "predictors.csv differs"
for f in base/model.safetensors base_s1/model.safetensors index.html frontier.csv methods.csv; do [ -s "$T/m/$f" ] && ok "merged $f" || bad "merged $f missing"; done
check "$(ls "$T/m/runs" | wc -l) == 12" "12 run directories merged"
expect_exit 0 "merging again adds nothing" -- "$FL" merge "$T/s1" "$T/s2" --out "$T/m"
grep -q " 0 new run" "$T/stdout" && ok "no new runs the second time" || bad "second merge: $(head -1 "$T/stdout")"
expect_exit 0 "the merged study resumes with nothing to do" -- "$FL" study razor "${SMALL[@]}" --out "$T/m"
same_rows "$REF/results.csv" "$T/m/results.csv" "still the same rows"

# Parts that do not belong together: a copy of shard 2 edited to look like
# another grid, another version, another base model; a shard given twice.
edit() { /usr/bin/python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute(sys.argv[2]); d.commit()' "$1/results.sqlite" "$2"; }
cp -r "$T/s2" "$T/grid"; edit "$T/grid" "update study set value = 'quick=0 seeds=2 checkpoint_every=0.5 methods=sft1,grpo' where key = 'grid'"
expect_exit 1 "merge refuses another grid" -- "$FL" merge "$T/s1" "$T/grid" --out "$T/x"
expect_stderr "$T/grid: grid 'quick=0" "the mismatched directory named"
cp -r "$T/s2" "$T/ver"; edit "$T/ver" "update study set value = '0.0.1' where key = 'version'"
expect_exit 1 "merge refuses another version" -- "$FL" merge "$T/s1" "$T/ver" --out "$T/x"
expect_stderr "$T/ver: made by forgetlab 0.0.1" "the other version named"
cp -r "$T/s2" "$T/thr"; edit "$T/thr" "update study set value = '2' where key = 'run_threads'"
expect_exit 1 "merge refuses other threads per run" -- "$FL" merge "$T/s1" "$T/thr" --out "$T/x"
cp -r "$T/s2" "$T/setup"; edit "$T/setup" "update study set value = '7' where key = 'setup_threads'"
expect_exit 1 "merge refuses other threads for the shared work" -- "$FL" merge "$T/s1" "$T/setup" --out "$T/x"
expect_stderr "$T/setup: measured with 7 thread" "the other thread count named"
cp -r "$T/s2" "$T/base2"; printf 'x' >>"$T/base2/base_s1/model.safetensors"
expect_exit 1 "merge refuses another base model" -- "$FL" merge "$T/s1" "$T/base2" --out "$T/x"
expect_stderr "$T/base2: its base model base_s1 differs" "the other base named"
expect_exit 1 "merge refuses a shard given twice" -- "$FL" merge "$T/s1" "$T/s2" "$T/grid" --out "$T/x"
expect_exit 1 "merge refuses its output among the parts" -- "$FL" merge "$T/s1" "$T/s2" --out "$T/s1"
expect_exit 1 "merge of a directory that is no study" -- "$FL" merge "$T/s1" "$T/nothing" --out "$T/x"
expect_stderr "$T/nothing: no results.sqlite" "the non-study named"
[ ! -e "$T/x" ] && ok "nothing written by a refused merge" || bad "a refused merge wrote $T/x"
expect_exit 2 "merge without --out" -- "$FL" merge "$T/s1"
expect_exit 2 "merge without parts" -- "$FL" merge --out "$T/x"

for s in 0/2 3/2 2 a/b 1/0 -1/2 "1/2x"; do
    expect_exit 2 "--shard $s" -- "$FL" study razor "${SMALL[@]}" --shard "$s" --out "$T/x"
done
expect_stderr "^forgetlab study: --shard: expected I/N with 1 <= I <= N" "bad --shard named"
expect_exit 2 "--with-distill with --shard" -- "$FL" study razor --quick --with-distill --shard 1/2 --out "$T/x"
for l in 0 1e-4,x ""; do
    expect_exit 2 "--lrs '$l'" -- "$FL" study razor --quick --lrs "$l" --out "$T/x"
done
expect_stderr "lrs" "bad --lrs named"
finish
