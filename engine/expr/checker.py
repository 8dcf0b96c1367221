"""The static check: every problem of an expression against a scope, each with its span and a hint.

Type rules (the evaluator is more forgiving at run time, as Excel is: there a bad value is an
error, which ends as blank):

* Arithmetic ``+ - * / ^``, signs and ``%`` take numbers (TRUE/FALSE and blank count as numbers,
  as in Excel). Text is refused even though Excel reads ``"3" + 1`` as 4: field types are known
  here, so text in arithmetic is a mistake (the hint names ``&`` or ``VALUE``).
* Dates: ``date + number`` and ``date - number`` are dates, ``date - date`` is a number of days;
  any other arithmetic on dates is an error.
* ``&`` takes any single value (blank is "", dates are written ``yyyy-mm-dd``).
* ``= <> < <= > >=`` and ``IN`` need comparable types: numbers with numbers, text with text,
  dates with dates (and date-times), TRUE/FALSE with TRUE/FALSE; ``date = number`` is an error,
  and so is ``flag = 1`` (in Excel ``TRUE = 1`` is FALSE). Records and users only take ``=`` and
  ``<>``.
* ``AND``/``OR``/``NOT`` and conditions take TRUE/FALSE (numbers too: 0 is FALSE, as in Excel);
  text is an error.
* A list (a path through a sub-table or related records) must go through an aggregate
  (``SUM(items.amount)``); an aggregate's list argument must be a list.
* The branches of ``IF``/``IFS``/``SWITCH``/``COALESCE``/``BAND``/``MIN``/``MAX`` must agree on one
  type (blank fits every type: ``IF(x > 0, x, NULL)``; ``IF(x > 0, x)`` mixes a number with the
  FALSE Excel gives for the missing branch).
* Function arguments follow each parameter's declared types and shape (one value, a list, or
  either); a literal argument with fixed choices (``DATEDIF`` units) must be one of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from decimal import Decimal

from engine.expr.errors import ExprError
from engine.expr.functions import FUNCTIONS, Function, Param
from engine.expr.functions.registry import DATES, LOGICAL, NUMERIC, TEXTUAL, suggest, unknown_function, wrong_arity
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary
from engine.expr.operands import arithmetic, describe, logical, merge, wrong_operand
from engine.expr.scope import Resolved, Scope
from engine.expr.types import ANY, BLANK, BOOLEAN, NUMBER, TEXT, Type, compatible, fits, is_number_like, is_numeric

RECORD = Type("record")
_UNORDERED = frozenset({"record", "user", "rows"})
_WANTED = {
    NUMERIC: "a number",
    DATES: "a date",
    TEXTUAL: "text (or a number)",
    LOGICAL: "a condition (TRUE/FALSE)",
    NUMERIC | DATES: "a number or a date",
    frozenset({"text"}): "text",
}
_HINTED = frozenset({"date", "number", "text", "boolean"})
_COMPARISON_HINTS = {
    frozenset({"date", "number"}): "compare a date with a date, e.g. TODAY() - 30 or DATE(2026, 1, 31)",
    frozenset({"date", "text"}): "compare a date with a date, e.g. DATE(2026, 1, 31), not with text",
    frozenset({"text", "number"}): "write the number without quotes, or use VALUE(...) on the text",
    frozenset({"boolean", "number"}): "TRUE/FALSE never equal a number (TRUE = 1 is FALSE): compare with TRUE or FALSE",
    frozenset({"boolean", "text"}): "compare with TRUE or FALSE, without quotes",
}


class _NoRows:
    """The scope of a condition whose list has no row fields."""

    def resolve(self, path: Sequence[str]) -> Resolved | None:
        return None

    def names(self) -> list[str]:
        return []


class _Unknown:
    """The scope of an expression compiled without one: every name is there, of an unknown type."""

    def resolve(self, path: Sequence[str]) -> Resolved | None:
        return Resolved(ANY)

    def names(self) -> list[str]:
        return []


def static_types(node: Node, scope: Scope | None = None) -> dict[int, Type]:
    """The static type of every node of ``node``, by ``id(node)``, as :func:`check` finds them.

    Without a scope every name has an unknown type (``any``), so only what the expression itself
    says is known (``TODAY()`` and ``DATE(...)`` are dates, ``1 + 2`` a number). A node the check
    finds a problem in is ``any``. The backends read these types where a value alone is not
    enough: a blank operand of ``+``/``-`` is a blank *date* when its static type is a date.
    """
    checker = _Checker(_Unknown() if scope is None else scope)
    with contextlib.suppress(RecursionError):  # too deep: the rest is unknown (the backends refuse it anyway)
        checker.visit(node, checker.root)
    return checker.types


def check(node: Node, scope: Scope, *, expect: Type | None = None) -> tuple[Type, list[ExprError]]:
    """Check ``node`` against ``scope``; return its type and every problem found (empty when fine).

    ``expect`` is the type the result must fit (the field a formula fills, BOOLEAN for a rule).
    """
    checker = _Checker(scope)
    try:
        result = checker.visit(node, scope)
    except RecursionError:
        return ANY, [
            *checker.errors,
            ExprError("too_deep", "the expression is nested too deeply to check", node.start, node.end),
        ]
    if expect is not None and not fits(result, expect):
        checker.errors.append(_misfit(node, result, expect))
    return result, checker.errors


def _misfit(node: Node, actual: Type, expected: Type) -> ExprError:
    hint = None
    if actual.name == "text" and is_number_like(expected):
        hint = "use VALUE(...) to read a number from text"
    elif expected.name == "boolean":
        hint = "a condition gives TRUE or FALSE: compare the value, e.g. x > 0"
    elif actual.many and not expected.many:
        hint = "aggregate the list, e.g. SUM(...), MAX(...) or COUNT(...)"
    return ExprError(
        "wrong_result_type",
        f"the formula gives {actual}, but a {expected} is needed here",
        node.start,
        node.end,
        hint=hint,
    )


class _Checker:
    def __init__(self, root: Scope) -> None:
        self.root = root
        self.errors: list[ExprError] = []
        self.types: dict[int, Type] = {}  # the type of each node visited, by id(node)

    def error(self, code: str, message: str, node: Node, hint: str | None = None) -> Type:
        self.errors.append(ExprError(code, message, node.start, node.end, hint=hint))
        return ANY

    def visit(self, node: Node, scope: Scope) -> Type:
        found = self.typed(node, scope)
        self.types[id(node)] = found
        return found

    def typed(self, node: Node, scope: Scope) -> Type:
        if isinstance(node, Literal):
            return _literal_type(node)
        if isinstance(node, Ref):
            return self.ref(node, scope)
        if isinstance(node, Call):
            return self.call(node, scope)
        if isinstance(node, Unary):
            return self.unary(node, scope)
        if isinstance(node, Binary):
            return self.binary(node, scope)
        return self.in_list(node, scope)

    # -- names ----------------------------------------------------------------------------------
    def resolve(self, node: Ref, scope: Scope) -> Resolved | None:
        if node.this and not node.path:
            return Resolved(RECORD)
        return (self.root if node.this else scope).resolve(node.path)

    def ref(self, node: Ref, scope: Scope) -> Type:
        resolved = self.resolve(node, scope)
        if resolved is None:
            self.errors.append(self.unknown_name(node, self.root if node.this else scope))
            return ANY
        return resolved.type

    def unknown_name(self, node: Ref, scope: Scope) -> ExprError:
        depth = next(i for i in range(1, len(node.path) + 1) if scope.resolve(node.path[:i]) is None)
        name, (start, end) = node.path[depth - 1], _segment_span(node, depth - 1)
        if depth == 1:
            message, candidates = f"unknown name '{name}'", scope.names()
        else:
            parent = scope.resolve(node.path[: depth - 1])
            candidates = parent.rows.names() if parent is not None and parent.rows is not None else []
            message = f"'{name}' is not a field of '{'.'.join(node.path[: depth - 1])}'"
        return ExprError("unknown_name", message, start, end, hint=self.name_hint(node, scope, name, candidates))

    def name_hint(self, node: Ref, scope: Scope, name: str, candidates: list[str]) -> str | None:
        if scope is not self.root and not node.this and self.root.resolve(node.path) is not None:
            path = ".".join(node.path)
            return f"in a condition, names are the fields of each row: write THIS.{path} for this record's {path}"
        if len(node.path) == 1 and name.upper() in FUNCTIONS:
            return f"{name.upper()} is a function: write {name.upper()}()"
        match = suggest(name, candidates)
        if match is not None:
            return f"did you mean '{match}'?"
        function = suggest(name, list(FUNCTIONS)) if len(node.path) == 1 else None
        return f"did you mean {function}()?" if function else _known_names(candidates)

    # -- calls ----------------------------------------------------------------------------------
    def call(self, node: Call, scope: Scope) -> Type:
        function = FUNCTIONS.get(node.name)
        if function is None or not function.accepts_count(len(node.args)):
            self.errors.append(
                unknown_function(node, scope.names()) if function is None else wrong_arity(function, node)
            )
            for arg in node.args:
                self.visit(arg, scope)
            return ANY if function is None or function.returns is None else function.returns
        results: list[tuple[Type, Node]] = []
        for index, arg in enumerate(node.args):
            param = function.param_at(index, len(node.args))
            found = self.visit(arg, self.row_scope(node.args[0], scope) if param.condition else scope)
            self.argument(function, param, arg, found)
            if param.result:
                results.append((found.one(), arg))
        results += [(p.missing, node) for p in function.params[len(node.args) :] if p.result and p.missing]
        return function.returns or self.unify(function, results)

    def row_scope(self, source: Node, scope: Scope) -> Scope:
        """The scope a condition is checked in: the rows of the aggregate's first argument."""
        resolved = self.resolve(source, scope) if isinstance(source, Ref) else None
        return resolved.rows if resolved is not None and resolved.rows is not None else _NoRows()

    def argument(self, function: Function, param: Param, arg: Node, found: Type) -> None:
        if found.name == "any" or found == BLANK:
            return
        where = f"{function.name}'s {param.name}"
        problem = _shape_problem(where, param, arg, found) or _type_problem(where, param, arg, found)
        if problem is not None:
            self.errors.append(problem)

    def unify(self, function: Function, results: list[tuple[Type, Node]]) -> Type:
        """The one type all the ``result`` arguments agree on (blank fits every type)."""
        common = BLANK
        for found, arg in results:
            merged = merge(common, found)
            if merged is None:
                return self.error(
                    "mixed_types",
                    f"{function.name} gives {common} in one case and {found} in another",
                    arg,
                    "give every case the same type (NULL for an empty result)",
                )
            common = merged
        return common

    # -- operators ------------------------------------------------------------------------------
    def unary(self, node: Unary, scope: Scope) -> Type:
        chain: list[Unary] = []
        inner: Node = node
        while isinstance(inner, Unary):
            chain.append(inner)
            inner = inner.operand
        found = self.single(inner, self.visit(inner, scope))
        for part in reversed(chain):
            wanted = logical if part.op == "NOT" else is_numeric
            if not wanted(found):
                return self.error("wrong_type", wrong_operand(part.op, found), part.operand)
            found = BOOLEAN if part.op == "NOT" else NUMBER
            self.types[id(part)] = found
        return found

    def single(self, node: Node, found: Type) -> Type:
        """``found``, or ANY after reporting that a list stands where one value is needed."""
        if found.many:
            return self.error(
                "list_needs_aggregate",
                f"{describe(node)} is a list (one value per row); an operator needs one value",
                node,
                "aggregate it, e.g. SUM(...) or COUNT(...)",
            )
        return found

    def binary(self, node: Binary, scope: Scope) -> Type:
        spine: list[Binary] = []
        inner: Node = node
        while isinstance(inner, Binary):  # iterate the left-deep chain a + b + c + ...
            spine.append(inner)
            inner = inner.left
        found = self.single(inner, self.visit(inner, scope))
        for part in reversed(spine):
            right = self.single(part.right, self.visit(part.right, scope))
            found = self.operator(part, found, right)
            self.types[id(part)] = found  # the inner links of the chain are not visited one by one
        return found

    def operator(self, node: Binary, left: Type, right: Type) -> Type:
        if node.op == "&":
            return TEXT
        if node.op in ("AND", "OR"):
            for side, found in ((node.left, left), (node.right, right)):
                if not logical(found):
                    self.error(
                        "wrong_type", wrong_operand(node.op, found), side, 'write a condition, e.g. status = "open"'
                    )
            return BOOLEAN
        if node.op in ("+", "-", "*", "/", "^"):
            result = arithmetic(node.op, left, right)
            if isinstance(result, Type):
                return result
            at, message, hint = result
            return self.error("wrong_type", message, node.left if at == "left" else node.right, hint)
        return self.comparison(node, node.op, left, right)

    def comparison(self, node: Node, op: str, left: Type, right: Type) -> Type:
        if not compatible(left, right):
            hint = _COMPARISON_HINTS.get(frozenset({left.name, right.name}) & _HINTED)
            self.error("incompatible_comparison", f"cannot compare {left} with {right}", node, hint)
        elif op not in ("=", "<>") and {left.name, right.name} & _UNORDERED:
            self.error(
                "wrong_type", f"{left if left.name in _UNORDERED else right} can only be compared with = or <>", node
            )
        return BOOLEAN

    def in_list(self, node: InList, scope: Scope) -> Type:
        found = self.single(node.operand, self.visit(node.operand, scope))
        for item in node.items:
            self.comparison(item, "=", found, self.visit(item, scope).one())
        return BOOLEAN


