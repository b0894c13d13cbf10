from __future__ import annotations

from typing import Any

import pytest

from murmurnet.tools import calc_limits
from murmurnet.tools.calc_interpreter import interpret
from murmurnet.tools.calc_limits import MAX_ELEMENTS, elements, one_line
from murmurnet.tools.calculator import CalculatorError, program_in, run_program

NORMAL_PROGRAMS = [
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
    ("print(divmod(17, 5))", "(3, 2)"),
    ("grid = [[0] * 3] * 2\nprint(grid)", "[[0, 0, 0], [0, 0, 0]]"),
    ("print('-' * 5)", "-----"),
    ("print('%.2f' % (7 / 3))", "2.33"),
    ("print(f'{7 / 3:.2f} {42!r:>4}')", "2.33   42"),  # format specs are honoured
    ("print(format(1234.5, ',.1f'))", "1,234.5"),
    ("print(10 ** 30)", str(10**30)),
    ("xs = list(range(10000))\nprint(sum(xs))", "49995000"),
    ("print('first')\nprint('')\n", "first"),  # the last non-blank line
    ("print(sum(n * n for n in range(1, 11)))", "385"),
    ("print([x * y for x in range(3) for y in range(2) if x])", "[0, 1, 0, 2]"),
    ("n = 5\nsquares = [n * n for n in range(3)]\nprint(n, squares)", "5 [0, 1, 4]"),
    ("xs = []\nfor day in range(3):\n    xs.append(day * 2)\nprint(xs)", "[0, 2, 4]"),
    ("a = [3, 1, 2]\na.sort()\na.reverse()\nprint(a, a.index(1))", "[3, 2, 1] 2"),
    ("a = [3, 1]\na.extend([4])\nlast = a.pop()\nprint(a, last, a.count(3))", "[3, 1] 4 1"),
    ("print(sorted([3, 1, 2], reverse=True))", "[3, 2, 1]"),
    # a name in other capitals than defined, when one defined name matches (GSM8K row 14)
    ("nathalie = 7\ndef f():\n    return Nathalie * 2\nprint(f() + NATHALIE)", "21"),
    ("a = [3, 1, 2]\na.sort(reverse=True)\nprint(a)", "[3, 2, 1]"),
    # a function sees its own scope, the ones it was defined in and the globals, as in Python
    (
        "price = 10\ndef cost(n):\n    return n * price\nprint([cost(price) for price in [1]])",
        "[10]",
    ),
    (
        "def outer(rate):\n    def inner(x):\n        return x * rate\n    return inner(3)\n"
        "print(outer(2))",
        "6",
    ),
]


@pytest.mark.parametrize(("code", "printed"), NORMAL_PROGRAMS)
def test_runs_arithmetic_programs(code: str, printed: str) -> None:
    assert interpret(code) == printed


@pytest.mark.parametrize(("code", "printed"), NORMAL_PROGRAMS[:8])
def test_the_sandbox_gives_the_same_answers(code: str, printed: str) -> None:
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
        ("a = [1]\nprint(a.__len__())", "attribute"),
        ("print('a'.upper())", "attribute"),
        ("print((1, 2).count(1))", "attribute"),
        ("print([x for x in 5])", "comprehensions may only go over"),
        ("score = 1\nScore = 2\nprint(SCORE)", "'SCORE' is not defined"),  # two match
        ("def f():\n    return x\nprint([f() for x in range(3)])", "'x' is not defined"),
    ],
)
def test_refuses_what_is_not_arithmetic(code: str, reason: str) -> None:
    with pytest.raises(CalculatorError, match=reason):
        run_program(code)


