"""The ``form`` kind: fields, layout, list view and constraints of one form.

The document-level checks (duplicate and reserved keys, field options such as defaults,
sub-table rules, references to fields from the layout and list view) run on a small
description of the fields (:class:`_FieldEntry`) that is made either from a validated
model or from the raw JSON of a document that failed validation. So a form with one bad
option still gets every other problem reported.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from engine.definitions.base import KEY_PATTERN, Definition, DefinitionKey, register_kind
from engine.definitions.document import to_json_text
from engine.i18n import Label
from engine.issues import Issue, suggest
from forms.fields import FIELD_TYPES, RESERVED_KEYS, FieldBase
from forms.fields.base import Expression
from forms.fields.references import MultiRelationField, RelationField, SubtableField

if TYPE_CHECKING:
    from engine.definitions.bundle import AppBundle

    AnyField = FieldBase
else:
    AnyField = Annotated[Union[tuple(FIELD_TYPES.values())], Field(discriminator="type")]  # noqa: UP007
    SubtableField.model_rebuild(_types_namespace={"AnyField": AnyField})

_KEY = re.compile(KEY_PATTERN)
_NOT_IN_SUBTABLE = frozenset({"autonumber", "attachment"})


class LayoutSection(BaseModel):
    """A titled group of fields shown in ``columns`` columns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    section: Label
    columns: Annotated[int, Field(ge=1, le=4)] = 2
    fields: list[DefinitionKey]


class SortKey(BaseModel):
    """One sort key of a list view."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: DefinitionKey
    desc: bool = False


class ListView(BaseModel):
    """The default list view: columns and sort (sorted fields get an index)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: list[DefinitionKey] = Field(default_factory=list)
    sort: list[SortKey] = Field(default_factory=list)


class FormRule(BaseModel):
    """A validation rule: ``assert`` must hold, else ``message`` is shown at ``field`` (or on the form)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    condition: Expression = Field(alias="assert")
    field: DefinitionKey | None = None
    message: Label


@register_kind
class FormDefinition(Definition):
    """A form: its fields become typed columns of one table."""

    kind: Literal["form"]
    title_field: DefinitionKey | None = None
    singleton: bool = False
    fields: Annotated[list[AnyField], Field(min_length=1)]
    unique_together: list[Annotated[list[DefinitionKey], Field(min_length=2)]] = Field(default_factory=list)
    indexes: list[Annotated[list[DefinitionKey], Field(min_length=1)]] = Field(default_factory=list)
    layout: list[LayoutSection] = Field(default_factory=list)
    list_view: ListView = Field(default_factory=ListView, alias="list")
    rules: list[FormRule] = Field(default_factory=list)

    @cached_property
    def field_map(self) -> dict[str, FieldBase]:
        """Fields by key."""
        return {f.key: f for f in self.fields}

    def field(self, key: str) -> FieldBase | None:
        """Return the field called ``key``, if any."""
        return self.field_map.get(key)

    @property
    def title_key(self) -> str:
        """The field used as a record's title (the first text field if not declared)."""
        if self.title_field:
            return self.title_field
        texts = [f.key for f in self.fields if f.type_name in ("text", "autonumber")]
        return texts[0] if texts else "id"

    def local_issues(self) -> list[Issue]:
        """Return duplicate/reserved keys, bad field options and unknown field references."""
        shape = self.model_dump(by_alias=True, exclude={"fields"})
        return _document_issues(_entries(self.fields), shape)

    @classmethod
    def partial_issues(cls, raw: dict[str, Any]) -> list[Issue]:
        """Return the :meth:`local_issues` of a form that failed validation.

        Each field is validated on its own; the checks run on the fields that validate, and
        the key-level checks (duplicate, reserved, references) on the raw keys of all fields.
        """
        return _document_issues(_raw_entries(raw.get("fields")), raw)

    def bundle_issues(self, bundle: AppBundle) -> list[Issue]:
        """Return relations to forms that the bundle does not define, and problems in expressions."""
        issues = self._relation_issues(bundle)
        if issues:
            return issues  # expressions are checked once every relation resolves
        from forms.formulas import check_expressions, cycle_issues  # formulas builds on this module

        forms = {d.key: d for d in bundle.of_kind("form") if isinstance(d, FormDefinition)}
        return check_expressions(self, forms) + cycle_issues(self, forms)

    def _relation_issues(self, bundle: AppBundle) -> list[Issue]:
        forms = bundle.keys("form")
        issues: list[Issue] = []
        for index, field in enumerate(self.fields):
            if isinstance(field, RelationField | MultiRelationField) and field.target not in forms:
                issues.append(
                    Issue(
                        "unknown_target",
                        f"field '{field.key}' relates to unknown form '{field.target}'",
                        pointer=f"/fields/{index}/target",
                        hint=suggest(field.target, forms, noun="forms"),
                    )
                )
        return issues


@dataclass(frozen=True)
class _FieldEntry:
    """What the document checks need to know about one field, from a model or from raw JSON."""

    index: int
    key: str | None
    type_name: str | None
    unique: bool
    model: FieldBase | None
    children: tuple[_FieldEntry, ...] = ()

    @property
    def field_type(self) -> type[FieldBase] | None:
        return FIELD_TYPES.get(self.type_name or "")


def _entries(fields: Sequence[FieldBase]) -> tuple[_FieldEntry, ...]:
    return tuple(_entry(index, field) for index, field in enumerate(fields))