def _shape_problem(where: str, param: Param, arg: Node, found: Type) -> ExprError | None:
    """A list where one value is needed, or one value where a list is needed."""
    if found.many and param.shape == "one":
        message = f"{describe(arg)} is a list (one value per row), but {where} is one value"
        hint = "aggregate it first, e.g. SUM(...), MAX(...) or COUNT(...)"
        return ExprError("list_needs_aggregate", message, arg.start, arg.end, hint=hint)
    if not found.many and param.shape == "many":
        message = f"{where} must be a list (a sub-table column or related records); {describe(arg)} is one value"
        hint = "name a column of related rows, e.g. items.amount"
        return ExprError("not_a_list", message, arg.start, arg.end, hint=hint)
    return None


def _type_problem(where: str, param: Param, arg: Node, found: Type) -> ExprError | None:
    """A value of a type the parameter does not take, or a literal outside its choices."""
    if param.types and found.name not in param.types:
        wanted = _WANTED.get(param.types, " or ".join(sorted(param.types)))
        message = f"{where} must be {wanted}; this is {found}"
        return ExprError("wrong_type", message, arg.start, arg.end, hint=_type_hint(param, found))
    if param.choices and isinstance(arg, Literal) and not _is_choice(arg.value, param.choices):
        choices = ", ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in param.choices)
        return ExprError("bad_argument", f"{where} must be one of {choices}", arg.start, arg.end)
    return None


