"""Read-only HTML pages: installed apps, a form's records, one record (the full UI comes later)."""

from __future__ import annotations

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
from web.api import RecordId, ServicesDep, known_params

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
def index(request: Request, svc: ServicesDep, lang: LangParam = "zh") -> Response:
    """The installed apps and their forms."""
    locale = _lang(lang)
    forms = {rt.key: rt for rt in svc.catalog.forms()}
    apps = [
        {
            "label": localize(a["label"] if isinstance(a["label"], str) else _label(a["label"]), locale),
            "forms": [forms[k] for k in a["forms"] if k in forms],
        }
        for a in svc.catalog.apps()
    ]
    return request.app.state.templates.TemplateResponse(
        request, "index.html", {"apps": apps, "lang": locale, "localize": localize}
    )  # type: ignore[no-any-return]


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
) -> Response:
    """A page of a form's records."""
    locale = _lang(lang)
    runtime = svc.catalog.form(form)
    columns = _columns(runtime)
    expand = tuple(f.key for f in columns if isinstance(f, EXPANDABLE))
    with svc.database.read() as connection:
        page = svc.lister.page(
            connection, runtime, ListQuery(limit=50, cursor=cursor, expand=expand, search=q, count=True), locale
        )
    return request.app.state.templates.TemplateResponse(
        request,
        "records.html",
        {  # type: ignore[no-any-return]
            "runtime": runtime,
            "columns": columns,
            "page": page,
            "lang": locale,
            "localize": localize,
            "display": display,
            "q": q or "",
        },
    )


@router.get("/forms/{form}/{record_id}", response_class=HTMLResponse, dependencies=[Depends(known_params("lang"))])
def record_page(request: Request, form: str, record_id: RecordId, svc: ServicesDep, lang: LangParam = "zh") -> Response:
    """One record, laid out by the form's sections."""
    locale = _lang(lang)
    runtime = svc.catalog.form(form)
    record = svc.records.get(form, record_id, actor=Actor(locale=locale))
    with svc.database.read() as connection:
        expand = tuple(f.key for f in runtime.definition.fields if isinstance(f, EXPANDABLE))
        svc.lister.expand(connection, runtime, [record], expand)
    definition = runtime.definition
    sections = [
        (localize(s.section, locale), [f for k in s.fields if (f := definition.field(k)) and not f.hidden])
        for s in definition.layout
    ] or [("", [f for f in definition.fields if not f.hidden])]
    return request.app.state.templates.TemplateResponse(
        request,
        "record.html",
        {  # type: ignore[no-any-return]
            "runtime": runtime,
            "record": record,
            "sections": sections,
            "lang": locale,
            "localize": localize,
            "display": display,
        },
    )