# Programs from the user report and their relatives: each must end as a one-line
# CalculatorError, never as another exception, a crash or gigabytes of memory.
ABUSE = [
    # exceptions Python raises inside a built-in
    ("print(divmod(1, 0))", "division by zero"),
    ("print(5 % 0)", "division by zero"),
    ("print(0 ** -1)", "division by zero"),
    ("print(int(float('inf')))", "infinity"),
    ("print(math.sqrt(-1))", "math domain error"),
    ("print([1, 2][5])", "IndexError"),
    ("print(int('nine'))", "invalid literal"),
    ("print(1 + 'a')", "TypeError"),
    # formatting widths and precisions
    ('print("%0999999999d" % 1)', "format width too large"),
    ('print("%.999999999f" % 1.5)', "format precision too large"),
    ('print("%*d" % (10 ** 9, 1))', "`\\*` widths"),
    ('print(f"{1:0999999999}")', "format width or precision too large"),
    ('w = 10 ** 9\nprint(f"{1:{w}}")', "format width or precision too large"),
    ('print(f"{1.5:.999999999f}")', "format width or precision too large"),
    ('print(format(1, "0999999999"))', "format width or precision too large"),
    ("print(round(1, -10 ** 20))", "round: at most"),
    # repetition, nested elements counted
    ("x = [[0] * 10 ** 6] * 10 ** 6", "sequence too long"),
    ("x = [[[0] * 1000] * 1000] * 1000\nprint(len(x))", "nested ones included"),
    ("x = [[0] * 1000] * 1000\nprint(len(x))", "nested ones included"),
    ("x = ['x' * 10000] * 10\nprint(len(x))", "nested ones included"),
    ("x = 'ab' * 10 ** 9", "sequence too long"),
    ("x = (0,) * 10 ** 30", "sequence too long"),
    # the sandbox's own means: built-ins, lists built by hand, mutation, cycles
    ("a = list(range(10000))\nb = [a, a, a, a, a, a]\nprint(b)", "nested ones included"),
    ("a = [0]\nb = [a] * 5000\na[0] = 'x' * 9999\nprint(b)", "nested ones included"),
    ("a = [0]\nb = [a] * 5000\na[0] = 'x' * 9999\nprint(sorted(b))", "nested ones included"),
    ("a = [0]\na[0] = a\nprint(str(a) == str(a))", "nested ones included"),
    ("a = [0] * 10000\nwhile True:\n    a[0:0] = a", "sequence too long"),
    ("a = 'x' * 10000\nprint(f'{a}{a}')", "sequence too long"),
    ("a = 'x' * 10000\nprint(a, a, a, a, a, a, a, a, a, a, a)", "printed line too long"),
    ("print(sum([[1] * 100] * 100, []))", "sum adds numbers only"),
    ("print(len([[0] * 100 for _ in range(1000)]))", "nested ones included"),
    ("a = [1]\nwhile True:\n    a.extend(a)", "sequence too long"),
    ("a = [[0] * 9000]\nwhile True:\n    a.append(a[0])", "too much work"),
    ("a = [0] * 10000\nfor i in range(10000):\n    a[i] = [0] * 10000", "too much work"),
    ("a = [[0] * 9000]\nfor i in range(10):\n    a.append(a[0])\nprint(a)", "nested ones included"),
    ("b = [()] * 10000\nc = [b] * 4\nwhile True:\n    d = [c for _ in 'x']", "too much work"),
    ("g = (x for x in range(3))\nprint(sum(g), sum(g))", "generator expression stored"),
    ("print(sorted([3, 1], key=abs))", "keyword arguments"),
    ("a = []\na.pop()", "pop from empty list"),
    ("a = [1] * 5000\nwhile True:\n    s = sum(a)", "too much work"),
    # huge numbers and deep nesting
    ("print(2 ** 64 ** 2)", "exponent too large"),
    ("x = 10 ** 30\nprint(x * x)", "number too large"),
    ("def f(n):\n    return f(n + 1)\nprint(f(0))", "nest too deeply"),
    ("print(" + "-" * 10000 + "1)", "nested too deeply"),
    ("print(1" + " + 1" * 4000 + ")", "nested too deeply"),
    ("def f():\n    break\nfor i in range(3):\n    f()\nprint(1)", "outside a loop"),
]


@pytest.mark.parametrize(("code", "reason"), ABUSE)
def test_abuse_ends_as_a_one_line_calculator_error(code: str, reason: str) -> None:
    with pytest.raises(CalculatorError, match=reason) as caught:
        interpret(code)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("divmod(1, 0)", "division by zero"),
        ('"%0999999999d" % 1', "format width too large"),
        ("[[0] * 10 ** 6] * 10 ** 6", "sequence too long"),
        ("[[[0] * 1000] * 1000] * 1000", "nested ones included"),
        ("def f(n):\n    return f(n + 1)\nprint(f(0))", "nest too deeply"),
        ("print(" + "-" * 10000 + "1)", "nested too deeply"),
        ("while True:\n    pass", "too many steps"),
        ("print(10 ** 10 ** 10)", "exponent too large"),
        ("a = [0]\nb = [a] * 5000\na[0] = 'x' * 9999\nprint(b)", "nested ones included"),
    ],
)
def test_the_reported_abuse_through_the_sandbox(code: str, reason: str) -> None:
    """The same programs as above, end to end: the child's reply carries the same error."""
    with pytest.raises(CalculatorError, match=reason) as caught:
        run_program(code)
    assert "\n" not in str(caught.value)


def test_any_exception_inside_the_interpreter_is_a_calculator_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*_: Any) -> None:
        raise LookupError("an exception nobody listed\nover two lines")

    monkeypatch.setitem(calc_limits.BUILTINS, "boom", boom)
    with pytest.raises(CalculatorError, match=r"^LookupError: an exception nobody listed over"):
        interpret("boom()")


def test_a_program_too_long_is_refused_before_it_runs() -> None:
    with pytest.raises(CalculatorError, match="program too long"):
        run_program("x = 1\n" * 10_000)


def test_elements_counts_every_copy_and_stops_at_a_cycle() -> None:
    row = [0] * 10
    assert elements([row] * 10) == 110
    assert elements(["ab", ("c", [1, 2])]) == 2 + 2 + 2 + 1 + 2  # lists, tuples, strings
    assert elements(7) == 0
    loop: list[Any] = [0]
    loop[0] = loop
    with pytest.raises(CalculatorError, match="sequence too long"):
        elements(loop)
    with pytest.raises(CalculatorError, match="sequence too long"):
        elements([[0] * 1000] * (MAX_ELEMENTS // 1000))


def test_one_line_collapses_and_caps_messages() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("x" * 5000)) == calc_limits.MAX_MESSAGE


def test_finds_the_fenced_program_in_a_reply() -> None:
    reply = "Here is the code:\n```python\nprint(6 * 7)\n```\nIt prints 42."
    assert program_in(reply) == "print(6 * 7)\n"
    assert program_in("The answer is 42.") is None
    assert program_in("```python\nprint(1)") == "print(1)"  # cut off by the token limit
