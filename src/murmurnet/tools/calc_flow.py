"""How a program's control flow moves through the calculator's interpreter: the signals
for `return`, `break` and `continue`, the functions a program defines, the names it looks
up, and the target an augmented assignment reads before it writes.

Like its siblings, this module imports only the standard library and `calc_limits`, because
the sandbox's child loads it without the `murmurnet` package.
"""

from __future__ import annotations

import ast
from typing import Any

from .calc_limits import CalculatorError


class Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Break(Exception):
    pass


class Continue(Exception):
    pass


class Function:
    """A function the program defined, with the scopes it was defined in besides the globals
    (a plain class: `dataclasses` slows the child's start)."""

    __slots__ = ("definition", "enclosing")

    def __init__(self, definition: ast.FunctionDef, enclosing: list[dict[str, Any]]) -> None:
        self.definition = definition
        self.enclosing = enclosing


def as_load(target: ast.expr) -> ast.expr:
    """An augmented assignment's target read as a value (`total` of `total += 1`)."""
    return ast.Name(id=target.id, ctx=ast.Load()) if isinstance(target, ast.Name) else target


def look_up(name: str, scopes: list[dict[str, Any]]) -> Any:
    """A name's value in the first scope that holds it; else the one name the scopes hold in
    other capitals (the small model defines `nathalie_score` and then adds
    `Nathalie_score`: Python would stop there, though the program's meaning is not in
    doubt; benchmarks/results/name-case/). None or several such names: not defined."""
    for scope in scopes:
        if name in scope:
            return scope[name]
    folded = name.casefold()
    found = {key for scope in scopes for key in scope if key.casefold() == folded}
    if len(found) != 1:
        raise CalculatorError(f"name {name!r} is not defined")
    return look_up(found.pop(), scopes)
