"""What the calculator's interpreter lets a program do to values: the operators and
comparisons, the list methods, and the one keyword argument besides `print`'s.

Like its siblings, this module imports only the standard library and `calc_limits`, because
the sandbox's child loads it without the `murmurnet` package.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from .calc_limits import CalculatorError, check_length, power, repeat

LIST_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse"}
)
"""What a program may call on a list: the 0.5B coder model builds lists with `append`, and a
program refused for it abstained (2 of 29 failed programs on GSM8K dev rows)."""
WALKING_METHODS = frozenset({"remove", "index", "count", "sort"})

BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: repeat,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: power,
}
UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def keyword_arguments(node: ast.Call, evaluate: Callable[[ast.expr], Any]) -> dict[str, Any]:
    """A call's keyword arguments, evaluated (`**` refused); `check_keywords` says which may
    be given."""
    if any(keyword.arg is None for keyword in node.keywords):
        raise CalculatorError("keyword arguments are not allowed")
    return {str(keyword.arg): evaluate(keyword.value) for keyword in node.keywords}


def check_keywords(keywords: dict[str, Any], sorts: bool) -> None:
    """Keyword arguments are refused, but for `reverse` of a sort (`sorted(xs,
    reverse=True)`, `xs.sort(reverse=True)`): small models write it often."""
    if keywords and not (sorts and set(keywords) == {"reverse"}):
        raise CalculatorError("keyword arguments are not allowed")


def call_list_method(
    items: list[Any],
    name: str,
    args: list[Any],
    keywords: dict[str, Any],
    weigh: Callable[[list[Any]], int],
) -> Any:
    """A list method, what it walks weighed before (the list itself only for those that
    walk it: a loop of `append` must not pay for the whole list each time) and the list's
    length checked after (`extend` can double it)."""
    weigh([items, *args] if name in WALKING_METHODS else args)
    result = getattr(items, name)(*args, **keywords)
    check_length(items)
    return result
