"""Every option's scores under both bundled models, for replaying ways to rank options.

The murmur ranks a question's options by Gemma 270M's cloze PMI (`option_rank.likeliest_option`):
the option's log-likelihood after "質問: <stem>\\n答え:" less its log-likelihood after the
answer line alone. This writes, per choice row, both of those numbers per option and Qwen's
per-character likelihood of each option as the reply to the plain prompt (the listed form
that `plain+likelihood` uses), so that rules mixing them can be replayed without a model.

    python benchmarks/results/choice-knowledge/scores.py ROWS.jsonl [...] --out SCORES.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.builtin import BUNDLED, ensure_assembled
from murmurnet.models.llama.backend import LlamaCppBackend
from murmurnet.models.llama.engine import LlamaEngine
from murmurnet.murmur.prompts import stage_texts
from murmurnet.options import question_stem
from murmurnet.types import Message


def backend(name: str, template: str) -> LlamaCppBackend:
    model = ensure_assembled(BUNDLED[name], default_cache_folder())
    return LlamaCppBackend(name, LlamaEngine(model, n_ctx=4096, n_seq_max=8), template, 4096)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL choice rows")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = [row for path in args.files for row in load_rows(path) if row.kind == "choice"]
    gemma, qwen = backend("gemma-3-270m", "completion"), backend("qwen2.5-0.5b", "auto")
    try:
        with args.out.open("w", encoding="utf-8") as out:
            for row in rows:
                texts, text = stage_texts(row.lang), plain_text(row)
                cloze = f"{texts.labels.question}: {question_stem(text)}\n{texts.answer_line}"
                after = gemma.score([Message(role="user", content=cloze)], row.choices)
                alone = gemma.score([Message(role="user", content=texts.answer_line)], row.choices)
                listed = qwen.score([Message(role="user", content=text)], row.choices)
                record = {
                    "id": row.id,
                    "lang": row.lang,
                    "choices": row.choices,
                    "answer": row.answer,
                    "gemma_cloze": [s.logprob for s in after],
                    "gemma_bare": [s.logprob for s in alone],
                    "qwen_per_char": [s.per_char for s in listed],
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        gemma.close()
        qwen.close()


if __name__ == "__main__":
    main()
