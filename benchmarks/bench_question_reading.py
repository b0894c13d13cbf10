"""Seconds to read a huge question: its type, its options and its stem, on 200,000-character
inputs of the layouts the options reader tries. Reading must stay linear in the text: the
first version of the one-line options reader had not finished the first input below after
10 minutes (34 s after a first fix).

    python benchmarks/bench_question_reading.py
"""

import time

from murmurnet.options import listed_options, question_stem
from murmurnet.question import read_question

INPUTS = {
    "labels on one line": "a. x b. y " * 20000 + "?",
    "bare capitals, one per line": "\n".join(
        f"{'ABCDEFGH'[i % 8]} option {i}" for i in range(20000)
    ),
    "bullets": "Which one?\n" + "\n".join(f"- item {i}" for i in range(20000)),
    "under 選択肢：": "選択肢：\n" + "\n".join(f"候補{i}" for i in range(20000)),
    "Japanese prose": "あ" * 200000 + "？",
    "numbers": "1 2 3 4 5 " * 20000 + "何インチ？",
}
print("| input | characters | type | options | stem | seconds |")
print("|---|---:|---|---:|---:|---:|")
for name, text in INPUTS.items():
    start = time.perf_counter()
    kind = read_question(text).kind
    options = listed_options(text)
    stem = question_stem(text)
    seconds = time.perf_counter() - start
    print(f"| {name} | {len(text)} | {kind} | {len(options)} | {len(stem)} | {seconds:.2f} |")
