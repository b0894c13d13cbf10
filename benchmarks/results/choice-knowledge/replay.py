"""The tables of this folder's README replayed from the stored option scores, no model:
`scores.jsonl` (`scores.py` on knowledge rows 1–40 and the 300 JCQA dev rows) and
`priors.jsonl` (`priors.py`: knowledge rows 1–40 and JCQA rows 1–150 with every prior, JCQA
rows 151–300 with the empty question only).

    python benchmarks/results/choice-knowledge/replay.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from statistics import mean, median

HERE = Path(__file__).parent
Rank = Callable[[dict, dict], list[float]]


def load(name: str) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (HERE / name).open(encoding="utf-8"))}


def right(rank: Rank, row: dict, prior: dict) -> bool:
    scores = rank(row, prior)
    best = max(range(len(scores)), key=scores.__getitem__)
    return row["choices"][best] == row["answer"]


def minus(prior_key: str, share: float) -> Rank:
    def rank(row: dict, prior: dict) -> list[float]:
        bare = row["gemma_bare"] if prior_key == "bare" else prior[prior_key]
        return [c - share * b for c, b in zip(row["gemma_cloze"], bare, strict=True)]

    return rank


def rise(row: dict) -> float:
    return mean(c - b for c, b in zip(row["gemma_cloze"], row["gemma_bare"], strict=True))


def by_rise(threshold: float) -> Rank:
    return lambda row, prior: minus("bare", 0.0 if rise(row) >= threshold else 1.0)(row, prior)


def main() -> None:
    scores, priors = load("scores.jsonl"), load("priors.jsonl")
    facts = [i for i in scores if i.startswith("knowledge")]
    jcqa = [i for i in scores if not i.startswith("knowledge")]
    first, second = jcqa[:150], jcqa[150:]
    shipped = minus("bare", 1.0)

    def count(rank: Rank, ids: list[str]) -> int:
        return sum(right(rank, scores[i], priors[i]) for i in ids)

    def only_right(one: Rank, other: Rank, ids: list[str]) -> int:
        """Rows `one` gets right and `other` wrong."""
        return sum(
            right(one, scores[i], priors[i]) and not right(other, scores[i], priors[i]) for i in ids
        )

    print("| ranking | facts 1–40 | JCQA 1–150 |\n|---|---:|---:|")
    rankings = {
        "cloze − bare answer line (PMI, shipped before)": shipped,
        "cloze alone": minus("bare", 0.0),
    }
    rankings |= {f"cloze − {s} × bare answer line": minus("bare", s) for s in (0.5, 0.75)}
    rankings |= {
        f"cloze − {s} × empty question": minus("empty", s)
        for s in (0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)
    }
    rankings |= {"cloze − options listed alone": minus("listed", 1.0)}
    for name, rank in rankings.items():
        print(f"| {name} | {count(rank, facts)} | {count(rank, first)} |")

    candidate = minus("empty", 0.75)
    print("\nfirst candidate (0.75 × empty question) against PMI on JCQA:")
    for name, ids in (("1–150", first), ("151–300", second), ("all 300", jcqa)):
        better, worse = only_right(candidate, shipped, ids), only_right(shipped, candidate, ids)
        pmi, new = count(shipped, ids), count(candidate, ids)
        print(f"  {name}: PMI {pmi}, candidate {new}, {better} better / {worse} worse")

    print(
        f"\nmean rise: facts median {median(rise(scores[i]) for i in facts):.1f}, "
        f"JCQA max {max(rise(scores[i]) for i in jcqa):.1f}"
    )
    print("| mean rise ≥ T: cloze alone | facts 1–40 | JCQA 300 (better / worse) | JCQA switched |")
    print("|---|---:|---:|---:|")
    for threshold in (6.0, 7.0, 8.0, 10.0):
        rank = by_rise(threshold)
        better, worse = only_right(rank, shipped, jcqa), only_right(shipped, rank, jcqa)
        switched = sum(rise(scores[i]) >= threshold for i in jcqa)
        cells = f"{count(rank, facts)} | {count(rank, jcqa)} ({better} / {worse}) | {switched}"
        print(f"| T = {threshold:g} | {cells} |")


if __name__ == "__main__":
    main()
