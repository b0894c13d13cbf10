#!/usr/bin/env bash
# Cuts the three dev300 files into the 40-row slices of the 900-row comparison, in the order
# they are run, and prints their paths in that order. Usage: dev900_slices.sh EVAL_DATA OUT_DIR
set -euo pipefail
data=$1 out=$2
mkdir -p "$out"
slice_rows() {  # slice_rows FILE NAME FIRST LAST
  sed -n "$3,$4p" "$data/$1" > "$out/$2-dev300-rows$3to$4.jsonl"
  echo "$out/$2-dev300-rows$3to$4.jsonl"
}
# Rows no prompt, rule or role was tuned on, a slice of each kind per cycle, so a run that
# stops early is still balanced; the held-out slices already measured come first (reused).
slice_rows jcommonsenseqa-dev300.jsonl jcqa 41 80
slice_rows jsquad-dev300.jsonl jsquad 41 80
slice_rows gsm8k-dev300.jsonl gsm8k 81 120
for i in 0 1 2 3 4; do
  a=$((81 + 40 * i)) g=$((121 + 40 * i))
  slice_rows jcommonsenseqa-dev300.jsonl jcqa $a $((a + 39 < 300 ? a + 39 : 300))
  slice_rows jsquad-dev300.jsonl jsquad $a $((a + 39 < 300 ? a + 39 : 300))
  if [ "$g" -le 300 ]; then slice_rows gsm8k-dev300.jsonl gsm8k $g $((g + 39 < 300 ? g + 39 : 300)); fi
done
slice_rows jcommonsenseqa-dev300.jsonl jcqa 281 300
slice_rows jsquad-dev300.jsonl jsquad 281 300
# Last: the rows the prompts and rules were tuned on, and GSM8K 41-80 (the program weight's
# earlier held-out check, run at another commit).
slice_rows gsm8k-dev300.jsonl gsm8k 41 80
slice_rows jcommonsenseqa-dev300.jsonl jcqa 1 40
slice_rows jsquad-dev300.jsonl jsquad 1 40
slice_rows gsm8k-dev300.jsonl gsm8k 1 40
