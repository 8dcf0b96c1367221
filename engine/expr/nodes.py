"""The AST: small frozen nodes, each with its source span (0-based, end exclusive)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Union


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, text, TRUE/FALSE or NULL."""

    value: Decimal | str | bool | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Ref:
    """A field reference: ``tier``, or a dotted path through relations ``account.tier``.

    ``this`` is set for paths written from ``THIS`` (``THIS.name``); a bare ``THIS`` is the record.
    """

    path: tuple[str, ...]
    start: int
    end: int
    this: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; ``name`` is upper-case (function names are case-insensitive)."""

    name: str
    args: tuple[Node, ...]
    start: int
    end: int
    name_end: int = 0


@dataclass(frozen=True, slots=True)
class Unary:
    """``-x``, ``+x``, ``NOT x`` or ``x%`` (op ``%``)."""

    op: str
    operand: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` for ``+ - * / ^ & = <> < <= > >= AND OR``."""

    op: str
    left: Node
    right: Node
    start: int
    end: int
    op_start: int = 0


@dataclass(frozen=True, slots=True)
class InList:
    """``x IN (a, b, c)`` (``negated`` for ``NOT IN``)."""

    operand: Node
    items: tuple[Node, ...]
    start: int
    end: int
    negated: bool = False


Node = Union[Literal, Ref, Call, Unary, Binary, InList]  # noqa: UP007 - used at runtime in isinstance


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.operand, *node.items)
    return ()


def walk(node: Node) -> list[Node]:
    """All nodes of the tree, parents before children (iterative: deep trees are safe)."""
    found: list[Node] = []
    pending = [node]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(reversed(children(current)))
    return found
