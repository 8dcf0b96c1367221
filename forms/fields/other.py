"""Auto-number, attachment and JSON field types."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, JsonValue, field_validator
from typing_extensions import TypedDict

from engine.storage.spec import ColumnSpec
from forms.fields.base import COUNT_AGGREGATES, TEXT_OPERATORS, FieldBase, ModelCompiler, register

AUTONUMBER_TOKEN = re.compile(r"\{(yyyy|yy|MM|dd|0+)\}")


@register
class AutonumberField(FieldBase):
    """A number the engine assigns on create, gap-free per form, e.g. ``KA-{yyyy}-{0000}``.

    Date tokens ``{yyyy} {yy} {MM} {dd}`` are taken from the creation date; the counter
    ``{000..}`` restarts whenever the date part of the pattern changes.
    """

    type: Literal["autonumber"]
    expr_type = "text"
    operators = TEXT_OPERATORS
    aggregates = COUNT_AGGREGATES
    system_filled = True
    pattern: Annotated[str, Field(min_length=1, max_length=60)] = "{000000}"

    @field_validator("pattern")
    @classmethod
    def _one_counter(cls, value: str) -> str:
        counters = [t for t in AUTONUMBER_TOKEN.findall(value) if t.startswith("0")]
        if len(counters) != 1:
            raise ValueError("the pattern needs exactly one counter such as {0000}")
        return value

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return str

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "readOnly": True}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "string", length=80, index=True)

    def columns(self) -> tuple[ColumnSpec, ...]:
        return (ColumnSpec(self.key, "string", length=80, unique=True),)


class AttachmentRef(TypedDict):
    """A reference to an uploaded file in a submission (the upload answer's ``id``; other keys ignored)."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]

    id: Annotated[str, Field(min_length=1, max_length=64)]


@register
class AttachmentField(FieldBase):
    """Files uploaded first (``POST .../files``) and then referenced by id; size and type limits."""

    type: Literal["attachment"]
    expr_type = "any"
    operators = frozenset({"is_empty"})
    aggregates = frozenset({"count"})
    sortable = False
    max_size: Annotated[int, Field(ge=1, le=512 * 1024 * 1024)] = 20 * 1024 * 1024
    accept: list[Annotated[str, Field(pattern=r"^\.[A-Za-z0-9]{1,10}$")]] | None = None
    max_files: Annotated[int, Field(ge=1, le=100)] = 10

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return Annotated[list[AttachmentRef], Field(max_length=self.max_files)]

    def json_schema(self) -> dict[str, Any]:
        ref = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
        return {"type": "array", "items": ref, "maxItems": self.max_files}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "json")

    def accepts(self, filename: str) -> bool:
        """Return whether a file name has one of the accepted extensions."""
        if not self.accept:
            return True
        lowered = filename.lower()
        return any(lowered.endswith(ext.lower()) for ext in self.accept)


@register
class JsonField(FieldBase):
    """Any JSON value (settings tables, imported structures)."""

    type: Literal["json"]
    expr_type = "any"
    operators = frozenset({"is_empty"})
    aggregates = frozenset({"count"})
    sortable = False

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return JsonValue

    def json_schema(self) -> dict[str, Any]:
        return {}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "json")
