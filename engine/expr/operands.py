"""The static type rules of the operators (used by the checker; see its docstring for the rules)."""

from __future__ import annotations

from typing import Literal

from engine.expr.nodes import Node, Ref
from engine.expr.types import ANY, BLANK, NUMBER, Type, is_numeric

Side = Literal["left", "right"]
Problem = tuple[Side, str, str | None]

_DATES = ("date", "datetime")
_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "^": "raise to a power"}


def describe(node: Node) -> str:
    """How a message names an operand: its path, or "this value"."""
    if isinstance(node, Ref) and node.path:
        return ("THIS." if node.this else "") + ".".join(node.path)
    return "this value"


def logical(t: Type) -> bool:
    """Whether ``t`` can be a condition (TRUE/FALSE; numbers, where 0 is FALSE, as in Excel)."""
    return is_numeric(t)


def wrong_operand(op: str, found: Type) -> str:
    """The message for an operand ``op`` cannot use."""
    wanted = "TRUE/FALSE" if op in ("AND", "OR", "NOT") else "a number"
    return f"'{op}' needs {wanted}; this is {found}"


def _arithmetic_hint(op: str, found: Type) -> str | None:
    if found.name == "text":
        return "use & to join text" if op == "+" else "use VALUE(...) to read a number from text"
    if found.name in _DATES:
        return "dates only add or subtract days; use DAYS(), YEAR() or DATEDIF() for numbers"
    return None


def arithmetic(op: str, left: Type, right: Type) -> Type | Problem:
    """The type of ``left op right`` for ``+ - * / ^``, or the operand at fault and why."""
    if ANY in (left, right):
        return NUMBER if op in "*/^" else ANY
    for side, found in (("left", left), ("right", right)):
        if not (is_numeric(found) or found.name in _DATES):
            return side, wrong_operand(op, found), _arithmetic_hint(op, found)  # type: ignore[return-value]
    dated = (left.name in _DATES, right.name in _DATES)
    if dated == (False, False):
        return NUMBER
    if op == "+" and dated != (True, True):
        return left if dated[0] else right
    if op == "-" and dated[0]:
        return NUMBER if dated[1] else left
    found = right if dated[1] else left
    message = f"cannot {_VERBS[op]} {left} and {right}"
    return ("right" if dated[1] else "left"), message, _arithmetic_hint(op, found)


def merge(common: Type, found: Type) -> Type | None:
    """The type both ``common`` and ``found`` fit in, or None when they cannot mix."""
    if found == BLANK or common == ANY:
        return common
    if common == BLANK or found == ANY:
        return found
    if {common.name, found.name} == {"date", "datetime"}:
        return Type("datetime")
    if common.name != found.name:
        return None
    if common.target is None or found.target is None or common.target == found.target:
        return common if common.target else found
    return None
