"""The record editor page: which input each field gets, and the spec its browser runtime reads.

:func:`editor_page` loads what one create or edit page shows (the record, titles of related
records, users, singleton settings) and returns an :class:`EditorPage`: the field views the
template renders (every value autoescaped by Jinja) and the JSON spec embedded in the page
for ``web/static/runtime/record_form.js`` (field types, options, and the live expression ASTs
of :mod:`web.browser_rules`). The server stays the authority: the page submits to the REST API.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.i18n import Locale, localize
from engine.storage.directory import list_users
from forms.catalog import FormRuntime
from forms.definition import FormDefinition
from forms.fields import FieldBase
from forms.fields.choice import MultiSelectField, SelectField
from forms.fields.references import MultiRelationField, RelationField, SubtableField
from forms.listing import ListQuery
from forms.records import Actor
from forms.validation import accepted_fields
from web.browser_rules import RULE_OPTIONS, LivePlan, live_plan

if TYPE_CHECKING:
    from web.app import Services

# The input each field type gets (a test checks that every registered type has one).
WIDGETS: dict[str, str] = {
    "text": "text",
    "email": "email",
    "phone": "tel",
    "url": "url",
    "textarea": "textarea",
    "rich_text": "textarea",
    "number": "number",
    "currency": "number",
    "percent": "percent",
    "rating": "number",
    "boolean": "checkbox",
    "select": "select",
    "multi_select": "multi_select",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "user": "user",
    "multi_user": "multi_user",
    "department": "id",
    "relation": "relation",
    "multi_relation": "multi_relation",
    "subtable": "subtable",
    "json": "json",
    "attachment": "display",
    "autonumber": "display",
}
# Inputs a sub-table cell can have (other columns make the sub-table read-only on the page).
CELL_WIDGETS = frozenset(
    {"text", "email", "tel", "url", "number", "percent", "date", "datetime", "time", "select", "checkbox", "user", "id"}
)
CELL_OF = {"textarea": "text", "relation": "id"}
NUMBER_KINDS = frozenset({"number", "currency", "percent"})


@dataclass
class FieldView:
    """One field as the template renders it."""

    field: FieldBase
    label: str
    help: str
    widget: str
    editable: bool
    required: bool
    value: Any = None
    text: str = ""  # a related record's title, or a read-only value as shown
    options: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    formula_live: bool = False  # a formula the browser computes (else the server does, on save)
    server_rules: list[str] = dataclasses.field(default_factory=list)  # rule options only the server checks
    columns: list[FieldView] = dataclasses.field(default_factory=list)  # a sub-table's columns
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # a sub-table's rows

    @property
    def key(self) -> str:
        """The field key."""
        return self.field.key

    @property
    def computed(self) -> bool:
        """Whether the field is a formula."""
        return self.field.formula is not None


@dataclass
class EditorPage:
    """What the create or edit template renders."""

    runtime: FormRuntime
    record: dict[str, Any] | None
    sections: list[tuple[str, list[FieldView]]]
    spec: dict[str, Any]
    users: list[tuple[int, str]]


def widget_of(one: FieldBase) -> str:
    """The input of a field type."""
    return WIDGETS[one.type_name]


def _options(one: FieldBase, locale: Locale) -> list[tuple[str, str]]:
    if isinstance(one, SelectField | MultiSelectField):
        return [(o.value, localize(o.label, locale)) for o in one.options]
    return []


def _cell_widget(one: FieldBase) -> str | None:
    widget = CELL_OF.get(one.type_name, widget_of(one))
    return widget if widget in CELL_WIDGETS else None


def _view(
    one: FieldBase, editable: set[str], record: dict[str, Any], titles: dict[str, Any], locale: Locale
) -> FieldView:
    value = record.get(one.key)
    view = FieldView(
        field=one,
        label=localize(one.label, locale),
        help=localize(one.help, locale),
        widget=widget_of(one),
        editable=one.key in editable and widget_of(one) != "display",
        required=one.required and one.key in editable and widget_of(one) != "display",
        value=value,
        options=_options(one, locale),
    )
    expanded = titles.get(one.key)
    if isinstance(expanded, dict):
        view.text = str(expanded.get("title") or expanded.get("id") or "")
    elif isinstance(one, MultiRelationField) and isinstance(expanded, list):
        view.options = [(str(item["id"]), str(item.get("title") or item["id"])) for item in expanded]
    if isinstance(one, SubtableField):
        view.columns = [_cell_view(child, locale) for child in one.child_fields]
        view.rows = list(value or [])
        if any(column.widget == "display" for column in view.columns if not column.computed):
            view.editable = False
    return view


def _cell_view(child: FieldBase, locale: Locale) -> FieldView:
    widget = _cell_widget(child)
    editable = widget is not None and child.formula is None and not child.read_only
    return FieldView(
        field=child,
        label=localize(child.label, locale),
        help="",
        widget=widget or "display",
        editable=editable,
        required=child.required and editable,
        options=_options(child, locale),
    )


def _field_spec(view: FieldView, plan: LivePlan | None) -> dict[str, Any]:
    one = view.field
    spec: dict[str, Any] = {
        "key": one.key,
        "type": one.type_name,
        "widget": view.widget,
        "editable": view.editable,
        "required": view.required,
        "hidden": one.hidden,
        "label": view.label,
    }
    for name in ("min", "max", "granularity", "target"):
        value = getattr(one, name, None)
        if isinstance(value, str | int | float):  # date bounds are left to the server
            spec[name] = value
    schema = one.json_schema() if one.storage == "column" else {}
    for name, option in (("maxLength", "max_length"), ("minLength", "min_length"), ("pattern", "pattern")):
        if schema.get("type") == "string" and name in schema:
            spec[option] = schema[name]
    if isinstance(one, SelectField | MultiSelectField):
        spec["options"] = [[value, label] for value, label in view.options]
    if one.type_name in NUMBER_KINDS:
        spec["scale"] = getattr(one, "scale", 0)
    if one.type_name == "rating":
        spec["min"], spec["scale"] = 1, 0
    if view.columns:
        spec["columns"] = [_field_spec(column, None) for column in view.columns]
    if plan is not None:
        options = plan.fields.get(one.key, {})
        spec["live"] = {name: ast for name, ast in options.items() if ast is not None}
        spec["server"] = sorted(name for name, ast in options.items() if ast is None)
    return spec


def _sections(runtime: FormRuntime, views: dict[str, FieldView], locale: Locale) -> list[tuple[str, list[FieldView]]]:
    """The form's layout sections, then every other shown field (an editor must offer them all)."""
    definition = runtime.definition
    placed: set[str] = set()
    sections: list[tuple[str, list[FieldView]]] = []
    for section in definition.layout:
        shown = [views[k] for k in section.fields if k in views and k not in placed]
        placed |= {v.key for v in shown}
        sections.append((localize(section.section, locale), shown))
    rest = [v for k, v in views.items() if k not in placed]
    if rest:
        title = ("其他" if locale == "zh" else "Other") if sections else ""
        sections.append((title, rest))
    return sections


