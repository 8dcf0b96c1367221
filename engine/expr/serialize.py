"""The JSON form of the AST: what the browser's interpreter evaluates (and what the builder shows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary


def to_json(node: Node) -> dict[str, Any]:
    """Return a JSON-ready dict; every node carries its span ``[start, end]`` for underlining."""
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
        return {"t": "call", "name": node.name, "args": [to_json(a) for a in node.args], "span": span}
    if isinstance(node, Unary):
        return {"t": "unary", "op": node.op, "x": to_json(node.operand), "span": span}
    if isinstance(node, Binary):
        return {"t": "bin", "op": node.op, "l": to_json(node.left), "r": to_json(node.right), "span": span}
    if isinstance(node, InList):
        items = [to_json(i) for i in node.items]
        return {"t": "in", "x": to_json(node.operand), "items": items, "not": node.negated, "span": span}
    raise TypeError(f"not an expression node: {node!r}")