def _entry(index: int, field: FieldBase) -> _FieldEntry:
    children = _entries(field.child_fields) if isinstance(field, SubtableField) else ()
    return _FieldEntry(index, field.key, field.type_name, field.unique, field, children)


@cache
def _field_adapter() -> TypeAdapter[AnyField]:
    return TypeAdapter(AnyField)


def _raw_entries(raw: Any) -> tuple[_FieldEntry, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(_raw_entry(index, item) for index, item in enumerate(raw))


def _raw_entry(index: int, raw: Any) -> _FieldEntry:
    """Describe one field of a document that failed validation (its errors are reported already)."""
    try:
        return _entry(index, _field_adapter().validate_json(to_json_text(raw), strict=True))
    except Exception:  # noqa: S110 - its errors are reported by the whole-document validation
        pass
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    key, type_name = data.get("key"), data.get("type")
    children = _raw_entries(data.get("fields")) if type_name == "subtable" else ()
    return _FieldEntry(
        index,
        key if isinstance(key, str) else None,
        type_name if isinstance(type_name, str) else None,
        data.get("unique") is True,
        None,
        children,
    )


def _document_issues(entries: tuple[_FieldEntry, ...], shape: dict[str, Any]) -> list[Issue]:
    """Run every document-level check; ``shape`` is the form as JSON (aliases, no fields)."""
    issues = _field_list_issues(entries, "/fields", nested=False)
    sortable = {e.key: e.field_type.sortable if e.field_type else True for e in entries if e.key}
    issues += _reference_issues(shape, sortable)
    return issues


def _field_list_issues(entries: tuple[_FieldEntry, ...], pointer: str, *, nested: bool) -> list[Issue]:
    issues: list[Issue] = []
    counts = Counter(entry.key for entry in entries if entry.key is not None)
    for entry in entries:
        at = f"{pointer}/{entry.index}"
        if entry.key is not None and counts[entry.key] > 1:
            issues.append(
                Issue("duplicate_field", f"field key '{entry.key}' is used more than once", pointer=f"{at}/key")
            )
        if entry.key in RESERVED_KEYS:
            issues.append(
                Issue(
                    "reserved_key",
                    f"'{entry.key}' is reserved for a system column",
                    pointer=f"{at}/key",
                    hint=f"rename it, e.g. '{entry.key}_value'",
                )
            )
        if entry.model is not None:
            issues += entry.model.check_definition(at)
        if entry.type_name == "subtable":
            issues += _subtable_issues(entry, at, nested=nested)
    return issues


def _subtable_issues(entry: _FieldEntry, at: str, *, nested: bool) -> list[Issue]:
    if nested:
        return [
            Issue(
                "nested_subtable",
                "a sub-table inside a sub-table is not supported (depth 1)",
                pointer=f"{at}/type",
                hint="use a separate form with a relation to the parent instead",
            )
        ]
    issues = _field_list_issues(entry.children, f"{at}/fields", nested=True)
    for child in entry.children:
        kind = child.field_type
        if kind is not None and (kind.storage == "links" or child.type_name in _NOT_IN_SUBTABLE):
            issues.append(
                Issue(
                    "unsupported_in_subtable",
                    f"a '{child.type_name}' field cannot be in a sub-table",
                    pointer=f"{at}/fields/{child.index}/type",
                )
            )
        if child.unique:
            issues.append(
                Issue(
                    "unsupported_in_subtable",
                    "unique is not supported inside a sub-table",
                    pointer=f"{at}/fields/{child.index}/unique",
                )
            )
    return issues


def _reference_issues(shape: dict[str, Any], sortable: dict[str, bool]) -> list[Issue]:
    """Check that the title field, layout, list view and index keys name fields of the form."""
    issues: list[Issue] = []
    for name, pointer, needs_sort in _references(shape):
        if name not in sortable:
            hint = suggest(name, sortable, noun="fields of this form")
            issues.append(Issue("unknown_field", f"unknown field '{name}'", pointer=pointer, hint=hint))
        elif needs_sort and not sortable[name]:
            issues.append(Issue("not_sortable", f"field '{name}' cannot be sorted", pointer=pointer))
    return issues


def _references(shape: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """Yield ``(field key, pointer, needs sorting)`` for each place that names a field.

    Works on raw JSON too: places of the wrong shape and names that are not keys are skipped
    (validation reports them).
    """
    yield from _names([shape.get("title_field")], "/title_field", single=True)
    for s, section in _items(shape.get("layout")):
        yield from _names(_get(section, "fields"), f"/layout/{s}/fields")
    view = shape.get("list")
    yield from _names(_get(view, "columns"), "/list/columns")
    for i, sort in _items(_get(view, "sort")):
        yield from _names([_get(sort, "field")], f"/list/sort/{i}/field", single=True, needs_sort=True)
    for group_name in ("unique_together", "indexes"):
        for g, group in _items(shape.get(group_name)):
            yield from _names(group, f"/{group_name}/{g}", needs_sort=True)


def _names(
    values: Any, pointer: str, *, single: bool = False, needs_sort: bool = False
) -> Iterator[tuple[str, str, bool]]:
    for i, name in _items(values):
        if isinstance(name, str) and _KEY.fullmatch(name):
            yield name, pointer if single else f"{pointer}/{i}", needs_sort


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _get(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


import forms.roles  # noqa: E402, F401 - the role kind: loading forms always knows roles too
