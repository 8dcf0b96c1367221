"""The Python backend: an AST compiled once into nested closures, then run per record.

No ``eval``/``exec`` and no tree walk per call: each node becomes a closure that calls its
children's closures. An error inside (``1/0``) is the ``ERROR`` value and spreads as Excel's
errors do; the compiled function returns it as blank (None). Chains such as ``a + b + c + ...``
and ``-(-(-x))`` compile into one loop, so a long formula does not nest Python calls. Every node
run spends one step of the budget (``Limits.max_steps``), and so does every list item read, so
runaway work stops with ``ExprError("too_many_steps")``.

Speed without changing results: a node's closure does not spend its own step. Each node knows
the steps it and its always-run children spend (:class:`Piece`), and the closure that starts a
straight-line run (the whole expression, a lazy function's argument, an ``IN`` item) spends that
sum in one charge, so every run spends the same total as one charge per node; it only stops a
runaway run a little earlier within that stretch. Operators on literals only (``-0.15``) are
worked out once, when compiling, and calls pass literal arguments without running closures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from math import isfinite
from typing import Any, Final

from engine.expr.checker import static_types
from engine.expr.errors import DEFAULT_LIMITS, ExprError, Limits
from engine.expr.functions import FUNCTIONS, Function
from engine.expr.functions.registry import unknown_function, wrong_arity
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary, walk
from engine.expr.operators import BINARY, UNARY, binary_operator
from engine.expr.runtime import Arg, Budget, Compiled, Frame
from engine.expr.scope import Context, Scope
from engine.expr.types import Type, is_date_type
from engine.expr.values import ERROR, equals, normalize

# What a function's bad input may raise deep inside: it is an error value, as Excel's #VALUE!.
_VALUE_ERRORS = (ArithmeticError, ValueError, TypeError)
_VARIABLE: Final = object()  # Piece.constant of a node whose value is only known when it runs
Types = Mapping[int, Type]  # the static type of each node, by id (see checker.static_types)


@dataclass(frozen=True, slots=True)
class Piece:
    """A compiled node.

    Attributes:
        run: computes the value. It does not spend ``steps``: whoever starts the run does, in
            one charge for a whole straight-line stretch (see the module docstring).
        steps: the steps the node and the children it always runs spend on every run, one per
            node (list items and lazily run arguments are spent when they happen).
        constant: the value, when it is known at compile time (a literal, ``-0.15``, ``"a" & "b"``).
    """

    run: Compiled
    steps: int
    constant: Any = _VARIABLE

    @property
    def known(self) -> bool:
        """Whether the value is known at compile time."""
        return self.constant is not _VARIABLE


def compile_expression(
    node: Node, limits: Limits = DEFAULT_LIMITS, *, scope: Scope | None = None
) -> Callable[[Context], Any]:
    """Compile ``node`` once into a function of a :class:`~engine.expr.scope.Context`.

    ``scope`` gives the static types of the names (the scope the expression was checked
    against). The values alone do not say whether a blank is a blank number or a blank date,
    and date arithmetic treats them differently (``types.py``): ``signed_on + 30`` is blank
    when ``signed_on`` is a blank date field. Without a scope a name's type is unknown and a
    blank name counts as Excel's 0; give the scope whenever there is one.

    Raises:
        ExprError: an unknown function or a wrong number of arguments (at compile time);
            ``too_many_steps`` or ``too_deep`` when the compiled function runs.
    """
    try:
        piece = _compile(node, static_types(node, scope) if _may_do_date_arithmetic(node, scope) else {})
    except RecursionError:
        raise _too_deep(node) from None
    run, steps, max_steps = piece.run, piece.steps, limits.max_steps
    if steps > max_steps:  # every run overruns: let the charge say so
        run, steps = _charging(piece), 0

    def evaluate(context: Context) -> Any:
        try:
            result = run(Frame(context, context, Budget(max_steps, steps)))
        except RecursionError:
            raise _too_deep(node) from None
        return None if result is ERROR else result  # by decision (types.py) an error is a blank result

    return evaluate


def _may_do_date_arithmetic(node: Node, scope: Scope | None) -> bool:
    """Whether ``node`` has a ``+`` or ``-`` (the only operators static types change) that may see a date.

    Without a scope only a call can give a date a type (``TODAY()``, ``IF(..., d, NULL)``).
    """
    parts = walk(node)
    if not any(isinstance(part, Binary) and part.op in ("+", "-") for part in parts):
        return False
    return scope is not None or any(isinstance(part, Call) for part in parts)


def _too_deep(node: Node) -> ExprError:
    return ExprError(
        "too_deep",
        "the expression is nested too deeply to evaluate",
        node.start,
        node.end,
        hint="use helper formula fields for the inner parts",
    )


def _charging(piece: Piece) -> Compiled:
    """``piece.run``, spending the piece's steps first: for a node that may or may not run."""
    run, steps = piece.run, piece.steps

    def charged(frame: Frame) -> Any:
        budget = frame.budget  # Budget.charge, inline: this runs for every lazily run argument
        budget.steps += steps
        if budget.steps > budget.limit:
            raise budget.exhausted()
        return run(frame)

    return charged


