"""The function registry: each function is declared once, with its signature, types, docs and code.

The checker reads the signature and types, the evaluator calls the implementation, and the later
backends read ``sql`` and ``js``. A test fails when a registered function has no docstring or no
test row.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from engine.expr.errors import ExprError
from engine.expr.nodes import Call
from engine.expr.types import Type

Shape = Literal["one", "many", "either"]

NUMERIC = frozenset({"number", "boolean"})
DATES = frozenset({"date", "datetime"})
TEXTUAL = frozenset({"text", "number", "boolean"})
LOGICAL = frozenset({"boolean", "number"})
SCALARS = frozenset({"number", "boolean", "text", "date", "datetime", "time", "user", "record"})


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter.

    Attributes:
        name: the name shown in signatures and messages (Excel's name where Excel has the function).
        types: the value types accepted (blank and unknown values always fit); empty means any.
        shape: ``one`` value, a ``many`` list (sub-table column, related records), or ``either``.
        optional: may be left out (only trailing fixed parameters).
        condition: evaluated once per row of the first argument, in the scope of that row.
        result: its type is (part of) the function's result type (``IF``'s branches).
        choices: the values a literal argument may take (``DATEDIF`` units), compared ignoring case.
        missing: the type of the value used when an optional ``result`` parameter is left out
            (``IF`` without ``value_if_false`` gives FALSE, as in Excel).
    """

    name: str
    types: frozenset[str] = frozenset()
    shape: Shape = "one"
    optional: bool = False
    condition: bool = False
    result: bool = False
    choices: tuple[str | int, ...] = ()
    missing: Type | None = None


@dataclass(frozen=True, slots=True)
class Function:
    """A registered function.

    Attributes:
        name: the upper-case name.
        doc: the Google-style docstring (with an Excel-compatibility note).
        params: the fixed leading parameters.
        repeat: a group of parameters that repeats (``IFS``: condition, value), at least
            ``min_repeat`` times.
        tail: an optional last parameter after the repeated groups (``SWITCH``'s default).
        returns: the result type; None means "the common type of the ``result`` parameters".
        implementation: the Python code. Eager: ``f(*values)`` (``f(context, *values)`` when
            ``needs_context``), not called when an argument is an error (the result is then an
            error, as in Excel). Lazy: ``f(frame, args)`` with unevaluated
            :class:`~engine.expr.runtime.Arg`, which sees errors and decides. Either gives
            ``values.ERROR`` for its own errors (or raises ``ValueError``/``ArithmeticError``).
        lazy: the function decides which arguments to run (short-circuit, per-row conditions).
        needs_context: the function reads the record's context (``TODAY()``, ``CURRENT_USER()``).
        sql: the SQL translation (filled in by the SQL backend, with ``dataclasses.replace``).
        js: the JavaScript translation (filled in by the browser backend).
    """

    name: str
    doc: str
    params: tuple[Param, ...]
    returns: Type | None
    implementation: Callable[..., Any] = field(repr=False)
    repeat: tuple[Param, ...] = ()
    min_repeat: int = 0
    tail: Param | None = None
    lazy: bool = False
    needs_context: bool = False
    sql: Any = None
    js: Any = None

    @property
    def min_args(self) -> int:
        """The fewest arguments a call may have."""
        return sum(not p.optional for p in self.params) + self.min_repeat * len(self.repeat)

    @property
    def max_args(self) -> int | None:
        """The most arguments a call may have (None: no limit)."""
        return None if self.repeat else len(self.params)

    def accepts_count(self, count: int) -> bool:
        """Whether a call with ``count`` arguments is well-formed."""
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            return False
        rest = count - len(self.params)
        if len(self.repeat) < 2 or rest < 0:
            return True
        return rest % len(self.repeat) == 0 or (self.tail is not None and rest % len(self.repeat) == 1)

    def param_at(self, index: int, count: int) -> Param:
        """The parameter the ``index``-th of ``count`` arguments fills."""
        if index < len(self.params):
            return self.params[index]
        rest = count - len(self.params)
        if self.tail is not None and index == count - 1 and rest % len(self.repeat) == 1:
            return self.tail
        return self.repeat[(index - len(self.params)) % len(self.repeat)]

    @property
    def signature(self) -> str:
        """``IF(logical_test, value_if_true, [value_if_false])``."""
        parts = [f"[{p.name}]" if p.optional else p.name for p in self.params]
        if self.repeat:
            group = ", ".join(p.name for p in self.repeat)
            parts.append(f"{group}, ..." if self.min_repeat else f"[{group}, ...]")
        if self.tail is not None:
            parts.append(f"[{self.tail.name}]")
        return f"{self.name}({', '.join(parts)})"


FUNCTIONS: dict[str, Function] = {}

F = TypeVar("F", bound=Callable[..., Any])


def register(
    name: str,
    *,
    params: Sequence[Param] = (),
    returns: Type | None,
    repeat: Sequence[Param] = (),
    min_repeat: int = 0,
    tail: Param | None = None,
    lazy: bool = False,
    needs_context: bool = False,
) -> Callable[[F], F]:
    """Register the decorated implementation as the function ``name``.

    Raises:
        ValueError: when ``name`` is already registered, or the signature is ambiguous.
    """
    if tail is not None and len(repeat) < 2:
        raise ValueError(f"{name}: a tail parameter needs a repeated group of at least two")
    if repeat and any(p.optional for p in params):
        raise ValueError(f"{name}: optional parameters cannot precede a repeated group")

    def decorate(implementation: F) -> F:
        key = name.upper()
        if key in FUNCTIONS:
            raise ValueError(f"the function {key} is registered twice")
        FUNCTIONS[key] = Function(
            name=key,
            doc=inspect.cleandoc(implementation.__doc__ or ""),
            params=tuple(params),
            returns=returns,
            implementation=implementation,
            repeat=tuple(repeat),
            min_repeat=min_repeat,
            tail=tail,
            lazy=lazy,
            needs_context=needs_context,
        )
        return implementation

    return decorate


def suggest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to ``word`` (ignoring case), if one is close enough to be a typo."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def unknown_function(call: Call, field_names: Sequence[str] = ()) -> ExprError:
    """The error for a call of a function that is not registered, with a did-you-mean hint."""
    hint = None
    if any(name.lower() == call.name.lower() for name in field_names):
        hint = f"'{call.name.lower()}' is a field, not a function: remove the parentheses"
    elif (match := suggest(call.name, list(FUNCTIONS))) is not None:
        hint = f"did you mean {match}()?"
    return ExprError(
        "unknown_function", f"unknown function {call.name}()", call.start, call.name_end or call.end, hint=hint
    )


def wrong_arity(function: Function, call: Call) -> ExprError:
    """The error for a call with the wrong number of arguments."""
    if function.max_args == function.min_args:
        wanted = f"{function.min_args} argument{'s' if function.min_args != 1 else ''}"
    elif function.max_args is None:
        wanted = f"at least {function.min_args} arguments"
        if len(function.repeat) > 1:
            wanted += " in groups of " + ", ".join(p.name for p in function.repeat)
    else:
        wanted = f"{function.min_args} to {function.max_args} arguments"
    return ExprError(
        "wrong_arity",
        f"{function.name} takes {wanted}; found {len(call.args)}",
        call.start,
        call.end,
        hint=f"write it as {function.signature}",
    )
