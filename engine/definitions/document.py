"""Loading one definition document: JSON text -> model, or a list of located issues."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from engine.definitions.base import KEY_PATTERN, KINDS, Definition
from engine.definitions.errors import issue_from_error, issues_from_errors
from engine.issues import Issue, did_you_mean
from engine.jsonpos import ParsedJson, parse_json

__all__ = [
    "DocumentResult",
    "issue_from_error",
    "load_document",
    "locate",
    "read_document",
    "validate_document",
]

_KEY = re.compile(KEY_PATTERN)


@dataclass
class DocumentResult:
    """One document after parsing, validation and its own checks.

    Attributes:
        model: The validated model, also when :meth:`Definition.local_issues` found problems
            (a bundle still needs it to check the references of other documents).
        parsed: The parsed JSON with positions.
        issues: Every problem, located and sorted by position.
        identity: ``(kind, key)`` the document declares, when both are valid, even if the
            document does not validate; None otherwise.
    """

    model: Definition | None
    parsed: ParsedJson
    issues: list[Issue]
    identity: tuple[str, str] | None

    @property
    def definition(self) -> Definition | None:
        """The model, only when the document has no problem at all."""
        return None if self.issues else self.model


def read_document(text: str, *, file: str | None = None) -> DocumentResult:
    """Parse, validate and check one document, collecting every problem.

    Args:
        text: The JSON text of the document.
        file: The file name put on every issue.

    Returns:
        The result; its issues carry file, pointer and line:col.
    """
    parsed = parse_json(text, file=file)
    if parsed.value is None and parsed.issues:
        return DocumentResult(None, parsed, parsed.issues, None)
    model, issues = validate_document(parsed.value)
    if model is not None:
        issues = _unique(issues + model.local_issues())
    located = [locate(issue, parsed, file) for issue in issues]
    ordered = sorted(parsed.issues + located, key=_position)
    return DocumentResult(model, parsed, ordered, _identity(model, parsed.value))


def load_document(text: str, *, file: str | None = None) -> tuple[Definition | None, ParsedJson, list[Issue]]:
    """Parse and validate one document; every issue carries file, pointer and line:col.

    Args:
        text: The JSON text of the document.
        file: The file name put on every issue.

    Returns:
        The definition (None when there is any issue), the parsed JSON and the issues.
    """
    result = read_document(text, file=file)
    return result.definition, result.parsed, result.issues


def locate(issue: Issue, parsed: ParsedJson, file: str | None) -> Issue:
    """Fill in file and line:col of ``issue`` from its pointer."""
    position = parsed.position(issue.pointer or "")
    line, col = position if position else (None, None)
    if col is not None and issue.span is not None and issue.pointer in parsed.positions:
        col += 1 + issue.span[0]  # past the opening quote, to the offset inside the expression string
    return issue.located(file=issue.file or file, line=issue.line or line, col=issue.col or col)


def validate_document(value: Any) -> tuple[Definition | None, list[Issue]]:
    """Validate a parsed JSON value against the model of its ``kind``.

    Validation has JSON semantics, as the published JSON Schema has: strict types (no
    ``"80"`` for a number, no ``"yes"`` for a boolean), dates as ISO strings. When the model
    does not validate, the kind's :meth:`Definition.partial_issues` add the
    document-level problems that the validation error hid.

    Args:
        value: The parsed JSON document.

    Returns:
        The model (None when it does not validate) and the issues with pointers.
    """
    if not isinstance(value, dict):
        return None, [Issue("not_an_object", "a definition must be a JSON object", pointer="")]
    kind = value.get("kind")
    if not isinstance(kind, str):
        return None, [
            Issue(
                "missing_kind",
                "the document has no 'kind'",
                pointer="/kind",
                hint=f"one of: {', '.join(sorted(KINDS))}",
            )
        ]
    model = KINDS.get(kind)
    if model is None:
        return None, [
            Issue(
                "unknown_kind",
                f"unknown kind '{kind}'",
                pointer="/kind",
                hint=did_you_mean(kind, KINDS) or f"one of: {', '.join(sorted(KINDS))}",
            )
        ]
    try:
        return model.model_validate_json(to_json_text(value), strict=True), []
    except PydanticValidationError as error:
        issues = issues_from_errors(error.errors(), model, value)
    except Exception as error:  # a validator bug must not turn bad input into a crash
        issues = [_crash_issue(error)]
    return None, _unique(issues + model.partial_issues(value))


def _crash_issue(error: Exception) -> Issue:
    return Issue(
        "validator_error",
        f"the document could not be validated: {type(error).__name__}: {error}",
        pointer="",
        hint="this is a bug in Tessera; please report it with this document",
    )


def to_json_text(value: Any) -> str:
    """Serialise a parsed JSON value again, for strict validation in pydantic's JSON mode."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _unique(issues: list[Issue]) -> list[Issue]:
    """Drop issues that repeat an earlier one's pointer and code."""
    seen: set[tuple[str | None, str]] = set()
    unique: list[Issue] = []
    for issue in issues:
        if (issue.pointer, issue.code) not in seen:
            seen.add((issue.pointer, issue.code))
            unique.append(issue)
    return unique


def _position(issue: Issue) -> tuple[int, int]:
    return issue.line or 0, issue.col or 0


def _identity(model: Definition | None, value: Any) -> tuple[str, str] | None:
    if model is not None:
        return model.kind_name, model.key
    kind, key = (value.get("kind"), value.get("key")) if isinstance(value, dict) else (None, None)
    if isinstance(kind, str) and kind in KINDS and isinstance(key, str) and _KEY.fullmatch(key):
        return kind, key
    return None