def _constant(value: Any, steps: int) -> Piece:
    def run(frame: Frame) -> Any:
        return value

    return Piece(run, steps, value)


def _fold(compute: Callable[[], Any]) -> Any:
    """The value of an operator on constants, worked out now; ``_VARIABLE`` to leave it to run time.

    An error value or a raised error (a text over the length limit) stays a run-time affair, so
    that it happens, as before, only when the expression runs; so a constant is never an error,
    which calls rely on (:func:`_call_on_one`).
    """
    try:
        value = compute()
    except (ExprError, ArithmeticError, ValueError, TypeError):
        return _VARIABLE
    return _VARIABLE if value is ERROR else value


def _compile(node: Node, types: Types) -> Piece:
    if isinstance(node, Literal):
        return _literal(node)
    if isinstance(node, Ref):
        return _ref(node)
    if isinstance(node, Call):
        return _call(node, types)
    if isinstance(node, Unary):
        return _unary(node, types)
    if isinstance(node, Binary):
        return _binary(node, types)
    return _in_list(node, types)


def _literal(node: Literal) -> Piece:
    """A literal; a number beyond the doubles (``1E+400``, NaN: only a hand-built tree has one) is an error.

    As an overflow is (``values.finite``), so no operator or function ever sees such a number.
    It is not a constant (a constant is never an error, see :func:`_fold`).
    """
    value = node.value
    if isinstance(value, Decimal):
        number = float(value) if value.is_finite() else math.nan
        return _constant(number, 1) if isfinite(number) else Piece(_error, 1)
    return _constant(value, 1)


def _error(frame: Frame) -> Any:
    return ERROR


def _ref(node: Ref) -> Piece:
    path, this = node.path, node.this

    if this and not path:
        return Piece(_record, 1)

    def run(frame: Frame) -> Any:
        value = (frame.record if this else frame.context).value(path)
        if type(value) is float and isfinite(value):
            return value  # already in the evaluator's shape: the common case, without normalize
        value = normalize(value)
        if isinstance(value, list):
            frame.budget.charge(len(value))  # a step per item read
        return value

    return Piece(run, 1)


def _record(frame: Frame) -> Any:
    """A bare ``THIS``: the record's id, as the context gives it (an id is not a number to convert)."""
    return frame.record.value(())


def _call(node: Call, types: Types) -> Piece:
    function = FUNCTIONS.get(node.name)
    if function is None:
        raise unknown_function(node)
    if not function.accepts_count(len(node.args)):
        raise wrong_arity(function, node)
    args = [_compile(arg, types) for arg in node.args]
    if function.lazy:
        return Piece(_lazy_call(function, node.args, args), 1)
    steps = 1 + sum(arg.steps for arg in args)
    variable = [index for index, arg in enumerate(args) if not arg.known]
    if len(variable) == 1 and not function.needs_context:  # BAND(x, 10, 100, 0, 50), ROUND(x, 2), MIN(100, x)
        index = variable[0]
        before, after = (tuple(arg.constant for arg in part) for part in (args[:index], args[index + 1 :]))
        return Piece(_call_on_one(function, before, args[index].run, after), steps)
    return Piece(_eager_call(function, tuple(arg.run for arg in args)), steps)


def _lazy_call(function: Function, nodes: Sequence[Node], pieces: Sequence[Piece]) -> Compiled:
    args = tuple(
        Arg(_charging(piece), node.path, node.this) if isinstance(node, Ref) else Arg(_charging(piece))
        for node, piece in zip(nodes, pieces, strict=True)
    )
    implementation = function.implementation

    def run(frame: Frame) -> Any:
        try:
            result = implementation(frame, args)
            return result if type(result) is float and isfinite(result) else _result(result)
        except _VALUE_ERRORS:
            return ERROR

    return run


def _eager_call(function: Function, args: Sequence[Compiled]) -> Compiled:
    implementation, needs_context = function.implementation, function.needs_context

    def run(frame: Frame) -> Any:
        values = [arg(frame) for arg in args]
        for value in values:
            if value is ERROR:
                return ERROR  # an error argument makes the result an error, as in Excel
        try:
            if needs_context:
                return _result(implementation(frame.record, *values))
            return _result(implementation(*values))
        except _VALUE_ERRORS:
            return ERROR

    return run


