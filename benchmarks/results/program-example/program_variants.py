"""Greedy programs for GSM8K dev rows under other wordings of the programmer's instruction.

Each variant is the programmer's prompt on the short-answer path (the question as `plain`
gets it, then an instruction), decoded greedy as the shipped programmer is. Resumes from
the output file; one line per row, every variant's answer, whether its program ran, and
its seconds.

    python benchmarks/results/program-example/program_variants.py SLICE 0 40 OUT.jsonl A B C D
"""

import json
import sys
import time
from importlib.resources import files
from pathlib import Path

import yaml

from murmurnet import LoadOptions, ModelSpec
from murmurnet.answers import read_answer
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.registry import create_backend
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.stages import with_program_output
from murmurnet.tools.calculator import program_in
from murmurnet.types import GenerationRequest, Message

ROLES = files("murmurnet.roles").joinpath("en.yaml").read_text(encoding="utf-8")
SHIPPED = yaml.safe_load(ROLES)["programmer"]["instruction"]
EXAMPLE_QUESTION = (
    "A pen costs $3. Ann buys 4 pens and pays with a $20 bill. How much change does she get?"
)
EXAMPLE_PROGRAM = (
    "```python\npen_price = 3\npens = 4\npaid = 20\nchange = paid - pen_price * pens\n"
    "print(change)\n```"
)
COMMENTED_PROGRAM = (
    "```python\n# a pen costs $3\npen_price = 3\n# Ann buys 4 pens\npens = 4\n"
    "# she pays with $20\npaid = 20\n# change: what she paid less the pens' cost\n"
    "change = paid - pen_price * pens\nprint(change)\n```"
)
COMMENTS = (
    "Write a short Python program that solves it: before each line of code, a comment says"
    " which fact of the question it uses or what it works out. One variable per quantity;"
    " print only the final answer. Reply with the code in a ```python block and nothing else."
)
VARIANTS: dict[str, tuple[str, str]] = {
    "A": (SHIPPED, ""),
    "B": (SHIPPED, EXAMPLE_PROGRAM),
    "C": (COMMENTS, ""),
    "D": (COMMENTS, COMMENTED_PROGRAM),
}
"""Each variant's instruction, and its worked example's program ("" for none): the example
is an earlier turn of the chat (the example question with the instruction, the program as
the model's reply), so the model does not take the example for the question."""


def messages(question: str, name: str) -> list[Message]:
    instruction, example = VARIANTS[name]
    turn = [Message(role="user", content=f"{question}\n\n{instruction}")]
    if not example:
        return turn
    shown = [
        Message(role="user", content=f"{EXAMPLE_QUESTION}\n\n{instruction}"),
        Message(role="assistant", content=example),
    ]
    return [*shown, *turn]


slice_file, lo, hi, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
names = sys.argv[5:]
rows = load_rows(slice_file)[lo:hi]
texts = stage_texts("en")
backend = create_backend(
    ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
)
done = len(out.read_text(encoding="utf-8").splitlines()) if out.exists() else 0
with out.open("a", encoding="utf-8") as sink:
    for i, row in enumerate(rows[done:], start=lo + done):
        record: dict[str, object] = {"row": i, "question": row.question, "answer": row.answer}
        for name in names:
            request = GenerationRequest(
                messages=messages(plain_text(row), name), max_tokens=512, temperature=0.0
            )
            start = time.perf_counter()
            (reply,) = backend.generate([request])
            seconds = time.perf_counter() - start
            text, ran = with_program_output(texts, reply.text.strip())
            failed = not ran and program_in(text) is not None
            cut = reply.finish_reason == "length" and not ran
            key = "" if cut or failed else read_answer("number", text, (), row.question)
            record[name] = {"key": key, "ran": ran, "seconds": round(seconds, 2)}
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
