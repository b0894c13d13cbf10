"""The greedy programmer's program for GSM8K dev rows, and, when it cannot run, one more
greedy turn that shows the model the calculator's error and asks for the program again.

The programmer's exact prompt on the short-answer path (the question as `plain` gets it,
then the programmer's instruction). Stores each program's text, so another version of the
calculator can run them again without the model. Resumes from the output file.

    python benchmarks/results/program-repair/program_repair.py OUT.jsonl ROW [ROW ...]
"""

import json
import sys
from importlib.resources import files
from pathlib import Path

import yaml

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.registry import create_backend
from murmurnet.tools.calculator import CalculatorError, program_in, run_program
from murmurnet.types import GenerationRequest, Message

REPAIR = (
    "The program could not be run: {error}. Reply with the whole program again, corrected,"
    " in a ```python block and nothing else."
)
"""Written before any failed program's text was read again; not tuned."""


def run(reply: str) -> tuple[str, str]:
    """What the program printed and "", or "" and why it could not run."""
    code = program_in(reply)
    if code is None:
        return "", "no program"
    try:
        return run_program(code), ""
    except CalculatorError as exc:
        return "", str(exc)


out, wanted = Path(sys.argv[1]), [int(arg) for arg in sys.argv[2:]]
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
roles = yaml.safe_load(files("murmurnet.roles").joinpath("en.yaml").read_text(encoding="utf-8"))
instruction = roles["programmer"]["instruction"]
backend = create_backend(
    ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
)
done = {json.loads(line)["row"] for line in out.read_text().splitlines()} if out.exists() else set()
with out.open("a", encoding="utf-8") as sink:
    for index in (i for i in wanted if i not in done):
        row = rows[index]
        ask = [Message(role="user", content=f"{plain_text(row)}\n\n{instruction}")]
        (first,) = backend.generate(
            [GenerationRequest(messages=ask, max_tokens=512, temperature=0.0)]
        )
        printed, error = run(first.text.strip())
        record: dict[str, object] = {
            "row": index,
            "answer": row.answer,
            "program": first.text.strip(),
            "printed": printed,
            "error": error,
            "cut": first.finish_reason == "length",
        }
        if error:
            again = [
                *ask,
                Message(role="assistant", content=first.text.strip()),
                Message(role="user", content=REPAIR.format(error=error)),
            ]
            (second,) = backend.generate(
                [GenerationRequest(messages=again, max_tokens=512, temperature=0.0)]
            )
            repaired, still = run(second.text.strip())
            record["repair"] = {"program": second.text.strip(), "printed": repaired, "error": still}
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
