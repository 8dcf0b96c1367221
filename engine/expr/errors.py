"""Errors of the expression language, each with its place inside the expression."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Guards against hostile or runaway expressions (each breach is a clear error, never a crash)."""

    max_length: int = 10_000
    max_depth: int = 64
    max_nodes: int = 5_000
    max_steps: int = 1_000_000


DEFAULT_LIMITS = Limits()


class ExprError(Exception):
    """A problem in an expression: a code, a message, the span ``[start, end)`` and a hint.

    ``start`` and ``end`` are 0-based character offsets inside the expression text; ``column``
    is the 1-based column a person (or the builder's underline) uses.
    """

    def __init__(self, code: str, message: str, start: int = 0, end: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.start = start
        self.end = start + 1 if end is None else end
        self.hint = hint

    @property
    def column(self) -> int:
        """1-based column of the start of the problem."""
        return self.start + 1

    def __str__(self) -> str:
        text = f"{self.message} (at column {self.column})"
        return f"{text}; {self.hint}" if self.hint else text
