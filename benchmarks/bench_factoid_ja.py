"""Japanese questions of fact: the default murmur against `plain` (the question alone, greedy).

The dev slices hold no such questions (JCommonsenseQA lists options, JSQuAD gives a passage),
so this set was written by hand, after the English recall (murmur/pivot.py) was built, and
not tuned on: `benchmarks/data/ja-factoid.jsonl`, capitals, authors, inventors,
geography, chemistry. A reply is right when it names one of the row's accepted answers
(NFKC, case-folded); names written in Latin letters count, since "Tokyo" answers the
question as well as 東京, and the script also counts the replies that name the answer in
Japanese script only. Results are appended to a JSONL file and reused on the next run.

A row may ask several things at once ("parts": one list of accepted answers per part); its
reply is right only when it names an answer of every part. `benchmarks/data/two-part.jsonl`
(Japanese and English, written by hand) checks that the murmur's final reply answers the
whole question, not only its first half as the demo once did ("水の化学式はH2Oです。" to
"水の化学式は何ですか？水の性質を一つ教えてください。").

    python benchmarks/bench_factoid_ja.py [--out benchmarks/results/factoid-ja.jsonl]
    python benchmarks/bench_factoid_ja.py --data benchmarks/data/two-part.jsonl \
        --out benchmarks/results/two-part.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import time
import unicodedata
from pathlib import Path
from typing import Any

from murmurnet import MurmurNet, RunConfig
from murmurnet.evaluation.stats import bootstrap_ci, paired_difference
from murmurnet.question import read_question

HERE = Path(__file__).resolve().parent
STRATEGIES = ("plain", "murmur")
_LATIN = re.compile(r"^[\x00-\x7f]+$")


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def names(reply: str, answers: list[str], japanese_only: bool = False) -> bool:
    accepted = [a for a in answers if not (japanese_only and _LATIN.match(a))]
    return any(fold(answer) in fold(reply) for answer in accepted)


def answers_all(reply: str, row: dict[str, Any], japanese_only: bool = False) -> bool:
    """Whether the reply names an accepted answer of every part the row asks for."""
    parts = row.get("parts") or [row["answers"]]
    return all(names(reply, part, japanese_only) for part in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "ja-factoid.jsonl")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "factoid-ja.jsonl")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines()]
    done = {}
    if args.out.exists():
        for line in args.out.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            done[(record["strategy"], record["question"])] = record
    routed = sum(read_question(row["question"]).kind == "factoid" for row in rows)
    print(f"{len(rows)} questions, {routed} read as questions of fact")
    for strategy in STRATEGIES:
        with MurmurNet(RunConfig(strategy=strategy)) as net, args.out.open("a") as out:
            net.runtime.pool.get("default")  # loaded before the clock starts
            for row in rows:
                if (strategy, row["question"]) in done:
                    continue
                tick = time.perf_counter()
                reply = net.runtime.run(row["question"]).text  # no earlier turns
                record = {
                    "strategy": strategy,
                    "question": row["question"],
                    "reply": reply,
                    "correct": answers_all(reply, row),
                    "japanese": answers_all(reply, row, japanese_only=True),
                    "seconds": time.perf_counter() - tick,
                }
                done[(strategy, row["question"])] = record
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
    print("| strategy | accuracy | 95 % CI | named in Japanese script | seconds / q |")
    print("|---|---:|---|---:|---:|")
    results = {s: [done[(s, row["question"])] for row in rows] for s in STRATEGIES}
    for strategy, records in results.items():
        ci = bootstrap_ci([r["correct"] for r in records])
        japanese = sum(r["japanese"] for r in records)
        seconds = sum(r["seconds"] for r in records) / len(records)
        print(
            f"| {strategy} | {100 * ci.estimate:.1f} % | {100 * ci.low:.1f} – "
            f"{100 * ci.high:.1f} % | {japanese}/{len(records)} | {seconds:.2f} |"
        )
    for key, label in (("correct", "any script"), ("japanese", "Japanese script")):
        diff = paired_difference(
            [r[key] for r in results["plain"]], [r[key] for r in results["murmur"]]
        )
        print(
            f"murmur - plain ({label}): {100 * diff.difference.estimate:+.1f} points "
            f"({100 * diff.difference.low:+.1f} to {100 * diff.difference.high:+.1f}), "
            f"{diff.wins} better / {diff.losses} worse, McNemar p = {diff.p_value:.3g}"
        )


if __name__ == "__main__":
    main()