def _call_on_one(function: Function, before: tuple[Any, ...], arg: Compiled, after: tuple[Any, ...]) -> Compiled:
    """A call whose arguments are constants but one: the constants are passed as they are.

    They are never an error (see :func:`_fold`), so only the one argument run is checked.
    """
    implementation = partial(function.implementation, *before) if before else function.implementation

    def run(frame: Frame) -> Any:
        value = arg(frame)
        if value is ERROR:
            return ERROR
        try:
            result = implementation(value, *after)
            return result if type(result) is float and isfinite(result) else _result(result)
        except _VALUE_ERRORS:
            return ERROR

    return run


def _result(value: Any) -> Any:
    """A function's result: an overflow to infinity is an error; an ``int`` becomes ``float``."""
    if type(value) is float or isinstance(value, float):  # a plain float, the common case, is told apart cheaply
        return value if isfinite(value) else ERROR
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _unary(node: Unary, types: Types) -> Piece:
    operations: list[Callable[[Any], Any]] = []
    inner: Node = node
    while isinstance(inner, Unary):  # -(-(x%)) runs as one loop, innermost operator first
        operations.append(UNARY[inner.op])
        inner = inner.operand
    operations.reverse()
    operand = _compile(inner, types)
    steps = len(operations) + operand.steps
    if operand.known and (folded := _fold(partial(_apply, operations, operand.constant))) is not _VARIABLE:
        return _constant(folded, steps)
    run_operand = operand.run

    def run(frame: Frame) -> Any:
        value = run_operand(frame)
        for operation in operations:
            value = operation(value)
        return value

    return Piece(run, steps)


def _apply(operations: Sequence[Callable[[Any], Any]], value: Any) -> Any:
    """``value`` through the unary ``operations`` in turn (for folding constants)."""
    for operation in operations:
        value = operation(value)
    return value


def _binary(node: Binary, types: Types) -> Piece:
    spine: list[Binary] = []
    inner: Node = node
    while isinstance(inner, Binary):  # a + b + c + ... is left-deep: run it as one loop
        spine.append(inner)
        inner = inner.left
    first = _compile(inner, types)
    rest = [(_operator(part, types), _compile(part.right, types)) for part in reversed(spine)]
    steps = len(rest) + first.steps + sum(right.steps for _, right in rest)
    while rest and first.known and rest[0][1].known:  # fold the leading constants: 2 * 3 + x is 6 + x
        operator, right = rest[0]
        folded = _fold(partial(operator, first.constant, right.constant))
        if folded is _VARIABLE:
            break
        first, rest = _constant(folded, 0), rest[1:]
    if not rest:
        return _constant(first.constant, steps)
    if len(rest) == 1:
        return Piece(_pair(first, *rest[0]), steps)
    return Piece(_chain(first.run, [(operator, right.run) for operator, right in rest]), steps)


def _operator(node: Binary, types: Types) -> Callable[[Any, Any], Any]:
    """The run-time rule of ``node``'s operator, for the static types of its operands."""
    if node.op not in ("+", "-") or not types:
        return BINARY[node.op]
    left, right = types.get(id(node.left)), types.get(id(node.right))
    return binary_operator(node.op, is_date_type(left), is_date_type(right))


def _pair(left: Piece, operator: Callable[[Any, Any], Any], right: Piece) -> Compiled:
    """``left op right``, with a constant side passed as it is rather than run (``0.5 * x``)."""
    run_left, run_right = left.run, right.run
    if left.known:
        constant = left.constant
        return lambda frame: operator(constant, run_right(frame))
    if right.known:
        constant = right.constant
        return lambda frame: operator(run_left(frame), constant)
    return lambda frame: operator(run_left(frame), run_right(frame))


def _chain(first: Compiled, rest: Sequence[tuple[Callable[[Any, Any], Any], Compiled]]) -> Compiled:
    def run(frame: Frame) -> Any:
        value = first(frame)
        for operator, right in rest:
            value = operator(value, right(frame))
        return value

    return run


def _in_list(node: InList, types: Types) -> Piece:
    operand = _compile(node.operand, types)
    items = [_charging(_compile(item, types)) for item in node.items]  # items after a match do not run
    negated, run_operand = node.negated, operand.run

    def run(frame: Frame) -> Any:
        value = run_operand(frame)
        for item in items:
            candidate = item(frame)
            if value is ERROR or candidate is ERROR:
                return ERROR
            candidates = candidate if isinstance(candidate, list) else [candidate]
            if any(equals(value, each) for each in candidates):
                return not negated
        return negated

    return Piece(run, 1 + operand.steps)
