"""JSON shapes the API publishes about forms."""

from __future__ import annotations

from typing import Any

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
