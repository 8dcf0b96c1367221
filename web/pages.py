"""HTML pages: installed apps, a form's records, one record, and the pages that create and edit records."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from engine.i18n import Locale, localize
from forms.catalog import FormRuntime
from forms.fields import FieldBase
from forms.fields.choice import MultiSelectField, SelectField
from forms.fields.references import DepartmentField, RelationField, UserField
from forms.fields.scalar import CurrencyField, PercentField
from forms.listing import ListQuery
from forms.records import Actor
from web.api import ActorDep, RecordId, ServicesDep, form_access, known_params, visible_forms
from web.editor import editor_page

router = APIRouter(include_in_schema=False)
LangParam = Annotated[str, Query(pattern="^(zh|en)$")]
EXPANDABLE = (RelationField, UserField, DepartmentField)


def _lang(value: str) -> Locale:
    return "en" if value == "en" else "zh"


def display(field: FieldBase, value: Any, lang: Locale) -> str:
    """A value as a person reads it (option labels, titles of related records)."""
    if value is None or value == []:
        return ""
    if isinstance(field, SelectField):
        option = field.option(value)
        return localize(option.label, lang) if option else str(value)
    if isinstance(field, MultiSelectField):
        return "、".join(display_option(field, v, lang) for v in value)
    if isinstance(value, dict) and "title" in value:
        return str(value.get("title") or value.get("id"))
    if isinstance(value, list):
        return f"{len(value)}"
    if isinstance(field, PercentField) and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if isinstance(field, CurrencyField) and isinstance(value, int | float):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    return str(value)


def display_option(field: MultiSelectField, value: str, lang: Locale) -> str:
    """The label of one multi-select value."""
    option = field.option(value)
    return localize(option.label, lang) if option else value


def _columns(runtime: FormRuntime) -> list[FieldBase]:
    definition = runtime.definition
    keys = definition.list_view.columns or [f.key for f in definition.fields if f.storage == "column"][:8]
    return [f for key in keys if (f := definition.field(key)) is not None and not f.hidden]


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(known_params("lang"))])
def index(request: Request, svc: ServicesDep, who: ActorDep, lang: LangParam = "zh") -> Response:
    """The installed apps and the forms the user may use."""
    locale = _lang(lang)
    visible = visible_forms(svc, who)
    forms = {rt.key: rt for rt in svc.catalog.forms() if rt.key in visible}
    apps = [
        {
            "label": localize(a["label"] if isinstance(a["label"], str) else _label(a["label"]), locale),
            "forms": [forms[k] for k in a["forms"] if k in forms],
        }
        for a in svc.catalog.apps()
    ]
    context = {"apps": apps, "lang": locale, "localize": localize}
    return request.app.state.templates.TemplateResponse(request, "index.html", context)  # type: ignore[no-any-return]


def _label(raw: dict[str, str]) -> Any:
    from engine.i18n import LocalizedText

    return LocalizedText(**raw)


@router.get("/forms/{form}", response_class=HTMLResponse, dependencies=[Depends(known_params("lang", "cursor", "q"))])
def form_records(
    request: Request,
    form: str,
    svc: ServicesDep,
    lang: LangParam = "zh",
    cursor: str | None = None,
    q: str | None = None,
    *,
    who: ActorDep,
) -> Response:
    """A page of the form's records the user may read."""
    locale = _lang(lang)
    access = form_access(svc, form, who)
    svc.policy.require(access, "read", locale)
    runtime = svc.catalog.form(form)
    hidden = access.static_hidden()
    columns = [f for f in _columns(runtime) if f.key not in hidden]
    expand = tuple(f.key for f in columns if isinstance(f, EXPANDABLE))
    query = ListQuery(limit=50, cursor=cursor, expand=expand, search=q, count=True)
    with svc.database.read() as connection:
        page = svc.lister.page(connection, runtime, query, locale, access=access, today=svc.records.clock().date())
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "records.html",
        {
            "runtime": runtime,
            "columns": columns,
            "page": page,
            "lang": locale,
            "localize": localize,
            "display": display,
            "q": q or "",
            "can_create": access.can("create"),
        },
    )


@router.get("/forms/{form}/new", response_class=HTMLResponse, dependencies=[Depends(known_params("lang"))])
def new_record_page(request: Request, form: str, svc: ServicesDep, who: ActorDep, lang: LangParam = "zh") -> Response:
    """The page that creates a record (declared before ``/forms/{form}/{record_id}``, which would take "new")."""
    svc.policy.require(form_access(svc, form, who), "create", _lang(lang))
    return _editor(request, svc, form, None, _lang(lang), who)


@router.get("/forms/{form}/{record_id}/edit", response_class=HTMLResponse, dependencies=[Depends(known_params("lang"))])
def edit_record_page(
    request: Request, form: str, record_id: RecordId, svc: ServicesDep, who: ActorDep, lang: LangParam = "zh"
) -> Response:
    """The page that edits one record."""
    return _editor(request, svc, form, record_id, _lang(lang), who)


def _editor(
    request: Request, svc: ServicesDep, form: str, record_id: int | None, locale: Locale, who: Actor
) -> Response:
    actor = Actor(locale=locale, principal=who.principal, via=who.via)
    page = editor_page(svc, form, record_id, actor=actor, now=svc.records.clock())
    context = {"page": page, "lang": locale, "localize": localize, "display": display, "percent_text": percent_text}
    return request.app.state.templates.TemplateResponse(request, "edit.html", context)  # type: ignore[no-any-return]


def percent_text(value: Any) -> str:
    """A stored fraction as the number a percent input shows (0.075 -> "7.5"), exactly."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return format((Decimal(str(value)) * 100).normalize(), "f")


@router.get("/forms/{form}/{record_id}", response_class=HTMLResponse, dependencies=[Depends(known_params("lang"))])
def record_page(
    request: Request, form: str, record_id: RecordId, svc: ServicesDep, who: ActorDep, lang: LangParam = "zh"
) -> Response:
    """One record, laid out by the form's sections (only the fields the user may see)."""
    locale = _lang(lang)
    runtime = svc.catalog.form(form)
    access = form_access(svc, form, who)
    record = svc.records.get(form, record_id, actor=Actor(locale=locale, principal=who.principal, via=who.via))
    with svc.database.read() as connection:
        expand = tuple(f.key for f in runtime.definition.fields if isinstance(f, EXPANDABLE) and f.key in record)
        svc.lister.expand(connection, runtime, [record], expand, access=access, today=svc.records.clock().date())
    definition = runtime.definition

    def shown(field: FieldBase | None) -> bool:
        return field is not None and not field.hidden and (field.key in record or field.storage != "column")

    sections = [
        (localize(s.section, locale), [f for k in s.fields if shown(f := definition.field(k)) and f is not None])
        for s in definition.layout
    ] or [("", [f for f in definition.fields if shown(f)])]
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "record.html",
        {
            "runtime": runtime,
            "record": record,
            "sections": sections,
            "lang": locale,
            "localize": localize,
            "display": display,
            "can_update": access.can("update"),
        },
    )
