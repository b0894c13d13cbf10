"""The sandbox's parent side: runs the interpreter in a fresh, limited child process.

The interpreter's own bounds are the first layer; this is the second, for whatever they miss.
Each program runs in a new `python -I -S` (isolated: no environment variables, no user or site
packages, no current directory on the path) that caps its own address space and CPU time
(`calc_child`), while this side enforces a wall-clock timeout and kills the child. The reply
is JSON text, checked before it is believed; a killed child, a timeout or a malformed reply
all become `CalculatorError`, so the caller sees one failed answer and nothing else.

Why a fresh interpreter rather than `fork`: the caller may hold a loaded llama.cpp model with
worker threads, and forking such a process copies locks other threads held, and its page
tables. `subprocess` starts the child by fork-and-exec in C (no Python code between the two),
which is safe with threads. A fresh interpreter costs about 40-80 ms per program (measured on
two busy cores; a forkserver would cost about 10 ms), which is noise next to the model's own
generation, and it shares nothing with the caller.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from murmurnet.tools.calc_limits import CalculatorError, one_line

_log = logging.getLogger("murmurnet.calculator")

_PACKAGE = "murmurnet_calculator"
_BOOTSTRAP = (
    "import importlib, sys, types\n"
    f"package = types.ModuleType({_PACKAGE!r})\n"
    "package.__path__ = [sys.argv[1]]\n"
    f"sys.modules[{_PACKAGE!r}] = package\n"
    f"sys.exit(importlib.import_module('{_PACKAGE}.calc_child').main(sys.argv[2:]))\n"
)
"""Loads `calc_child` as part of a stand-in package, so `murmurnet/__init__` never runs."""

_MAX_REPLY = 1_000_000
_ENVIRONMENT = {name: os.environ[name] for name in ("SYSTEMROOT",) if name in os.environ}
"""The child's environment: nothing of the caller's (API keys included), bar what Windows needs."""
_CPU_SIGNALS = {getattr(signal, "SIGXCPU", -1), getattr(signal, "SIGKILL", -1)}


@dataclass(frozen=True)
class Limits:
    """What one program may use. A word problem needs milliseconds and a few megabytes."""

    memory_bytes: int = 512 * 1024 * 1024
    cpu_seconds: int = 2
    wall_seconds: float = 5.0


LIMITS = Limits()


def _child_command(limits: Limits) -> list[str]:
    """The child's command line: this interpreter, isolated, running `calc_child.main`."""
    here = str(Path(__file__).resolve().parent)
    memory, cpu = str(limits.memory_bytes), str(limits.cpu_seconds)
    return [sys.executable, "-I", "-S", "-c", _BOOTSTRAP, here, memory, cpu]


def run_isolated(code: str, limits: Limits = LIMITS) -> str:
    """What the program prints, computed in a child process under `limits`.

    Raises `CalculatorError` for the program's own errors and for any failure of the child.
    """
    try:
        child = subprocess.Popen(
            _child_command(limits),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_ENVIRONMENT,
        )
    except (OSError, ValueError, TypeError) as exc:  # TypeError: no sys.executable
        raise CalculatorError(f"the calculator could not start: {one_line(exc)}") from None
    with child:
        try:
            out, err = child.communicate(
                code.encode("utf-8", errors="replace"), timeout=limits.wall_seconds
            )
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise CalculatorError("the program took too long") from None
        except BaseException:
            child.kill()
            raise
    return _answer(child.returncode, out, err)


def _answer(returncode: int, out: bytes, err: bytes) -> str:
    """Believe the child's reply only if it is exactly what `calc_child` writes."""
    if err:
        _log.debug("calculator child stderr: %s", err[-2000:].decode("utf-8", "replace"))
    if returncode < 0 and -returncode in _CPU_SIGNALS:
        raise CalculatorError("the program was stopped: too much CPU time or memory")
    if returncode != 0:
        raise CalculatorError(f"the calculator stopped without an answer (status {returncode})")
    if len(out) > _MAX_REPLY:
        raise CalculatorError("the calculator gave a malformed reply")
    try:
        reply = json.loads(out)
    except (ValueError, RecursionError):
        reply = None
    if isinstance(reply, dict) and reply.keys() == {"output"} and isinstance(reply["output"], str):
        return str(reply["output"])
    if isinstance(reply, dict) and reply.keys() == {"error"} and isinstance(reply["error"], str):
        raise CalculatorError(one_line(reply["error"]) or "the program failed")
    raise CalculatorError("the calculator gave a malformed reply")
