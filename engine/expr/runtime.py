"""What compiled expressions run with: a frame (the row being read, the record, a step budget).

Lazy functions (``IF``, ``AND``, ``SUMIF``...) receive their arguments compiled but not yet run,
as :class:`Arg` objects, and run them in the frame they choose (a row's frame for a condition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.expr.errors import ExprError
from engine.expr.scope import Context


class Budget:
    """Counts evaluation steps and stops a runaway expression with a clear error.

    ``spent`` starts the count: the steps a run is sure to spend, which the caller has checked
    are within ``limit`` (one object set up instead of a set-up and a charge, per run).
    """

    __slots__ = ("limit", "steps")

    def __init__(self, limit: int, spent: int = 0) -> None:
        self.limit = limit
        self.steps = spent

    def charge(self, steps: int) -> None:
        """Spend ``steps`` (list items read by an aggregate count as steps too)."""
        self.steps += steps
        if self.steps > self.limit:
            raise self.exhausted()

    def exhausted(self) -> ExprError:
        """The error for a run that went over the limit (for hot paths that add to ``steps`` inline)."""
        return ExprError(
            "too_many_steps",
            f"the expression needed more than {self.limit} evaluation steps",
            0,
            hint="simplify it, or aggregate fewer rows",
        )


class Frame:
    """One evaluation: ``context`` is the row being read, ``record`` the record (for ``THIS``)."""

    __slots__ = ("budget", "context", "record")

    def __init__(self, context: Context, record: Context, budget: Budget) -> None:
        self.context = context
        self.record = record
        self.budget = budget

    def at(self, row: Context) -> Frame:
        """The frame for one related row (same record, same budget)."""
        return Frame(row, self.record, self.budget)


Compiled = Callable[[Frame], Any]


@dataclass(frozen=True, slots=True)
class Arg:
    """An argument of a lazy function: its compiled code, and its path when it is a field path."""

    run: Compiled
    path: tuple[str, ...] | None = None
    this: bool = False

    def rows(self, frame: Frame) -> list[Context]:
        """The row contexts the path leads to (empty when the argument is not a path).

        A bare ``THIS`` (the empty path) is one record, not rows: it leads to none, so an
        aggregate given it (``SUMIF(THIS, ...)``, which the checker refuses) has no rows.
        """
        if not self.path:
            return []
        return (frame.record if self.this else frame.context).rows(self.path)
