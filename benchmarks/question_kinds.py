"""How often a question is sent down the path made for what it asks, on a labelled file
(`benchmarks/data/question-kinds-*.jsonl`: "want" is calculation, choice, factoid, text or
open). A choice is routed right when its options are found and it takes the short-answer
path (the options are then ranked); a text question when it reads as `exact`; an open one
when it takes none of the short-answer kinds.

    python benchmarks/question_kinds.py FILE.jsonl [--misses]
"""

import json
import sys
from collections import Counter
from pathlib import Path

from murmurnet.murmur.strategies import SHORT_ANSWER_KINDS
from murmurnet.options import listed_options
from murmurnet.question import read_question


def routed_right(want: str, text: str) -> bool:
    question = read_question(text)
    if want == "choice":
        return question.kind in SHORT_ANSWER_KINDS and len(listed_options(question.text)) >= 2
    if want == "open":
        return question.kind not in SHORT_ANSWER_KINDS
    return (
        question.kind == {"calculation": "calculation", "factoid": "factoid", "text": "exact"}[want]
    )


rows = [json.loads(line) for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()]
right: Counter[tuple[str, str]] = Counter()
total: Counter[tuple[str, str]] = Counter()
for row in rows:
    group = (row["lang"], row["want"])
    total[group] += 1
    if routed_right(row["want"], row["question"]):
        right[group] += 1
    elif "--misses" in sys.argv:
        kind = read_question(row["question"]).kind
        print(f"{row['lang']} {row['want']} -> {kind}: {row['question'][:100]!r}")
for group in sorted(total):
    print(f"{group[0]} {group[1]:<12} {right[group]:>3} / {total[group]}")
print(f"all {sum(right.values())} / {sum(total.values())}")
