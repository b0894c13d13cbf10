"""Gemma 270M's log-likelihood of every option after three other priors than the bare answer
line, for the replays of `replay.py`: an empty question ("質問: \\n答え:"), the options listed
alone then the answer line, and the options on the question's line then the answer line.
Knowledge rows 1–40 and JCQA rows 1–150 get all three; the first candidate's check on JCQA
rows 151–300 needed only the empty question (`--only-empty`).

    python benchmarks/results/choice-knowledge/priors.py ROWS.jsonl [...] --out PRIORS.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scores import backend

from murmurnet.evaluation.dataset import load_rows
from murmurnet.murmur.prompts import stage_texts
from murmurnet.types import Message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL choice rows")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only-empty", action="store_true")
    args = parser.parse_args()
    rows = [row for path in args.files for row in load_rows(path) if row.kind == "choice"]
    gemma = backend("gemma-3-270m", "completion")
    try:
        with args.out.open("w", encoding="utf-8") as out:
            for row in rows:
                texts = stage_texts(row.lang)
                question, answer = texts.labels.question, texts.answer_line
                listed = "\n".join(f"{i}. {c}" for i, c in enumerate(row.choices, start=1))
                joined = ("、" if row.lang == "ja" else ", ").join(row.choices)
                forms = {"empty": f"{question}: \n{answer}"}
                if not args.only_empty:
                    forms |= {
                        "listed": f"{listed}\n{answer}",
                        "inline": f"{question}: {joined}\n{answer}",
                    }
                record: dict[str, object] = {
                    "id": row.id,
                    "choices": row.choices,
                    "answer": row.answer,
                }
                for name, prompt in forms.items():
                    scores = gemma.score([Message(role="user", content=prompt)], row.choices)
                    record[name] = [s.logprob for s in scores]
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        gemma.close()


if __name__ == "__main__":
    main()
