"""A calculator for agents: runs the arithmetic part of a Python program a model wrote.

Small models set a word problem up well far more often than they multiply correctly, and the
bundled model is a coder model that likes to answer in Python. So a "programmer" agent writes
a program and the calculator runs it, in two layers, because the program is untrusted input:

- `calc_interpreter` walks the program's syntax tree over a whitelist (never `exec`), with
  bounds on steps, numbers, sizes and formatting widths (`calc_limits`);
- `calc_sandbox` runs that interpreter in a fresh child process with limits on memory and CPU
  time and a wall-clock timeout, so whatever the first layer misses costs one answer, not the
  caller's memory or a traceback.

Every failure surfaces as `CalculatorError` with a one-line message; the pipeline then shows
the reply without an answer line.
"""

from __future__ import annotations

import re

from murmurnet.tools.calc_limits import CalculatorError
from murmurnet.tools.calc_sandbox import run_isolated

__all__ = ["MAX_CODE", "CalculatorError", "program_in", "run_program"]

MAX_CODE = 20_000
"""Characters in one program: a word problem's program is a few hundred."""

_CODE_BLOCK = re.compile(
    r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE
)


def program_in(reply: str) -> str | None:
    """The Python code of a reply: its first fenced block, or None when it has none."""
    match = _CODE_BLOCK.search(reply)
    return match.group(1) if match else None


def run_program(code: str) -> str:
    """What the program prints (its last line), else the value of its last expression.

    Raises `CalculatorError` (one line) when the program cannot run or fails in any way.
    """
    if len(code) > MAX_CODE:
        raise CalculatorError(f"program too long (more than {MAX_CODE} characters)")
    return run_isolated(code)
