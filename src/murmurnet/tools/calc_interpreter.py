"""The calculator's interpreter: walks a program's syntax tree over a whitelist, never `exec`.

Small models set a word problem up well far more often than they multiply correctly, and the
bundled model is a coder model that likes to answer in Python. So a "programmer" agent writes a
program and this module interprets it: numbers, strings, lists, tuples, variables, arithmetic,
comparisons, `if`, bounded `for` and `while` loops, comprehensions, list methods, functions,
f-strings, a few built-ins and `math`. Anything else (other imports and attributes, files,
dunders) is refused. Work is bounded by a step count and by the sizes in `calc_limits`, and any
exception at all ends as `CalculatorError` with a one-line message.

This is the first of two layers: the calculator runs this interpreter in a child process with
operating-system limits (`calc_sandbox`), so a gap in these checks costs a failed answer, not
the caller's memory. The module imports only the standard library and its siblings, because
the child loads it without the `murmurnet` package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .calc_flow import Break, Continue, Function, Return, as_load, look_up
from .calc_limits import (
    BUILTINS,
    MATH,
    MAX_ELEMENTS,
    MAX_PRINTED,
    MAX_SEQUENCE,
    MAX_STEPS,
    MAX_WORK,
    CalculatorError,
    check_length,
    check_number,
    check_printf,
    elements,
    format_value,
    one_line,
    show,
    too_many_elements,
)
from .calc_operations import (
    BINARY,
    COMPARE,
    LIST_METHODS,
    UNARY,
    call_list_method,
    check_keywords,
    keyword_arguments,
)

_MAX_CALL_DEPTH = 20


class _Interpreter:
    def __init__(self) -> None:
        self.steps = 0
        self.work = 0
        self.printed = False
        self.last_printed: str | None = None
        self.frames: list[dict[str, Any]] = [{**BUILTINS, "__name__": "__main__"}]
        self.local = 0
        """Where the running function's frames begin: it sees them (its own, those it was
        defined in, those of the comprehensions it runs) and the globals, not its caller's,
        as in Python."""
        self.calls = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise CalculatorError("too many steps")

    def weigh(self, values: list[Any]) -> int:
        """Refuse operands too big to walk, before an operation walks them in C; how many
        elements they hold at every depth (0 for no list or tuple).

        Only lists and tuples need it: a string's size is its length, already bounded. The
        elements visited are charged, so a loop that re-weighs a big list runs out of work
        rather than CPU time.
        """
        if not any(isinstance(value, list | tuple) for value in values):
            return 0
        counted = elements(values)
        self.work += counted + 1
        if self.work > MAX_WORK:
            raise CalculatorError("too much work")
        return counted

    # -- statements -----------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        self.tick()
        if isinstance(node, ast.Expr):
            self.expr(node.value)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
            node.value, ast.GeneratorExp
        ):
            raise CalculatorError("a generator expression stored in a name: use a list instead")
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target, value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, self.expr(node.value))
        elif isinstance(node, ast.AugAssign):
            current = self.expr(as_load(node.target))
            self.assign(node.target, self.binary(node.op, current, self.expr(node.value)))
        elif isinstance(node, ast.If):
            self.block(node.body if self.expr(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            self.loop_for(node)
        elif isinstance(node, ast.While):
            while self.expr(node.test) and self.loop_body(node.body):
                pass
        elif isinstance(node, ast.FunctionDef):
            self.frames[-1][node.name] = Function(node, self.frames[max(self.local, 1) :])
        elif isinstance(node, ast.Return):
            raise Return(None if node.value is None else self.expr(node.value))
        elif isinstance(node, ast.Break):
            raise Break
        elif isinstance(node, ast.Continue):
            raise Continue
        elif isinstance(node, ast.Import):
            if any(alias.name != "math" for alias in node.names):
                raise CalculatorError("only `import math` is allowed")
            for alias in node.names:
                self.frames[-1][alias.asname or "math"] = MATH
        elif isinstance(node, ast.ImportFrom):
            if node.module != "math":
                raise CalculatorError("only `import math` is allowed")
            for alias in node.names:
                if alias.name not in MATH:
                    raise CalculatorError(f"math.{alias.name} is not available")
                self.frames[-1][alias.asname or alias.name] = MATH[alias.name]
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
        except Break:
            return False
        except Continue:
            pass
        return True

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.frames[-1][target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            if not isinstance(value, range | list | tuple | str):
                raise CalculatorError("cannot unpack")
            items = list(value)
            if len(items) != len(target.elts):
                raise CalculatorError("cannot unpack")
            for element, item in zip(target.elts, items, strict=True):
                self.assign(element, item)
        elif isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            if not isinstance(container, list):
                raise CalculatorError("only list items can be assigned")
            # What a list item holds is charged as work, as `append` charges it: a list of
            # small lists filled item by item would otherwise hold far more than one value may.
            self.weigh([value])
            container[self.expr(target.slice)] = value
            check_length(container)  # `a[0:0] = a` grows the list in place
        else:
            raise CalculatorError("unsupported assignment")

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node: ast.expr) -> Any:
        self.tick()
        value = self._expr(node)
        check_number(value)
        check_length(value)
        return value

    def _expr(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | bool | type(None)):
                raise CalculatorError("unsupported constant")
            return node.value
        if isinstance(node, ast.Name):
            return look_up(node.id, [*reversed(self.frames[self.local :]), self.frames[0]])
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return UNARY[type(node.op)](self.expr(node.operand))
        if isinstance(node, ast.BoolOp):
            result: Any = isinstance(node.op, ast.And)
            for operand in node.values:
                result = self.expr(operand)
                if bool(result) != isinstance(node.op, ast.And):
                    return result
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
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
            if self.expr(node.value) is MATH and node.attr in MATH:
                return MATH[node.attr]
            raise CalculatorError("attribute access is not allowed")
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return self.comprehension(node)
        if isinstance(node, ast.JoinedStr):
            return self.joined(node)
        if isinstance(node, ast.FormattedValue):
            return self.formatted(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise CalculatorError(f"{type(node).__name__} is not allowed")

    def binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        function = BINARY.get(type(op))
        if function is None:
            raise CalculatorError(f"operator {type(op).__name__} is not allowed")
        self.weigh([left, right])
        if isinstance(op, ast.Mod) and isinstance(left, str):
            check_printf(left)
        try:
            return function(left, right)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None

    def compare(self, node: ast.Compare) -> bool:
        left = self.expr(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.expr(comparator)
            self.weigh([left, right])
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def joined(self, node: ast.JoinedStr) -> str:
        """An f-string, refused as soon as its pieces grow past the longest string allowed."""
        pieces: list[str] = []
        length = 0
        for part in node.values:
            piece = (
                self.formatted(part) if isinstance(part, ast.FormattedValue) else self.expr(part)
            )
            length += len(piece)
            if length > MAX_SEQUENCE:
                raise CalculatorError(f"sequence too long: more than {MAX_SEQUENCE} elements")
            pieces.append(piece)
        return "".join(pieces)

    def formatted(self, node: ast.FormattedValue) -> str:
        """One `{value!conversion:spec}` of an f-string, its widths bounded before formatting."""
        value = self.expr(node.value)
        self.weigh([value])
        spec = "" if node.format_spec is None else self.expr(node.format_spec)
        return format_value(value, spec, node.conversion)

    def call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            self.print([self.expr(arg) for arg in node.args])  # its `sep` and `end` ignored
            return None
        args = [self.expr(arg) for arg in node.args]
        keywords = keyword_arguments(node, self.expr)
        if isinstance(node.func, ast.Attribute) and node.func.attr in LIST_METHODS:
            items = self.expr(node.func.value)
            if not isinstance(items, list):
                raise CalculatorError("attribute access is not allowed")
            check_keywords(keywords, node.func.attr == "sort")
            return call_list_method(items, node.func.attr, args, keywords, self.weigh)
        function = self.expr(node.func)
        check_keywords(keywords, function is sorted)
        if isinstance(function, Function):
            return self.invoke(function, args)
        if not callable(function):
            raise CalculatorError("not a function")
        if function is not len:  # the one built-in that looks at a list without walking it
            self.weigh(args)
        try:
            return function(*args, **keywords)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise CalculatorError(one_line(exc)) from None

    def comprehension(self, node: ast.ListComp | ast.GeneratorExp) -> list[Any]:
        """A list comprehension, or a generator expression built as a list (one stored in a
        name is refused: a second use would not find it spent), its loop variables in their
        own scope, its elements counted at every depth as it grows and charged as work."""
        items: list[Any] = []
        size = 0
        self.frames.append({})
        try:
            for value in self.comprehended(node.elt, node.generators):
                size += self.weigh([value]) + 1
                if size > MAX_ELEMENTS:
                    raise too_many_elements()
                items.append(value)
                check_length(items)
        finally:
            self.frames.pop()
        return items

    def comprehended(self, elt: ast.expr, loops: list[ast.comprehension]) -> Iterator[Any]:
        if not loops:
            yield self.expr(elt)
            return
        loop, rest = loops[0], loops[1:]
        if loop.is_async:
            raise CalculatorError("async comprehensions are not allowed")
        iterable = self.expr(loop.iter)
        if not isinstance(iterable, range | list | tuple | str):
            raise CalculatorError("comprehensions may only go over ranges, lists or strings")
        for item in iterable:
            self.tick()
            self.assign(loop.target, item)
            if all(self.expr(condition) for condition in loop.ifs):
                yield from self.comprehended(elt, rest)

    def print(self, args: list[Any]) -> None:
        """Keep the last non-blank printed line: the answer is the last thing printed."""
        self.weigh(args)
        pieces: list[str] = []
        length = 0
        for arg in args:
            piece = show(arg)
            length += len(piece) + 1
            if length > MAX_PRINTED:
                raise CalculatorError("printed line too long")
            pieces.append(piece)
        line = " ".join(pieces)
        self.printed = True
        if line.strip():
            self.last_printed = line

    def invoke(self, function: Function, args: list[Any]) -> Any:
        definition = function.definition
        params = [arg.arg for arg in definition.args.args]
        if len(params) != len(args):
            raise CalculatorError(f"bad call of {definition.name}")
        if self.calls >= _MAX_CALL_DEPTH:
            raise CalculatorError(f"functions nest too deeply (more than {_MAX_CALL_DEPTH})")
        caller, frames = self.local, self.frames
        self.calls += 1
        self.local = 1
        self.frames = [frames[0], *function.enclosing, dict(zip(params, args, strict=True))]
        try:
            self.block(definition.body)
        except Return as returned:
            return returned.value
        except (Break, Continue):
            raise CalculatorError("break or continue outside a loop") from None
        finally:
            self.local, self.frames = caller, frames
            self.calls -= 1
        return None

    def run(self, tree: ast.Module) -> str:
        self.block(tree.body)
        last = tree.body[-1] if tree.body else None
        if not self.printed and isinstance(last, ast.Expr):
            value = self.expr(last.value)
            if value is not None:
                self.print([value])
        if self.last_printed is None:
            raise CalculatorError("the program printed nothing")
        return self.last_printed.strip()


def interpret(code: str) -> str:
    """What the program prints (its last line), else the value of its last expression.

    Every failure, whatever its type, becomes a `CalculatorError` with a one-line message:
    the caller treats it as "no answer from this agent", never as a crash.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise CalculatorError(f"syntax error: {one_line(exc.msg)}") from None
    except (RecursionError, MemoryError):
        raise CalculatorError("the program is nested too deeply or too big") from None
    except Exception as exc:  # e.g. ValueError for a null byte
        raise CalculatorError(f"cannot parse the program: {one_line(exc)}") from None
    try:
        return _Interpreter().run(tree)
    except CalculatorError as exc:
        raise CalculatorError(one_line(exc)) from None
    except (Return, Break, Continue):
        raise CalculatorError("return, break or continue outside their place") from None
    except RecursionError:
        raise CalculatorError("the program is nested too deeply") from None
    except MemoryError:
        raise CalculatorError("out of memory") from None
    except Exception as exc:
        raise CalculatorError(one_line(f"{type(exc).__name__}: {exc}")) from None
