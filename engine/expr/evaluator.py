"""The Python backend: an AST compiled once into nested closures, then run per record.

No ``eval``/``exec`` and no tree walk per call: each node becomes a closure that calls its
children's closures. An error inside (``1/0``) is the ``ERROR`` value and spreads as Excel's
errors do; the compiled function returns it as blank (None). Chains such as ``a + b + c + ...``
and ``-(-(-x))`` compile into one loop, so a long formula does not nest Python calls. Every node
run spends one step of the budget (``Limits.max_steps``), and so does every list item read, so
runaway work stops with ``ExprError("too_many_steps")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from engine.expr.errors import DEFAULT_LIMITS, ExprError, Limits
from engine.expr.functions import FUNCTIONS, Function
from engine.expr.functions.registry import unknown_function, wrong_arity
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary
from engine.expr.operators import BINARY, UNARY
from engine.expr.runtime import Arg, Budget, Compiled, Frame
from engine.expr.scope import Context
from engine.expr.values import ERROR, equals, normalize

# What a function's bad input may raise deep inside: it is an error value, as Excel's #VALUE!.
_VALUE_ERRORS = (ArithmeticError, ValueError, TypeError)


def compile_expression(node: Node, limits: Limits = DEFAULT_LIMITS) -> Callable[[Context], Any]:
    """Compile ``node`` once into a function of a :class:`~engine.expr.scope.Context`.

    Raises:
        ExprError: an unknown function or a wrong number of arguments (at compile time);
            ``too_many_steps`` or ``too_deep`` when the compiled function runs.
    """
    try:
        run = _compile(node)
    except RecursionError:
        raise _too_deep(node) from None

    def evaluate(context: Context) -> Any:
        frame = Frame(context, context, Budget(limits.max_steps))
        try:
            result = run(frame)
        except RecursionError:
            raise _too_deep(node) from None
        return None if result is ERROR else result  # by decision (types.py) an error is a blank result

    return evaluate


def _too_deep(node: Node) -> ExprError:
    return ExprError(
        "too_deep",
        "the expression is nested too deeply to evaluate",
        node.start,
        node.end,
        hint="use helper formula fields for the inner parts",
    )


def _compile(node: Node) -> Compiled:
    if isinstance(node, Literal):
        return _literal(node)
    if isinstance(node, Ref):
        return _ref(node)
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Unary):
        return _unary(node)
    if isinstance(node, Binary):
        return _binary(node)
    return _in_list(node)


def _literal(node: Literal) -> Compiled:
    value = float(node.value) if isinstance(node.value, Decimal) else node.value

    def run(frame: Frame) -> Any:
        frame.budget.charge(1)
        return value

    return run


def _ref(node: Ref) -> Compiled:
    path, this = node.path, node.this

    if this and not path:
        return _record

    def run(frame: Frame) -> Any:
        budget = frame.budget
        budget.charge(1)
        value = normalize((frame.record if this else frame.context).value(path))
        if isinstance(value, list):
            budget.charge(len(value))
        return value

    return run


def _record(frame: Frame) -> Any:
    """A bare ``THIS``: the record's id, as the context gives it (an id is not a number to convert)."""
    frame.budget.charge(1)
    return frame.record.value(())


def _call(node: Call) -> Compiled:
    function = FUNCTIONS.get(node.name)
    if function is None:
        raise unknown_function(node)
    if not function.accepts_count(len(node.args)):
        raise wrong_arity(function, node)
    args = [_compile(arg) for arg in node.args]
    if function.lazy:
        return _lazy_call(function, node.args, args)
    return _eager_call(function, args)


def _lazy_call(function: Function, nodes: Sequence[Node], compiled: Sequence[Compiled]) -> Compiled:
    args = tuple(
        Arg(run, node.path, node.this) if isinstance(node, Ref) else Arg(run)
        for node, run in zip(nodes, compiled, strict=True)
    )
    implementation = function.implementation

    def run(frame: Frame) -> Any:
        frame.budget.charge(1)
        try:
            return _result(implementation(frame, args))
        except _VALUE_ERRORS:
            return ERROR

    return run


def _eager_call(function: Function, args: Sequence[Compiled]) -> Compiled:
    implementation, needs_context = function.implementation, function.needs_context

    def run(frame: Frame) -> Any:
        frame.budget.charge(1)
        values = [arg(frame) for arg in args]
        if any(value is ERROR for value in values):
            return ERROR  # an error argument makes the result an error, as in Excel
        try:
            if needs_context:
                return _result(implementation(frame.record, *values))
            return _result(implementation(*values))
        except _VALUE_ERRORS:
            return ERROR

    return run


def _result(value: Any) -> Any:
    """A function's result: an overflow to infinity is an error; an ``int`` becomes ``float``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else ERROR
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _unary(node: Unary) -> Compiled:
    operations: list[Callable[[Any], Any]] = []
    inner: Node = node
    while isinstance(inner, Unary):  # -(-(x%)) runs as one loop, innermost operator first
        operations.append(UNARY[inner.op])
        inner = inner.operand
    operations.reverse()
    operand = _compile(inner)
    count = len(operations)

    def run(frame: Frame) -> Any:
        frame.budget.charge(count)
        value = operand(frame)
        for operation in operations:
            value = operation(value)
        return value

    return run


def _binary(node: Binary) -> Compiled:
    spine: list[Binary] = []
    inner: Node = node
    while isinstance(inner, Binary):  # a + b + c + ... is left-deep: run it as one loop
        spine.append(inner)
        inner = inner.left
    first = _compile(inner)
    steps = [(BINARY[part.op], _compile(part.right)) for part in reversed(spine)]
    count = len(steps)

    def run(frame: Frame) -> Any:
        frame.budget.charge(count)
        value = first(frame)
        for operator, right in steps:
            value = operator(value, right(frame))
        return value

    return run


def _in_list(node: InList) -> Compiled:
    operand = _compile(node.operand)
    items = [_compile(item) for item in node.items]
    negated = node.negated

    def run(frame: Frame) -> Any:
        frame.budget.charge(1)
        value = operand(frame)
        for item in items:
            candidate = item(frame)
            if value is ERROR or candidate is ERROR:
                return ERROR
            candidates = candidate if isinstance(candidate, list) else [candidate]
            if any(equals(value, each) for each in candidates):
                return not negated
        return negated

    return run
