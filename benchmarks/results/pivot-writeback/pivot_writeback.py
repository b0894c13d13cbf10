"""Three write-back wordings for the English pivot, on the Japanese questions of fact and
the Japanese two-part questions: the English recall once, greedy, then each wording.

    python benchmarks/results/pivot-writeback/pivot_writeback.py OUT.jsonl
"""

import json
import sys
from pathlib import Path

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.models.registry import create_backend
from murmurnet.question import read_question
from murmurnet.types import GenerationRequest, Message

BENCHMARKS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BENCHMARKS))
from bench_factoid_ja import answers_all  # noqa: E402

WORDINGS = {
    "cur": "質問：{question}\n\n英語の答え：{answer}\n\n\n"
    "この答えを使って、質問に日本語の一文で答えてください。",
    "tr1": "次の英文を日本語に訳してください。\n\n{answer}",
    "tr2": "質問：{question}\n\n英語の答え：{answer}\n\n\nこの英語の答えを日本語に訳してください。",
}


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


rows = lines(BENCHMARKS / "data" / "ja-factoid.jsonl")
rows += [
    r for r in lines(BENCHMARKS / "data" / "two-part.jsonl") if not str(r["question"]).isascii()
]
options = LoadOptions(cache_folder=default_cache_folder())
backend = create_backend(ModelSpec(bundled="qwen2.5-0.5b"), options)
with Path(sys.argv[1]).open("a", encoding="utf-8") as out:
    for row in rows:
        question = read_question(str(row["question"])).text
        recall = [Message(role="user", content=f"{question}\n\nAnswer in English.")]
        request = GenerationRequest(messages=recall, max_tokens=512, temperature=0.0)
        english = backend.generate([request])[0].text.strip()
        requests = [
            GenerationRequest(
                messages=[
                    Message(role="user", content=w.format(question=question, answer=english))
                ],
                max_tokens=512,
                temperature=0.0,
            )
            for w in WORDINGS.values()
        ]
        replies = [c.text.strip() for c in backend.generate(requests)]
        record = {
            "question": row["question"],
            "english": english,
            "english_ok": answers_all(english, row),
        }
        for name, text in zip(WORDINGS, replies, strict=True):
            record[name] = text
            record[name + "_ok"] = answers_all(text, row)
            record[name + "_ja"] = answers_all(text, row, True)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