def _singletons(svc: Services, plan: LivePlan, locale: Locale) -> dict[str, dict[str, Any]]:
    """The settings records the live expressions read (the first record of each, as the server reads it)."""
    found: dict[str, dict[str, Any]] = {}
    with svc.database.read() as connection:
        for key, names in plan.needs.singletons.items():
            runtime = svc.catalog.form(key)
            page = svc.lister.page(connection, runtime, ListQuery(limit=1, sort=(("id", False),)), locale)
            record = page.items[0] if page.items else {}
            found[key] = {
                "values": {name: record.get(name) for name in names},
                "types": {name: runtime.definition.field_map[name].type_name for name in names},
            }
    return found


def _relations(svc: Services, runtime: FormRuntime, plan: LivePlan) -> dict[str, dict[str, Any]]:
    """Per relation the live expressions follow: the target form and the types of the columns read."""
    found: dict[str, dict[str, Any]] = {}
    for key, names in plan.needs.relations.items():
        relation = runtime.definition.field_map[key]
        if not isinstance(relation, RelationField):  # browser_rules only follows relations
            continue
        target = svc.catalog.form(relation.target).definition
        found[key] = {"form": relation.target, "types": {name: target.field_map[name].type_name for name in names}}
    return found


def _title_keys(svc: Services, runtime: FormRuntime) -> dict[str, str]:
    return {
        f.key: svc.catalog.form(f.target).definition.title_key
        for f in runtime.definition.fields
        if isinstance(f, RelationField | MultiRelationField)
    }


def _load(svc: Services, runtime: FormRuntime, record_id: int | None, actor: Actor) -> tuple[Any, dict[str, Any]]:
    """The record (None for a new one) and a copy with related titles expanded."""
    if record_id is None:
        return None, {}
    record = svc.records.get(runtime.key, record_id, actor=actor)
    titles = copy.deepcopy(record)
    expand = tuple(f.key for f in runtime.definition.fields if isinstance(f, RelationField | MultiRelationField))
    access = svc.policy.access(actor.principal, runtime.key) if actor.principal is not None else None
    with svc.database.read() as connection:
        svc.lister.expand(connection, runtime, [titles], expand, access=access, today=svc.records.clock().date())
    return record, titles


def _defaults(definition: FormDefinition) -> dict[str, Any]:
    """A new record's plain defaults (``"=..."`` defaults are expressions: the runtime computes them)."""
    return {f.key: f.default for f in definition.fields if f.default is not None and f.default_expression is None}


def editor_page(svc: Services, form: str, record_id: int | None, *, actor: Actor, now: dt.datetime) -> EditorPage:
    """Load and describe the page that creates (``record_id`` None) or edits one record for ``actor``."""
    locale = actor.locale
    runtime = svc.catalog.form(form)
    definition = runtime.definition
    record, titles = _load(svc, runtime, record_id, actor)
    editable = {f.key for f in accepted_fields(definition, "create" if record is None else "update")}
    plan = live_plan(definition, {rt.key: rt.definition for rt in svc.catalog.forms()})
    values = record or _defaults(definition)
    views = {f.key: _view(f, editable, values, titles, locale) for f in definition.fields}
    for key, options in plan.fields.items():
        views[key].formula_live = options.get("formula") is not None
        views[key].server_rules = sorted(name for name, ast in options.items() if ast is None and name in RULE_OPTIONS)
    shown = {k: v for k, v in views.items() if not v.field.hidden}
    with svc.database.read() as connection:
        users = [(int(u["id"]), str(u["name"])) for u in list_users(connection)]
    spec = {
        "form": runtime.key,
        "lang": locale,
        "record_id": record_id,
        "version": values.get("version"),
        "values": values,
        "today": now.date().isoformat(),
        "now": now.isoformat(),
        "user": actor.user_id,  # CURRENT_USER(), as the server evaluates the rules for this actor
        "fields": [_field_spec(view, plan) for view in views.values()],
        "formula_order": plan.formula_order,
        "rules": [
            {"assert": ast, "field": rule.field, "message": localize(rule.message, locale)}
            for rule, ast in zip(definition.rules, plan.rules, strict=True)
        ],
        "relations": _relations(svc, runtime, plan),
        "singletons": _singletons(svc, plan, locale),
        "title_keys": _title_keys(svc, runtime),
    }
    return EditorPage(runtime, record, _sections(runtime, shown, locale), spec, users)
