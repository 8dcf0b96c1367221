"""JSON shapes the API publishes about forms."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from engine.i18n import Locale, localize
from forms.catalog import FormRuntime
from forms.rows import SYSTEM_FIELDS


def form_summary(runtime: FormRuntime, lang: Locale) -> dict[str, Any]:
    """Key, label, app and version of a form."""
    definition = runtime.definition
    return {
        "key": definition.key,
        "label": localize(definition.label, lang),
        "app": runtime.app_key,
        "version": runtime.version,
        "title_field": definition.title_key,
    }


def record_schema(runtime: FormRuntime) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) a submission for this form satisfies."""
    definition = runtime.definition
    properties: dict[str, Any] = {}
    for field in definition.fields:
        if field.read_only or field.system_filled:
            continue
        one = field.json_schema()
        properties[field.key] = one if field.required else {"anyOf": [one, {"type": "null"}]}
        properties[field.key]["title"] = localize(field.label, "zh")
    required = [
        f.key for f in definition.fields if f.required and f.default is None and not f.read_only and not f.system_filled
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": definition.key,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "$comment": f"system fields {', '.join(SYSTEM_FIELDS)} are set by the server",
    }


class IssueOut(BaseModel):
    """One problem, with where it is and how to fix it."""

    code: str
    message: str
    field: str | None = None
    pointer: str | None = None
    file: str | None = None
    line: int | None = None
    col: int | None = None
    hint: str | None = None
    span: tuple[int, int] | None = None


class ErrorOut(BaseModel):
    """The one error shape of every failing request."""

    ok: Literal[False] = False
    status: int
    error: str
    code: str
    issues: list[IssueOut] = []


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not signed in, or a bad, expired or revoked token"},
    403: {"model": ErrorOut, "description": "not allowed (the role grants no such action), or a missing CSRF token"},
    404: {"model": ErrorOut, "description": "unknown form, record or file - or one you may not see"},
    409: {"model": ErrorOut, "description": "stale version, unique value taken, or still referenced"},
    413: {"model": ErrorOut, "description": "request body or file too large"},
    422: {"model": ErrorOut, "description": "invalid input: every problem listed in issues"},
}
