"""Can the bundled model translate a Japanese word problem into English? Three prompts, the
first six of rows 1-40 as the murmur gets them, greedy; the translations printed.

    python benchmarks/results/eval-gsm8k-ja/translate_check.py
"""

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import question_for
from murmurnet.models.registry import create_backend
from murmurnet.types import GenerationRequest, Message

PROMPTS = {
    "A": "Translate the following Japanese text into English. Reply with the translation only."
    "\n\n{q}",
    "B": "次の文章を英語に翻訳してください。翻訳だけを書いてください。\n\n{q}",
    "C": "Japanese:\n{q}\n\nEnglish translation:",
    "D": "Translate into English:\n\n{q}",
}
backend = create_backend(
    ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
)
rows = load_rows("benchmarks/data/gsm8k-ja-rows1to40.jsonl")[:6]
for name, prompt in PROMPTS.items():
    requests = [
        GenerationRequest(
            messages=[Message(role="user", content=prompt.format(q=question_for(row, "murmur")))],
            max_tokens=300,
            temperature=0.0,
        )
        for row in rows
    ]
    for row, reply in zip(rows, backend.generate(requests), strict=True):
        print(f"{name} | answer {row.answer} | {' / '.join(reply.text.strip().splitlines())[:300]}")
