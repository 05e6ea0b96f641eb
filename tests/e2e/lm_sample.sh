#!/usr/bin/env bash
# lm_sample.sh: `sample` and `eval` on a tiny language model: N completions
# of the prompt, reproducible for a seed and different for another, greedy
# ones all alike; eval prints every skill's exact match, bits per byte and
# the run's seed; bad input exits 2 or 1 naming the problem; eval of an MLP
# is unchanged.
source "$(dirname "$0")/lib.sh"
LM="$T/lm"
expect_exit 0 "tiny lm-pretrain (seed 3)" -- "$FL" lm-pretrain --layers 1 --embd 32 --heads 2 --ctx 32 --batch 8 \
    --steps 30 --eval-every 30 --eval-prompts 10 --seed 3 --threads 1 --out "$LM"
S=(sample --model "$LM" --threads 1)

expect_exit 0 "sample -n 5" -- "$FL" "${S[@]}" --prompt 'rev:lamp=' -n 5 --seed 7
cp "$T/stdout" "$T/a"
[ "$(wc -l <"$T/a")" -eq 5 ] && ok "  ... five lines" || bad "  ... $(wc -l <"$T/a") lines: $(head -c 300 "$T/a")"
[ "$(grep -c '^rev:lamp=' "$T/a")" -eq 5 ] && ok "  ... each the prompt, then its completion" || bad "  ... $(cat "$T/a")"
expect_exit 0 "the same seed again" -- "$FL" "${S[@]}" --prompt 'rev:lamp=' -n 5 --seed 7
cmp -s "$T/a" "$T/stdout" && ok "  ... byte-identical" || bad "  ... differs"
"$FL" "${S[@]}" --prompt 'rev:lamp=' -n 8 --temperature 1 --seed 1 >"$T/s1" 2>/dev/null
"$FL" "${S[@]}" --prompt 'rev:lamp=' -n 8 --temperature 1 --seed 2 >"$T/s2" 2>/dev/null
[ -s "$T/s1" ] && ! cmp -s "$T/s1" "$T/s2" && ok "another seed, other completions" || bad "seeds 1 and 2 alike"
[ "$(sort -u "$T/s1" | wc -l)" -gt 1 ] && ok "  ... and the 8 of one batch differ" || bad "  ... one batch all alike"
expect_exit 0 "greedy -n 6" -- "$FL" "${S[@]}" --prompt 'And God said' -n 6 --temperature 0 --max-new 12 --no-stop
[ "$(wc -l <"$T/stdout")" -eq 6 ] && [ "$(sort -u "$T/stdout" | wc -l)" -eq 1 ] && ok "  ... six identical lines" \
    || bad "  ... $(head -c 300 "$T/stdout")"
expect_exit 0 "sample --json --top-k 3" -- "$FL" "${S[@]}" --prompt 'count:a:banana=' -n 3 --top-k 3 --json
check "(lambda l: len(l) == 3 and all(o['prompt'] == 'count:a:banana=' and o['logp'] <= 0 and \
       o['bytes'] == len(o['completion']) > 0 and len(o['completion'].encode('latin-1')) == o['bytes'] for o in l)) \
       ([__import__('json').loads(x) for x in open('$T/stdout')])" "  ... three JSON lines: completion and logp"

long="$(printf 'x%.0s' $(seq 32))"
CASES=("a prompt as long as the context|2|context|--prompt $long"
       "a prompt with max-new past the context|2|context|--prompt ${long:1} --max-new 2"
       "an empty prompt|2|empty|--prompt="
       "a negative temperature|2|temperature|--prompt a --temperature -1"
       "a NaN temperature|2|temperature|--prompt a --temperature nan"
       "--top-k 0|2|top-k|--prompt a --top-k 0"
       "-n 0|2|-n|--prompt a -n 0"
       "no prompt|2|prompt|"
       "a missing model|1|nonexistent|--model $T/nonexistent --prompt a"
       "a file that is no checkpoint|1|safetensors|--model $LM/config.json --prompt a")
refuses "sample" CASES -- "$FL" "${S[@]}"

expect_exit 0 "eval of the language model" -- "$FL" eval --model "$LM" --threads 1
cp "$T/stdout" "$T/eval.json"
check "(lambda e: all(0 <= e['acc_' + k] <= 1 for k in ('add', 'reverse', 'sort', 'count')) and e['bpb'] > 0 \
       and e['n'] == 10 and e['seed'] == 3)(__import__('json').load(open('$T/eval.json')))" \
      "  ... four accuracies, bits per byte, the run's n and seed"
expect_exit 0 "eval of the model file alone" -- "$FL" eval --model "$LM/model.safetensors" --threads 1
cmp -s "$T/eval.json" "$T/stdout" && ok "  ... the same (the file records the run's seed)" || bad "  ... differs"
expect_exit 0 "eval --prompts 4" -- "$FL" eval --model "$LM" --prompts 4 --threads 1
check "__import__('json').load(open('$T/stdout'))['n'] == 4" "  ... n is 4"
expect_exit 2 "eval --seed against the run's" -- "$FL" eval --model "$LM" --seed 4 --threads 1
expect_stderr "seed 3" "  ... names the run's seed"
expect_exit 2 "eval --split of a language model" -- "$FL" eval --model "$LM" --split train

expect_exit 0 "a small MLP" -- "$FL" pretrain --per-task 100 --epochs 2 --threads 1 --out "$T/mlp"
expect_exit 0 "eval of the MLP" -- "$FL" eval --model "$T/mlp" --threads 1
check "(lambda e: e['split'] == 'test' and 0 <= e['parity_acc'] <= 1 and 0 <= e['fashion_acc'] <= 1) \
       (__import__('json').load(open('$T/stdout')))" "  ... its accuracies, as before"
expect_exit 2 "eval --prompts of the MLP" -- "$FL" eval --model "$T/mlp" --prompts 5
expect_exit 1 "sample of the MLP" -- "$FL" sample --model "$T/mlp" --prompt a --threads 1
expect_stderr "not a language model" "  ... says it is not a language model"
finish
