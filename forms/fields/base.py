"""The field-type base class and its registry.

A field type is one class: its definition options (pydantic fields), the Python type that
validates a submitted value, its JSON Schema fragment, its storage columns, and the
operators and aggregates it supports. Types are found through :data:`FIELD_TYPES`, never
through ``if type == ...`` chains.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from engine.i18n import Label
from engine.issues import Issue
from engine.storage.spec import ColumnSpec, TableSpec

RESERVED_KEYS = frozenset(
    {"id", "version", "created_at", "created_by", "updated_at", "updated_by", "form_version", "parent_id", "position"}
)
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"
FieldKey = Annotated[str, Field(pattern=KEY_PATTERN)]
# Bounded here only against absurd documents; the parser's own limit gives the friendly error.
Expression = Annotated[str, Field(min_length=1, max_length=200_000)]
Storage = Literal["column", "children", "links"]

COMPARE_OPERATORS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "is_empty"})
TEXT_OPERATORS = frozenset({"eq", "ne", "in", "contains", "starts_with", "is_empty"})
CHOICE_OPERATORS = frozenset({"eq", "ne", "in", "is_empty"})
NUMERIC_AGGREGATES = frozenset({"count", "sum", "avg", "min", "max", "distinct_count"})
ORDERED_AGGREGATES = frozenset({"count", "min", "max", "distinct_count"})
COUNT_AGGREGATES = frozenset({"count", "distinct_count"})

ModelCompiler = Callable[[tuple["FieldBase", ...], str], Any]


def _not_bool(value: Any) -> Any:
    # Lax int validation would take JSON true/false as 1/0 (a quantity, or user 1).
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_bool)]


class FieldBase(BaseModel):
    """Options every field type has; subclasses add their own and their behaviour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operators: ClassVar[frozenset[str]] = CHOICE_OPERATORS
    aggregates: ClassVar[frozenset[str]] = COUNT_AGGREGATES
    storage: ClassVar[Storage] = "column"
    sortable: ClassVar[bool] = True
    system_filled: ClassVar[bool] = False
    # The value type in formulas (engine.expr.types): text, number, boolean, date, datetime, time,
    # user, department, record (follows a relation), rows (a sub-table), any.
    expr_type: ClassVar[str] = "any"

    key: FieldKey
    label: Label
    help: Label | None = None
    required: bool = False
    unique: bool = False
    default: JsonValue = None
    read_only: bool = False
    hidden: bool = False
    index: bool = False
    sensitive: bool = False
    renamed_from: FieldKey | None = None
    # Expressions (engine.expr), checked when the definitions load: ``formula`` makes the field
    # computed and stored; the ``*_if`` rules drive the form in the browser and on the server.
    formula: Expression | None = None
    visible_if: Expression | None = None
    required_if: Expression | None = None
    readonly_if: Expression | None = None

    @property
    def type_name(self) -> str:
        """The registered type name (the ``type`` discriminator)."""
        return str(getattr(self, "type"))  # noqa: B009 - declared by each subclass

    def value_type(self, compile_model: ModelCompiler) -> Any:
        """Return the annotation that validates one non-null submitted value."""
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of one non-null value."""
        raise NotImplementedError

    def column_kind(self) -> ColumnSpec:
        """Return the column that stores the value (for ``storage == "column"``)."""
        raise NotImplementedError

    def columns(self) -> tuple[ColumnSpec, ...]:
        """Return the columns this field adds to its form's table."""
        if self.storage != "column":
            return ()
        base = self.column_kind()
        return (
            ColumnSpec(
                name=self.key,
                kind=base.kind,
                length=base.length,
                precision=base.precision,
                scale=base.scale,
                unique=self.unique,
                index=self.index or base.index,
                references=base.references,
            ),
        )

    def side_table(self, owner: str) -> TableSpec | None:
        """Return the child or link table this field needs, if it stores outside its form's table."""
        return None

    def to_db(self, value: Any) -> Any:
        """Convert a validated value to what the column stores."""
        return value

    def to_json(self, value: Any) -> Any:
        """Convert a stored value to its JSON form."""
        return value

    def check_definition(self, pointer: str) -> list[Issue]:
        """Return problems in this field's own options (e.g. a default that is not valid)."""
        if self.default is None:
            return []
        if self.default_expression is not None:
            return []  # checked with the form's other expressions when the bundle loads
        return self.check_value(self.default, f"{pointer}/default", what="default")

    @property
    def default_expression(self) -> str | None:
        """The expression of a ``"=..."`` default (as in a spreadsheet cell), else None."""
        if isinstance(self.default, str) and self.default.startswith("="):
            return self.default[1:]
        return None

    def check_value(self, value: Any, pointer: str, *, what: str) -> list[Issue]:
        """Check ``value`` against this field's value type, as an issue list."""
        try:
            # JSON mode, strict: a definition's default must already have the JSON type ("yes" is no boolean).
            TypeAdapter(self.value_type(_no_children)).validate_json(json.dumps(value), strict=True)
        except PydanticValidationError as error:
            first = error.errors()[0]
            return [
                Issue(
                    f"invalid_{what}",
                    f"{what} {value!r} is not valid for field '{self.key}': {first['msg']}",
                    pointer=pointer,
                )
            ]
        return []


def _no_children(fields: tuple[FieldBase, ...], name: str) -> Any:
    return dict


F = TypeVar("F", bound=type[FieldBase])
FIELD_TYPES: dict[str, type[FieldBase]] = {}


def register(cls: F) -> F:
    """Register a field-type class under its ``type`` literal."""
    model: type[BaseModel] = cls
    annotation = model.model_fields["type"].annotation
    name = getattr(annotation, "__args__", (None,))[0]
    if not isinstance(name, str) or name in FIELD_TYPES:
        raise TypeError(f"field type {cls.__name__} needs a unique Literal 'type'")
    if not cls.__doc__:
        raise TypeError(f"field type {name} needs a docstring")
    FIELD_TYPES[name] = cls
    return cls


def is_simple_pattern(pattern: str) -> bool:
    """Return whether ``pattern`` compiles as a regular expression."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True
