"""The sandbox's parent side against children that misbehave, and the child's own limits.

A stand-in child replaces `calc_child` where a test needs one that hangs, dies or lies; the
real child is used where its limits are the point.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from murmurnet.tools import calc_sandbox
from murmurnet.tools.calc_sandbox import Limits, run_isolated
from murmurnet.tools.calculator import CalculatorError

TOOLS = Path(calc_sandbox.__file__).resolve().parent


def _stand_in(monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    command = [sys.executable, "-I", "-S", "-c", source]
    monkeypatch.setattr(calc_sandbox, "_child_command", lambda limits: command)


def test_a_child_that_hangs_is_killed_at_the_wall_clock_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _stand_in(monkeypatch, "import time\ntime.sleep(60)")
    with pytest.raises(CalculatorError, match="took too long"):
        run_isolated("print(1)", Limits(wall_seconds=0.1))


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)", "too much CPU time"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "too much CPU time"),
        ("import sys\nsys.exit(3)", "without an answer \\(status 3\\)"),
        ("raise MemoryError", "without an answer \\(status 1\\)"),
        ("pass", "malformed"),
        ("print('not json')", "malformed"),
        ("print('[]')", "malformed"),
        ("print('{\"output\": 5}')", "malformed"),
        ('print(\'{"output": "a", "error": "b"}\')', "malformed"),
        ('print(\'{"output": "a", "__class__": 1}\')', "malformed"),
        ("print('[' * 100000)", "malformed"),
        ("import sys\nsys.stdout.write('\"' + 'x' * 2_000_000 + '\"')", "malformed"),
        ("import sys\nsys.stdout.buffer.write(b'\\xff\\xfe')", "malformed"),
        ('print(\'{"error": "two\\\\nlines"}\')', "^two lines$"),
    ],
)
def test_a_child_that_dies_or_lies_is_a_calculator_error(
    monkeypatch: pytest.MonkeyPatch, source: str, reason: str
) -> None:
    _stand_in(monkeypatch, source)
    with pytest.raises(CalculatorError, match=reason):
        run_isolated("print(1)")


def test_a_child_that_cannot_start_is_a_calculator_error(monkeypatch: pytest.MonkeyPatch) -> None:
    command = [str(TOOLS / "no-such-python")]
    monkeypatch.setattr(calc_sandbox, "_child_command", lambda limits: command)
    with pytest.raises(CalculatorError, match="could not start"):
        run_isolated("print(1)")


def test_the_child_answers_in_plain_json() -> None:
    command = calc_sandbox._child_command(calc_sandbox.LIMITS)
    done = subprocess.run(command, input=b"print(6 * 7)", capture_output=True, check=True)
    assert done.stdout == b'{"output": "42"}'
    done = subprocess.run(command, input=b"print(1 / 0)", capture_output=True, check=True)
    assert done.stdout == b'{"error": "division by zero"}'


def test_the_child_runs_without_the_package_or_site_packages() -> None:
    command = calc_sandbox._child_command(calc_sandbox.LIMITS)
    bootstrap = command[4].replace("sys.exit(", "(", 1)  # go on after main() to look around
    probe = "print()\nprint(sorted(name for name in sys.modules if 'murmur' in name))\n"
    probe += "print('site' in sys.modules, 'pydantic' in sys.modules)"
    source = f"{bootstrap}\n{probe}"
    done = subprocess.run(
        [*command[:4], source, *command[5:]], input=b"1", capture_output=True, check=True
    )
    reply, modules, others = done.stdout.decode().splitlines()
    assert reply == '{"output": "1"}'
    assert "'murmurnet'" not in modules
    assert "murmurnet_calculator.calc_child" in modules
    assert others == "False False"


def test_the_child_limits_its_memory_and_cpu() -> None:
    resource = pytest.importorskip("resource")
    script = textwrap.dedent(
        f"""
        import importlib, resource, sys, types
        package = types.ModuleType("calc_test")
        package.__path__ = [{str(TOOLS)!r}]
        sys.modules["calc_test"] = package
        child = importlib.import_module("calc_test.calc_child")
        child.apply_limits(256 * 2**20, 1)
        print(resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU))
        print(resource.getrlimit(resource.RLIMIT_CORE))
        try:
            bytearray(512 * 2**20)
        except MemoryError:
            print("MemoryError")
        """
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:3] == [
        f"({256 * 2**20}, {256 * 2**20}) (1, 2)",
        "(0, 0)",
        "MemoryError",
    ]
    assert resource.getrlimit(resource.RLIMIT_CPU)[0] != 1  # the test process is untouched


def test_a_program_past_the_memory_limit_is_a_calculator_error() -> None:
    pytest.importorskip("resource")
    code = "a = list(range(10000))\nb = list(range(10000, 20000))\nprint(len(a) + len(b))"
    assert run_isolated(code) == "20000"
    with pytest.raises(CalculatorError):
        run_isolated(code, Limits(memory_bytes=1024 * 1024))
