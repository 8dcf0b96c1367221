"""The JSON form of the AST: what the browser's interpreter evaluates (and what the builder shows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.expr.checker import static_types
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary, children, walk
from engine.expr.scope import Scope
from engine.expr.types import is_date_type


def to_json(node: Node, scope: Scope | None = None) -> dict[str, Any]:
    """Return a JSON-ready dict; every node carries its span ``[start, end]`` for underlining.

    ``scope`` gives the static types of the names, as for ``compile_expression``: a ``+`` or
    ``-`` with an operand of a date type carries ``"dates": [left, right]`` (which operands are
    dates), so that the browser treats a blank there as a blank date, as the server does.

    Built without recursion: a long chain such as ``1+1+...+1`` is a deep left-leaning tree.
    """
    dated = [part for part in walk(node) if isinstance(part, Binary) and part.op in ("+", "-")]
    types = static_types(node, scope) if dated else {}
    flags = {id(part): [is_date_type(types.get(id(side))) for side in (part.left, part.right)] for part in dated}
    done: dict[int, dict[str, Any]] = {}
    pending: list[tuple[Node, bool]] = [(node, False)]
    while pending:
        current, expanded = pending.pop()
        if not expanded:
            pending.append((current, True))
            pending.extend((child, False) for child in reversed(children(current)))
            continue
        shape = _shape(current, [done[id(child)] for child in children(current)])  # a hand-built tree may share one
        if any(flags.get(id(current), ())):
            shape["dates"] = flags[id(current)]
        done[id(current)] = shape
    return done[id(node)]


def _shape(node: Node, parts: list[dict[str, Any]]) -> dict[str, Any]:
    span = [node.start, node.end]
    if isinstance(node, Literal):
        value = node.value
        if isinstance(value, Decimal):
            number = float(value)
            return {"t": "num", "v": int(number) if number.is_integer() else number, "span": span}
        return {"t": "lit", "v": value, "span": span}
    if isinstance(node, Ref):
        return {"t": "ref", "path": list(node.path), "this": node.this, "span": span}
    if isinstance(node, Call):
        return {"t": "call", "name": node.name, "args": parts, "span": span}
    if isinstance(node, Unary):
        return {"t": "unary", "op": node.op, "x": parts[0], "span": span}
    if isinstance(node, Binary):
        return {"t": "bin", "op": node.op, "l": parts[0], "r": parts[1], "span": span}
    if isinstance(node, InList):
        return {"t": "in", "x": parts[0], "items": parts[1:], "not": node.negated, "span": span}
    raise TypeError(f"not an expression node: {node!r}")
