"""Field types that point at other rows: users, departments, records, child rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field

from engine.storage.spec import ColumnSpec, ForeignKey, OnDelete, TableSpec
from forms.fields.base import (
    CHOICE_OPERATORS,
    COUNT_AGGREGATES,
    FieldBase,
    FieldKey,
    ModelCompiler,
    WholeNumber,
    register,
)
from forms.fields.choice import _unique_items

RecordId = Annotated[WholeNumber, Field(ge=1, le=2**62)]
USERS_TABLE = "tessera_users"
DEPARTMENTS_TABLE = "tessera_departments"
FORM_REFERENCE_PREFIX = "@form:"

if TYPE_CHECKING:
    AnyField = FieldBase


def form_reference(form_key: str) -> str:
    """Return the logical table reference for a form (resolved to a table name later)."""
    return FORM_REFERENCE_PREFIX + form_key


class _SingleReference(FieldBase):
    operators = CHOICE_OPERATORS
    aggregates = COUNT_AGGREGATES

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return RecordId

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1}

    def referenced_table(self) -> str:
        raise NotImplementedError

    def on_delete_action(self) -> OnDelete:
        return "set_null" if not self.required else "restrict"

    def column_kind(self) -> ColumnSpec:
        fk = ForeignKey(self.referenced_table(), self.on_delete_action())
        return ColumnSpec(self.key, "bigint", index=True, references=fk)


class _MultiReference(FieldBase):
    storage = "links"
    operators = frozenset({"contains", "is_empty"})
    aggregates = frozenset({"count"})
    sortable = False
    max_items: Annotated[int, Field(ge=1)] | None = None

    def value_type(self, compile_model: ModelCompiler) -> Any:
        items = Annotated[list[RecordId], Field(max_length=self.max_items)]
        return Annotated[items, AfterValidator(_unique_items)]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True}

    def referenced_table(self) -> str:
        raise NotImplementedError

    def side_table(self, owner: str) -> TableSpec:
        target = ColumnSpec(
            "target_id", "bigint", nullable=False, index=True, references=ForeignKey(self.referenced_table(), "cascade")
        )
        return TableSpec(
            f"{owner}__{self.key}",
            (target,),
            parent=owner,
            system_columns=False,
            unique_together=(("parent_id", "target_id"),),
            owner_field=self.key,
        )


@register
class UserField(_SingleReference):
    """One user of the instance."""

    type: Literal["user"]
    expr_type = "user"

    def referenced_table(self) -> str:
        return USERS_TABLE


@register
class MultiUserField(_MultiReference):
    """Several users of the instance."""

    type: Literal["multi_user"]
    expr_type = "user"

    def referenced_table(self) -> str:
        return USERS_TABLE


@register
class DepartmentField(_SingleReference):
    """One department of the instance's organisation tree."""

    type: Literal["department"]
    expr_type = "department"

    def referenced_table(self) -> str:
        return DEPARTMENTS_TABLE


@register
class RelationField(_SingleReference):
    """A many-to-one link to a record of another (or the same) form."""

    type: Literal["relation"]
    expr_type = "record"
    target: FieldKey
    on_delete: OnDelete = "restrict"
    related_name: FieldKey | None = None

    def referenced_table(self) -> str:
        return form_reference(self.target)

    def on_delete_action(self) -> OnDelete:
        return self.on_delete


@register
class MultiRelationField(_MultiReference):
    """A many-to-many link to records of another form (stored in a link table)."""

    type: Literal["multi_relation"]
    expr_type = "record"
    target: FieldKey
    related_name: FieldKey | None = None

    def referenced_table(self) -> str:
        return form_reference(self.target)


@register
class SubtableField(FieldBase):
    """Child rows with their own fields (one-to-many), edited with their parent record."""

    type: Literal["subtable"]
    expr_type = "rows"
    storage = "children"
    operators = frozenset({"is_empty"})
    aggregates = frozenset({"count"})
    sortable = False
    fields: Annotated[list[AnyField], Field(min_length=1)]
    min_rows: Annotated[int, Field(ge=0)] | None = None
    max_rows: Annotated[int, Field(ge=1, le=10_000)] | None = None

    @property
    def child_fields(self) -> tuple[FieldBase, ...]:
        return tuple(self.fields)

    def value_type(self, compile_model: ModelCompiler) -> Any:
        row_model = compile_model(self.child_fields, self.key)
        return Annotated[list[row_model], Field(min_length=self.min_rows, max_length=self.max_rows)]  # type: ignore[valid-type]

    def json_schema(self) -> dict[str, Any]:
        properties = {f.key: f.json_schema() for f in self.child_fields}
        required = [f.key for f in self.child_fields if f.required]
        row = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
        return {"type": "array", "items": row}

    def side_table(self, owner: str) -> TableSpec:
        columns = tuple(column for f in self.child_fields for column in f.columns())
        return TableSpec(f"{owner}__{self.key}", columns, parent=owner, system_columns=False, owner_field=self.key)
