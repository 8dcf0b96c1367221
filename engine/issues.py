"""One problem type for every layer: definitions, submissions and requests.

An :class:`Issue` says what is wrong and where (file, JSON pointer, line:col, field) and
how to fix it. The CLI, the API and the builder all render the same list.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Issue:
    """A single problem with its location and a hint."""

    code: str
    message: str
    file: str | None = None
    pointer: str | None = None
    line: int | None = None
    col: int | None = None
    hint: str | None = None
    field: str | None = None
    # For a problem inside an expression: [start, end) character offsets in the expression text,
    # so the builder can underline it (line:col above are then the file position of ``start``).
    span: tuple[int, int] | None = None

    def located(self, **changes: Any) -> Issue:
        """Return a copy with location attributes replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape used by the API (None values omitted)."""
        return {k: v for k, v in _issue_items(self) if v is not None}

    def render(self) -> str:
        """Render as ``file:line:col pointer code message (hint)`` for the CLI."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        text = f"{where} {self.pointer or self.field or '/'} {self.code} {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


def _issue_items(issue: Issue) -> list[tuple[str, Any]]:
    names = ("code", "message", "file", "pointer", "line", "col", "hint", "field", "span")
    return [(name, getattr(issue, name)) for name in names]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return a hint naming the closest candidate, if one is close enough."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def suggest(name: str, candidates: Iterable[str], *, noun: str, limit: int = 12) -> str:
    """Return a did-you-mean hint, or else list the candidates (``noun`` names them).

    Args:
        name: The unknown name.
        candidates: The names that exist.
        noun: What the candidates are, in the plural ("fields", "forms").
        limit: At most this many candidates are listed.

    Returns:
        A hint that is never empty.
    """
    names = sorted(set(candidates))
    close = did_you_mean(name, names)
    if close:
        return close
    if not names:
        return f"there are no {noun}"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"known {noun}: {', '.join(names[:limit])}{more}"


def join_pointer(*parts: str | int) -> str:
    """Join reference tokens into a JSON pointer (RFC 6901 escaping)."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "".join("/" + token for token in escaped)


@dataclass
class EngineError(Exception):
    """Base error of the engine: an HTTP-like status, a code, a message and issues."""

    message: str
    status: int = 400
    code: str = "error"
    issues: Sequence[Issue] = field(default_factory=tuple)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After on a 429

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the single error shape of the API."""
        return {
            "ok": False,
            "status": self.status,
            "error": self.message,
            "code": self.code,
            "issues": [issue.to_dict() for issue in self.issues],
        }


class NotFoundError(EngineError):
    """An unknown form, record or other object."""

    def __init__(self, message: str, *, code: str = "not_found") -> None:
        super().__init__(message, status=404, code=code)


class ForbiddenError(EngineError):
    """An action the user may not take on something they may see (403)."""

    def __init__(self, message: str, *, code: str = "forbidden", issues: Sequence[Issue] = ()) -> None:
        super().__init__(message, status=403, code=code, issues=tuple(issues))


class ValidationError(EngineError):
    """Input that does not satisfy a definition; carries one issue per problem."""

    def __init__(self, message: str, issues: Sequence[Issue], *, code: str = "invalid") -> None:
        super().__init__(message, status=422, code=code, issues=tuple(issues))


class ConflictError(EngineError):
    """A stale version, a unique violation or another state conflict."""

    def __init__(self, message: str, *, code: str = "conflict", issues: Sequence[Issue] = ()) -> None:
        super().__init__(message, status=409, code=code, issues=tuple(issues))


class DefinitionError(EngineError):
    """Definitions that failed to load; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        count = len(issues)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the definitions",
            status=422,
            code="invalid_definition",
            issues=tuple(issues),
        )
