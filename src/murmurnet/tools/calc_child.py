"""The sandbox's child side: limits itself, interprets one program, answers in plain JSON.

It runs in a fresh `python -I -S` started by `calc_sandbox`, loaded under a stand-in package
name so that neither `murmurnet` nor site-packages is imported: the child holds only the
standard library and the interpreter. The parent starts it without `preexec_fn` (unsafe in a
process with llama.cpp's threads), so the child sets its own resource limits, after its imports
and before it reads the program.

Protocol: argv is the memory limit in bytes and the CPU limit in seconds; stdin is the program
as UTF-8; stdout is one JSON object, `{"output": text}` or `{"error": message}`. Plain data
only, so a child that went wrong can at worst send a wrong answer, never objects or code.
"""

from __future__ import annotations

import json
import sys

from .calc_interpreter import interpret
from .calc_limits import CalculatorError


def apply_limits(memory_bytes: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time, and forbid core dumps and file writes.

    At the soft CPU limit the kernel sends SIGXCPU, which ends the process; one second later
    the hard limit kills it outright. A limit the parent already set lower is kept.
    """
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall clock still bounds the child
        return
    wanted = (
        (resource.RLIMIT_AS, memory_bytes, memory_bytes),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_FSIZE, 0, 0),
    )
    for kind, soft, hard in wanted:
        _, current = resource.getrlimit(kind)
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(kind, (soft, hard))


def main(argv: list[str]) -> int:
    """Run the program on stdin under the limits in argv; the exit status is 0 with a reply."""
    memory_bytes, cpu_seconds = int(argv[0]), int(argv[1])
    apply_limits(memory_bytes, cpu_seconds)
    code = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    reply: dict[str, str]
    try:
        reply = {"output": interpret(code)}
    except CalculatorError as exc:
        reply = {"error": str(exc)}
    except BaseException as exc:  # the parent gets an answer whatever happened
        reply = {"error": type(exc).__name__}
    sys.stdout.write(json.dumps(reply))
    sys.stdout.flush()
    return 0
