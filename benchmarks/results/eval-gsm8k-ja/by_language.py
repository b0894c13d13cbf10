"""Each strategy's Japanese run paired with its English run of the same GSM8K dev rows (the
translated file's `source_row` names the English row): how much asking in Japanese costs.

    python benchmarks/results/eval-gsm8k-ja/by_language.py JA_ROWS.jsonl JA_RUN.jsonl \
        EN_RUN.jsonl [STRATEGY ...]
"""

import json
import sys
from pathlib import Path

from murmurnet.evaluation.dataset import derived_id
from murmurnet.evaluation.stats import paired_difference

ja_rows, ja_run, en_run = (Path(arg) for arg in sys.argv[1:4])
strategies = sys.argv[4:] or ["plain", "murmur"]
source = Path("../shared/eval/gsm8k-dev300.jsonl").read_text(encoding="utf-8")
english = [json.loads(line) for line in source.splitlines()]


def digest(row_id: str) -> str:
    return row_id.rsplit("-", 1)[-1]


pairs = {}  # Japanese row's digest -> English row's digest
for line in ja_rows.read_text(encoding="utf-8").splitlines():
    row = json.loads(line)
    pairs[digest(derived_id("", row))] = digest(derived_id("", english[row["source_row"] - 1]))


def outcomes(path: Path, strategy: str) -> dict[str, dict]:
    return {
        digest(r["id"]): r
        for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if r["strategy"] == strategy
    }


for strategy in strategies:
    ja, en = outcomes(ja_run, strategy), outcomes(en_run, strategy)
    both = [(ja[j], en[e]) for j, e in pairs.items() if j in ja and e in en]
    japanese = [a["correct"] for a, _ in both]
    english_right = [b["correct"] for _, b in both]
    seconds = [sum(r["seconds"] for r in side) / len(both) for side in zip(*both, strict=True)]
    compared = paired_difference(english_right, japanese)
    low, high = (100 * bound for bound in (compared.difference.low, compared.difference.high))
    print(
        f"{strategy}: {len(both)} rows; Japanese {100 * sum(japanese) / len(both):.1f} % in"
        f" {seconds[0]:.2f} s, English {100 * sum(english_right) / len(both):.1f} % in"
        f" {seconds[1]:.2f} s; Japanese - English {100 * compared.difference.estimate:+.1f}"
        f" ({low:+.1f} - {high:+.1f}), {compared.wins} / {compared.losses},"
        f" p = {compared.p_value:.3f}"
    )