def _literal_type(node: Literal) -> Type:
    if node.value is None:
        return BLANK
    if isinstance(node.value, bool):
        return BOOLEAN
    return TEXT if isinstance(node.value, str) else NUMBER


def _known_names(candidates: list[str], shown: int = 10) -> str | None:
    """A hint listing the names that can be used, when none is close to the one written."""
    if not candidates:
        return None
    names = sorted(set(candidates))
    more = ", ..." if len(names) > shown else ""
    return "the names here are: " + ", ".join(names[:shown]) + more


def _segment_span(node: Ref, index: int) -> tuple[int, int]:
    """The span of the ``index``-th segment of a path (the whole path if spaces were written in it)."""
    prefix = 5 if node.this else 0  # "THIS."
    if node.end - node.start != prefix + len(".".join(node.path)):
        return node.start, node.end
    start = node.start + prefix + sum(len(part) + 1 for part in node.path[:index])
    return start, start + len(node.path[index])


def _is_choice(value: Decimal | str | bool | None, choices: tuple[str | int, ...]) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().upper() in {str(c).upper() for c in choices}
    return not isinstance(value, bool) and any(float(value) == c for c in choices if isinstance(c, int))


def _type_hint(param: Param, found: Type) -> str | None:
    if param.condition:
        return 'write a condition on the row, e.g. status = "open"'
    if found.name == "rows":
        return "name a column of the rows, e.g. items.amount"
    if found.name == "text" and "number" in param.types:
        return "use VALUE(...) to read a number from text"
    if found.name in ("date", "datetime") and "text" in param.types:
        return 'use TEXT(date, "yyyy-mm-dd") to write a date as text'
    if found.name in ("number", "boolean") and "date" in param.types:
        return "use DATE(year, month, day) to make a date"
    return None
