"""The published JSON Schema of definition documents, exported from the kind models.

Editors autocomplete a definition file that names its schema (``"$schema": ...``), and
tests check documents with :mod:`jsonschema`. The schema is generated from the same
pydantic models the loader validates with, using the JSON names (aliases such as
``$schema`` and ``list``). It covers the shape of a document; the checks that need the
whole document or the whole app (duplicate keys, unknown field references, relation
targets) are the loader's.

Kinds register on import: importing this module registers ``app`` only. The host imports
the packages that define the other kinds (``forms.definition`` for ``form``) first.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from engine.definitions import app as _app  # noqa: F401 - registers the "app" kind
from engine.definitions.base import KINDS
from engine.issues import EngineError, Issue, did_you_mean

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def export_schema(kind: str | None = None) -> dict[str, Any]:
    """Return the JSON Schema (Draft 2020-12) of one kind, or of any registered kind.

    Args:
        kind: A registered kind such as ``"form"``; None for a schema whose ``oneOf``
            (discriminated on ``kind``) accepts a document of any registered kind.

    Returns:
        The schema, with ``$schema`` and ``title`` set and the JSON property names.

    Raises:
        EngineError: ``kind`` is not registered (status 404, code ``unknown_kind``, with a
            did-you-mean hint).
    """
    if kind is None:
        return _with_header(_any_kind_schema(), "Tessera definition")
    model = KINDS.get(kind)
    if model is None:
        raise _unknown_kind(kind)
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return _with_header(schema, f"Tessera {kind} definition")


def _any_kind_schema() -> dict[str, Any]:
    models = tuple(KINDS[name] for name in sorted(KINDS))
    if len(models) == 1:
        return models[0].model_json_schema(by_alias=True, mode="validation")
    union = Annotated[Union[models], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(union).json_schema(by_alias=True, mode="validation")


def _with_header(schema: dict[str, Any], title: str) -> dict[str, Any]:
    body = {name: value for name, value in schema.items() if name not in ("$schema", "title")}
    return {"$schema": JSON_SCHEMA_DIALECT, "title": title, **body}


def _unknown_kind(kind: str) -> EngineError:
    known = sorted(KINDS)
    hint = did_you_mean(kind, known) or f"one of: {', '.join(known)}"
    issue = Issue("unknown_kind", f"unknown kind '{kind}'", hint=hint)
    return EngineError(f"unknown kind '{kind}' ({hint})", status=404, code="unknown_kind", issues=(issue,))
