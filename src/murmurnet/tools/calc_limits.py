"""The calculator's bounds: how big a value may get and how much a program may ask for.

The interpreter's whitelist decides what a program may *say*; these bounds decide how much it
may *cost*. Python's own operations allocate in C before the interpreter sees their result, so
anything that can allocate a lot from a small input (repetition, formatting widths, rounding to
a huge number of digits) is checked here *before* it runs, and everything else is checked
afterwards against sizes that are cheap to have built.

This module is also loaded inside the sandbox's child process, outside the `murmurnet` package,
so it imports only the standard library.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

MAX_STEPS = 20_000
"""Statements, expressions and loop passes one program may take."""
MAX_WORK = 2_000_000
"""Elements the size checks may visit in one program, so checking cannot become the hog."""
MAX_EXPONENT = 64
MAX_MAGNITUDE = 10**30
MAX_SEQUENCE = 10_000
"""The length of one string, list or tuple."""
MAX_ELEMENTS = 50_000
"""Elements in a value at every depth: `[[0] * 100] * 100` holds 10_100, shared or not."""
MAX_WIDTH = 100
"""Widths, precisions and rounding digits in formatting."""
MAX_PRINTED = 100_000
"""Characters in one printed line."""
MAX_MESSAGE = 200

_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.|$)", re.DOTALL)
_DIGITS = re.compile(r"\d+")
_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
_FLAT = frozenset({int, float, bool, complex, type(None), range})


class CalculatorError(Exception):
    """The program cannot be run here: bad syntax, a forbidden construct, or too much work."""


def one_line(text: object) -> str:
    """A message fit for one line of a reply: whitespace collapsed, length capped."""
    words = " ".join(str(text).split())
    return words if len(words) <= MAX_MESSAGE else words[: MAX_MESSAGE - 1] + "…"


def too_many_elements(limit: int = MAX_ELEMENTS) -> CalculatorError:
    return CalculatorError(f"sequence too long: more than {limit} elements, nested ones included")


def elements(value: Any, limit: int = MAX_ELEMENTS) -> int:
    """How many elements `value` holds at every depth; past `limit`, a `CalculatorError`.

    A list repeated inside another list is one object in memory, but printing, summing or
    comparing it visits every copy, so each appearance counts. Strings count their
    characters. The walk is iterative and stops at `limit`, so a list that contains itself
    ends here instead of recursing forever.
    """
    if isinstance(value, str):
        total = len(value)
    elif isinstance(value, list | tuple):
        total = 0
        pending: list[Any] = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                total += len(item)
            elif isinstance(item, list | tuple):
                total += len(item)
                if not _FLAT.issuperset(map(type, item)):  # a list of numbers needs no walk
                    pending.extend(item)
            if total > limit:
                break
    else:
        return 0
    if total > limit:
        raise too_many_elements(limit)
    return total


def check_number(value: Any) -> None:
    """Refuse an integer too large to be an answer (cheap to have built, costly to keep using)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_MAGNITUDE:
        raise CalculatorError("number too large")


def check_length(value: Any) -> None:
    """Refuse a string, list or tuple longer than any word problem needs."""
    if isinstance(value, str | list | tuple) and len(value) > MAX_SEQUENCE:
        raise CalculatorError(f"sequence too long: more than {MAX_SEQUENCE} elements")


def power(base: Any, exponent: Any) -> Any:
    """`**` with a bounded exponent: `10 ** 10 ** 10` is refused before Python tries it."""
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise CalculatorError("exponent too large")
    return operator.pow(base, exponent)


def repeat(left: Any, right: Any) -> Any:
    """`*` that refuses a repetition whose result would be too big, before building it.

    The count is checked against the flat length and against every nested element, so
    `[[0] * 1000] * 1000` is refused although it would only hold 1000 references.
    """
    sequence, count = (right, left) if isinstance(right, str | list | tuple) else (left, right)
    if isinstance(sequence, str | list | tuple) and isinstance(count, int) and count > 0:
        if len(sequence) * count > MAX_SEQUENCE:
            raise CalculatorError(f"sequence too long: more than {MAX_SEQUENCE} elements")
        if elements(sequence) * count > MAX_ELEMENTS:
            raise too_many_elements()
    return operator.mul(left, right)


def _check_width(digits: str, what: str) -> None:
    if len(digits) > 3 or int(digits) > MAX_WIDTH:
        raise CalculatorError(f"{what} too large (at most {MAX_WIDTH})")


def check_printf(template: str) -> None:
    """Bound `%` formatting: `"%0999999999d" % 1` would build a gigabyte of zeros."""
    for spec in _PRINTF_SPEC.finditer(template):
        width, precision = spec.group(1), spec.group(2)
        if width == "*" or precision == "*":
            raise CalculatorError("`*` widths are not allowed in % formatting")
        if width:
            _check_width(width, "format width")
        if precision:
            _check_width(precision, "format precision")


def check_format_spec(spec: str) -> None:
    """Bound a format spec (f-strings, `format()`): every number in it is a width or precision.

    Fill characters aside, the numbers in a standard format spec are its width and precision,
    so bounding every run of digits bounds both without parsing the mini-language.
    """
    if len(spec) > 20:
        raise CalculatorError("format spec too long")
    for digits in _DIGITS.findall(spec):
        _check_width(digits, "format width or precision")


def format_value(value: Any, spec: Any, conversion: int = -1) -> str:
    """An f-string's `{value!conversion:spec}`, its widths bounded before formatting."""
    if conversion in _CONVERSIONS:
        value = _CONVERSIONS[conversion](value)
    if not isinstance(spec, str):
        raise CalculatorError("format: the spec must be a string")
    check_format_spec(spec)
    try:
        return format(value, spec)
    except (TypeError, ValueError) as exc:
        raise CalculatorError(f"format: {one_line(exc)}") from None


def show(value: Any) -> str:
    """How `print` shows a value: whole floats as integers, others to six digits."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else str(value)
    return str(value)


def _round(number: Any, ndigits: Any = None) -> Any:
    """`round` that refuses `round(1, -10**20)`, which would build 10**(10**20) first."""
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_WIDTH:
        raise CalculatorError(f"round: at most {MAX_WIDTH} digits")
    return round(number, ndigits)


def _format(value: Any, spec: Any = "") -> str:
    return format_value(value, spec)


def _range(*args: int) -> range:
    span = range(*args)
    if len(span) > MAX_SEQUENCE:
        raise CalculatorError("range too long")
    return span


def _sum(items: Any, start: Any = 0) -> Any:
    """`sum` of numbers only: `sum(lists, [])` would copy its growing result at every step."""
    if not isinstance(start, int | float):
        raise CalculatorError("sum adds numbers only")
    return sum(items, start)


MATH: dict[str, Any] = {
    name: getattr(math, name) for name in ("ceil", "floor", "sqrt", "pi", "gcd", "isclose")
}

BUILTINS: dict[str, Any] = {
    "abs": abs,
    "round": _round,
    "min": min,
    "max": max,
    "sum": _sum,
    "int": int,
    "float": float,
    "str": str,
    "len": len,
    "range": _range,
    "list": list,
    "sorted": sorted,
    "divmod": divmod,
    "format": _format,
    "True": True,
    "False": False,
    "None": None,
    "math": MATH,  # `math.ceil` works with or without `import math`
}
"""What a program can call, each bounded where Python's own version could run away."""
