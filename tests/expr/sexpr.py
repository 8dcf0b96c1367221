"""A compact, readable rendering of the AST for table-driven parser tests."""

from __future__ import annotations

from decimal import Decimal

from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary


def sexpr(node: Node) -> str:
    """``(+ 1 (* 2 3))``-style text of ``node``."""
    if isinstance(node, Literal):
        if isinstance(node.value, Decimal):
            return str(node.value)
        if isinstance(node.value, str):
            return '"' + node.value + '"'
        return {True: "TRUE", False: "FALSE", None: "NULL"}[node.value]
    if isinstance(node, Ref):
        return ("THIS" + "".join("." + p for p in node.path)) if node.this else ".".join(node.path)
    if isinstance(node, Call):
        return "(" + " ".join([node.name + "()", *map(sexpr, node.args)]) + ")"
    if isinstance(node, Unary):
        return f"({node.op} {sexpr(node.operand)})"
    if isinstance(node, Binary):
        return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"
    if isinstance(node, InList):
        return f"({'NOT IN' if node.negated else 'IN'} {sexpr(node.operand)} {' '.join(map(sexpr, node.items))})"
    raise TypeError(node)
