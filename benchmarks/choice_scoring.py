"""Ways to rank a question's options by the bundled model's likelihood, on choice rows.

The murmur answers a question that lists options with the option the model finds likeliest
after the plain prompt, per character (`option_rank.likeliest_option`). Other rankings from the
literature: the whole sum, per token, and the pointwise mutual information of the option
and the question (Holtzman et al. 2021, "Surface Form Competition": subtract each option's
log-likelihood after a prompt without the question, so an option that is likely anyway,
for its wording or its place in the list, gains nothing from that). The prompt without the
question here is the same list of options alone, or the options after a bare "答え："/"Answer:".
Each ranking is scored against the gold option and paired with the shipped one (McNemar).

    python benchmarks/choice_scoring.py ../shared/eval/jcommonsenseqa-dev300.jsonl
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import EvalRow, load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.evaluation.stats import bootstrap_ci, paired_difference
from murmurnet.models.builtin import BUNDLED, ensure_assembled
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.models.llama.engine import LlamaEngine
from murmurnet.types import ContinuationScore, Message

Scores = dict[str, list[ContinuationScore]]
Rank = Callable[[Scores, int], float]


def options_only(row: EvalRow) -> str:
    return "\n".join(f"{i}. {choice}" for i, choice in enumerate(row.choices, start=1))


PROMPTS: dict[str, Callable[[EvalRow], str]] = {
    "question": plain_text,
    "options alone": options_only,
    "answer line": lambda row: "答え：" if row.lang == "ja" else "Answer:",
}

RANKINGS: dict[str, Rank] = {
    "per character (shipped)": lambda s, i: s["question"][i].per_char,
    "per token": lambda s, i: s["question"][i].logprob / s["question"][i].tokens,
    "sum": lambda s, i: s["question"][i].logprob,
    "PMI against the options alone": lambda s, i: (
        s["question"][i].logprob - s["options alone"][i].logprob
    ),
    "PMI against a bare answer line": lambda s, i: (
        s["question"][i].logprob - s["answer line"][i].logprob
    ),
}
SHIPPED = "per character (shipped)"


def correct(scores: Scores, rank: Rank, row: EvalRow) -> bool:
    best = max(range(len(row.choices)), key=lambda i: rank(scores, i))
    return row.choices[best] == row.answer


def line(name: str, results: Sequence[bool], shipped: Sequence[bool]) -> str:
    ci = bootstrap_ci(list(results))
    paired = paired_difference(list(shipped), list(results))
    return (
        f"| {name} | {ci.estimate:.1%} ({ci.low:.1%} – {ci.high:.1%}) "
        f"| {paired.difference.in_points()} "
        f"| {paired.wins} / {paired.losses} | {paired.p_value:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL choice rows")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows = [row for path in args.files for row in load_rows(path) if row.kind == "choice"]
    model = ensure_assembled(BUNDLED["qwen2.5-0.5b"], default_cache_folder())
    engine = LlamaEngine(model, n_ctx=4096, n_seq_max=8, threads=args.threads)
    backend = LlamaCppBackend("qwen2.5-0.5b", engine, "auto", 4096)
    results: dict[str, list[bool]] = {name: [] for name in RANKINGS}
    try:
        for row in rows:
            scores = {
                name: backend.score([Message(role="user", content=prompt(row))], row.choices)
                for name, prompt in PROMPTS.items()
            }
            for name, rank in RANKINGS.items():
                results[name].append(correct(scores, rank, row))
    finally:
        backend.close()
    print(f"{len(rows)} choice rows ({', '.join(str(p) for p in args.files)})\n")
    print("| ranking | accuracy (95 % CI) | − shipped (points, 95 % CI) | better / worse | p |")
    print("|---|---:|---:|---:|---:|")
    for name, outcome in results.items():
        print(line(name, outcome, results[SHIPPED]))


if __name__ == "__main__":
    main()
