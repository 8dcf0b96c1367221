"""Single and multiple choice field types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from engine.i18n import Label
from engine.storage.spec import ColumnSpec
from forms.fields.base import CHOICE_OPERATORS, COUNT_AGGREGATES, FieldBase, ModelCompiler, register


class Option(BaseModel):
    """One choice: a stable value, its label and an optional colour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Annotated[str, Field(min_length=1, max_length=100)]
    label: Label
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None


def _unique_options(options: list[Option]) -> list[Option]:
    seen: set[str] = set()
    for option in options:
        if option.value in seen:
            raise ValueError(f"option value '{option.value}' appears twice")
        seen.add(option.value)
    return options


def _unique_items(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("items must not repeat")
    return values


class _Choice(FieldBase):
    options: Annotated[list[Option], Field(min_length=1)]

    @field_validator("options")
    @classmethod
    def _options_unique(cls, options: list[Option]) -> list[Option]:
        return _unique_options(options)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    def option(self, value: str) -> Option | None:
        """Return the option with ``value``, if any."""
        return next((o for o in self.options if o.value == value), None)

    def _one_value(self) -> Any:
        return Literal[self.values]


@register
class SelectField(_Choice):
    """One value out of a list of options."""

    type: Literal["select"]
    expr_type = "text"
    operators = CHOICE_OPERATORS
    aggregates = COUNT_AGGREGATES

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return self._one_value()

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "string", length=max(len(v) for v in self.values) + 20, index=True)


@register
class MultiSelectField(_Choice):
    """Several values out of a list of options (stored as a JSON array)."""

    type: Literal["multi_select"]
    expr_type = "text"
    operators = frozenset({"contains", "is_empty"})
    aggregates = frozenset({"count"})
    sortable = False
    min_items: Annotated[int, Field(ge=0)] | None = None
    max_items: Annotated[int, Field(ge=1)] | None = None

    def value_type(self, compile_model: ModelCompiler) -> Any:
        item_list: Any = list.__class_getitem__(self._one_value())
        items = Annotated[item_list, Field(min_length=self.min_items, max_length=self.max_items)]
        return Annotated[items, AfterValidator(_unique_items)]

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": {"enum": list(self.values)}, "uniqueItems": True}
        if self.min_items is not None:
            schema["minItems"] = self.min_items
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "json")
