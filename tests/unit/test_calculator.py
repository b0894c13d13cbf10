from __future__ import annotations

import pytest

from murmurnet.tools.calculator import CalculatorError, program_in, run_program


@pytest.mark.parametrize(
    ("code", "printed"),
    [
        ("families = 3\nper_family = 10\nprint(families * per_family)", "30"),
        ("left = 124600 / 2\nprint(left / 10)", "6230"),  # a whole float prints as an integer
        ("def solve(x):\n    return x * 2 + 1\nprint(solve(20))", "41"),
        (
            "total = 0\nfor day in range(1, 5):\n    total += day\nprint(f'Total: {total}')",
            "Total: 10",
        ),
        ("import math\nprint(math.ceil(7 / 2))", "4"),
        ("from math import floor\nprint(floor(7 / 2))", "3"),
        ("import math as m\nprint(m.floor(2.5))", "2"),
        ("print(math.sqrt(16))", "4"),  # math without the import
        ("prices = [2, 3, 5]\nprint(sum(prices) - min(prices))", "8"),
        ("a, b = 9, 4\nprint(a % b, a // b)", "1 2"),
        ("x = 7 / 3\nprint(round(x, 2))", "2.33"),
        ("n = 5\nwhile n > 1:\n    n -= 2\nprint(n)", "1"),
        ("1 + 2", "3"),  # no print: the last expression's value
    ],
)
def test_runs_arithmetic_programs(code: str, printed: str) -> None:
    assert run_program(code) == printed


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import os\nos.system('ls')", "import"),
        ("print(().__class__)", "attribute"),
        ("print(math.__dict__)", "attribute"),
        ("open('/etc/passwd')", "not defined"),
        ("print(10 ** 10 ** 10)", "exponent"),
        ("while True:\n    pass", "steps"),
        ("print(list(range(10 ** 9)))", "range"),
        ("print(1 / 0)", "division by zero"),
        ("x = [0] * 10000 * 10000", "sequence too long"),
        ("s = 'ab'\nfor i in range(100):\n    s = s + s", "sequence too long"),
        ("x = = 1", "syntax"),
        ("x = 1", "printed nothing"),
        ("lambda: 1", "Lambda"),
    ],
)
def test_refuses_what_is_not_arithmetic(code: str, reason: str) -> None:
    with pytest.raises(CalculatorError, match=reason):
        run_program(code)


def test_finds_the_fenced_program_in_a_reply() -> None:
    reply = "Here is the code:\n```python\nprint(6 * 7)\n```\nIt prints 42."
    assert program_in(reply) == "print(6 * 7)\n"
    assert program_in("The answer is 42.") is None
    assert program_in("```python\nprint(1)") == "print(1)"  # cut off by the token limit
