"""How a program's control flow moves through the calculator's interpreter: the signals
for `return`, `break` and `continue`, the functions a program defines, and the target an
augmented assignment reads before it writes.

Like its siblings, this module imports only the standard library, because the sandbox's
child loads it without the `murmurnet` package.
"""

from __future__ import annotations

import ast
from typing import Any


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
