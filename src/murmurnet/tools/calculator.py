"""A calculator for agents: runs the arithmetic part of a Python program a model wrote.

Small models set a word problem up well far more often than they multiply correctly, and the
bundled model is a coder model that likes to answer in Python. So a "programmer" agent writes
a program and this module interprets it — never `exec` — over a whitelist of syntax:
numbers, strings, lists, tuples, variables, arithmetic, comparisons, `if`, bounded `for` and
`while` loops, plain functions, a few built-ins and the `math` module. Anything else (imports
other than math, attributes, files, dunders) is refused, and work is bounded by a step count
and by the size of numbers, so a hostile or runaway program ends with `CalculatorError`.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MAX_STEPS = 20_000
_MAX_EXPONENT = 64
_MAX_MAGNITUDE = 10**30
_MAX_SEQUENCE = 10_000
_CODE_BLOCK = re.compile(
    r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE
)


class CalculatorError(Exception):
    """The program cannot be run here: bad syntax, a forbidden construct, or too much work."""


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > _MAX_EXPONENT:
        raise CalculatorError("exponent too large")
    return operator.pow(base, exponent)


def _repeat(left: Any, right: Any) -> Any:
    sequence, count = (right, left) if isinstance(right, str | list | tuple) else (left, right)
    sized = isinstance(sequence, str | list | tuple) and isinstance(count, int)
    if sized and len(sequence) * count > _MAX_SEQUENCE:
        raise CalculatorError("sequence too long")
    return operator.mul(left, right)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _repeat,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _bounded_range(*args: int) -> range:
    span = range(*args)
    if len(span) > _MAX_SEQUENCE:
        raise CalculatorError("range too long")
    return span


_BUILTINS: dict[str, Any] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sum": sum,
    "int": int,
    "float": float,
    "str": str,
    "len": len,
    "range": _bounded_range,
    "list": list,
    "sorted": sorted,
    "divmod": divmod,
    "True": True,
    "False": False,
    "None": None,
}
_MATH: dict[str, Any] = {
    name: getattr(math, name) for name in ("ceil", "floor", "sqrt", "pi", "gcd", "isclose")
}
_BUILTINS["math"] = _MATH  # `math.ceil` works with or without `import math`


@dataclass(frozen=True)
class _Function:
    definition: ast.FunctionDef


class _Interpreter:
    def __init__(self) -> None:
        self.steps = 0
        self.printed: list[str] = []
        self.frames: list[dict[str, Any]] = [dict(_BUILTINS)]

    def tick(self) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise CalculatorError("too many steps")

    # -- statements -----------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        self.tick()
        if isinstance(node, ast.Expr):
            self.expr(node.value)
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target, value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, self.expr(node.value))
        elif isinstance(node, ast.AugAssign):
            current = self.expr(_as_load(node.target))
            self.assign(node.target, self.binary(node.op, current, self.expr(node.value)))
        elif isinstance(node, ast.If):
            self.block(node.body if self.expr(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            self.loop_for(node)
        elif isinstance(node, ast.While):
            while self.expr(node.test) and self.loop_body(node.body):
                pass
        elif isinstance(node, ast.FunctionDef):
            self.frames[-1][node.name] = _Function(node)
        elif isinstance(node, ast.Return):
            raise _Return(None if node.value is None else self.expr(node.value))
        elif isinstance(node, ast.Break):
            raise _Break
        elif isinstance(node, ast.Continue):
            raise _Continue
        elif isinstance(node, ast.Import):
            if any(alias.name != "math" for alias in node.names):
                raise CalculatorError("only `import math` is allowed")
            for alias in node.names:
                self.frames[-1][alias.asname or "math"] = _MATH
        elif isinstance(node, ast.ImportFrom):
            if node.module != "math":
                raise CalculatorError("only `import math` is allowed")
            for alias in node.names:
                if alias.name not in _MATH:
                    raise CalculatorError(f"math.{alias.name} is not available")
                self.frames[-1][alias.asname or alias.name] = _MATH[alias.name]
        elif not isinstance(node, ast.Pass):
            raise CalculatorError(f"{type(node).__name__} is not allowed")

    def loop_for(self, node: ast.For) -> None:
        iterable = self.expr(node.iter)
        if not isinstance(iterable, range | list | tuple | str):
            raise CalculatorError("for loops may only go over ranges, lists or strings")
        for item in iterable:
            self.assign(node.target, item)
            if not self.loop_body(node.body):
                break

    def loop_body(self, body: list[ast.stmt]) -> bool:
        """One pass of a loop's body; False when it breaks out of the loop."""
        self.tick()
        try:
            self.block(body)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.frames[-1][target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = list(value)
            if len(items) != len(target.elts):
                raise CalculatorError("cannot unpack")
            for element, item in zip(target.elts, items, strict=True):
                self.assign(element, item)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            if not isinstance(container, list):
                raise CalculatorError("only list items can be assigned")
            container[self.expr(target.slice)] = value
        else:
            raise CalculatorError("unsupported assignment")

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node: ast.expr) -> Any:
        self.tick()
        value = self._expr(node)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_MAGNITUDE:
            raise CalculatorError("number too large")
        if isinstance(value, str | list | tuple) and len(value) > _MAX_SEQUENCE:
            raise CalculatorError("sequence too long")
        return value

    def _expr(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | bool | type(None)):
                raise CalculatorError("unsupported constant")
            return node.value
        if isinstance(node, ast.Name):
            for frame in reversed(self.frames):
                if node.id in frame:
                    return frame[node.id]
            raise CalculatorError(f"name {node.id!r} is not defined")
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.expr(node.operand))
        if isinstance(node, ast.BoolOp):
            result: Any = isinstance(node.op, ast.And)
            for operand in node.values:
                result = self.expr(operand)
                if bool(result) != isinstance(node.op, ast.And):
                    return result
            return result
        if isinstance(node, ast.Compare):
            left = self.expr(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.expr(comparator)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.expr(node.body) if self.expr(node.test) else self.expr(node.orelse)
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.expr(element) for element in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Subscript):
            container = self.expr(node.value)
            if not isinstance(container, list | tuple | str):
                raise CalculatorError("only lists, tuples and strings can be indexed")
            return container[self.expr(node.slice)]
        if isinstance(node, ast.Slice):
            parts = (node.lower, node.upper, node.step)
            return slice(*(None if part is None else self.expr(part) for part in parts))
        if isinstance(node, ast.Attribute):
            if self.expr(node.value) is _MATH and node.attr in _MATH:
                return _MATH[node.attr]
            raise CalculatorError("attribute access is not allowed")
        if isinstance(node, ast.JoinedStr):
            return "".join(str(self.expr(part)) for part in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.expr(node.value)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise CalculatorError(f"{type(node).__name__} is not allowed")

    def binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        if type(op) not in _BINARY:
            raise CalculatorError(f"operator {type(op).__name__} is not allowed")
        try:
            return _BINARY[type(op)](left, right)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None

    def call(self, node: ast.Call) -> Any:
        if node.keywords and not (isinstance(node.func, ast.Name) and node.func.id == "print"):
            raise CalculatorError("keyword arguments are not allowed")
        args = [self.expr(arg) for arg in node.args]
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            self.printed.append(" ".join(_show(arg) for arg in args))
            return None
        function = self.expr(node.func)
        if isinstance(function, _Function):
            return self.invoke(function.definition, args)
        if not callable(function):
            raise CalculatorError("not a function")
        try:
            return function(*args)
        except (TypeError, ValueError, OverflowError) as exc:
            raise CalculatorError(str(exc)) from None

    def invoke(self, definition: ast.FunctionDef, args: list[Any]) -> Any:
        params = [arg.arg for arg in definition.args.args]
        if len(params) != len(args) or len(self.frames) > 20:
            raise CalculatorError(f"bad call of {definition.name}")
        self.frames.append(dict(zip(params, args, strict=True)))
        try:
            self.block(definition.body)
        except _Return as returned:
            return returned.value
        finally:
            self.frames.pop()
        return None


def _as_load(target: ast.expr) -> ast.expr:
    return ast.Name(id=target.id, ctx=ast.Load()) if isinstance(target, ast.Name) else target


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else str(value)
    return str(value)


def program_in(reply: str) -> str | None:
    """The Python code of a reply: its first fenced block, or None when it has none."""
    match = _CODE_BLOCK.search(reply)
    return match.group(1) if match else None


def run_program(code: str) -> str:
    """What the program prints (its last line), else the value of its last expression."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise CalculatorError(f"syntax error: {exc.msg}") from None
    interpreter = _Interpreter()
    try:
        interpreter.block(tree.body)
        last = tree.body[-1] if tree.body else None
        if not interpreter.printed and isinstance(last, ast.Expr):
            value = interpreter.expr(last.value)
            if value is not None:
                interpreter.printed.append(_show(value))
    except (_Return, _Break, _Continue):
        raise CalculatorError("return, break or continue outside their place") from None
    except (TypeError, ValueError, IndexError, KeyError, OverflowError, RecursionError) as exc:
        raise CalculatorError(f"{type(exc).__name__}: {exc}") from None
    lines = [line for line in interpreter.printed if line.strip()]
    if not lines:
        raise CalculatorError("the program printed nothing")
    return lines[-1].strip()
