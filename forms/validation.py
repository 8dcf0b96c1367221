"""Submission validation: one pydantic model compiled per form version and use.

All problems of a submission are reported at once, per field key (sub-table rows as
``items[3].amount``), in Chinese or English.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, NotRequired, Required

from pydantic import ConfigDict, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict

from engine.i18n import Locale
from engine.issues import Issue, ValidationError, did_you_mean
from forms.definition import FormDefinition
from forms.fields import FieldBase
from forms.messages import message

Use = Literal["create", "update", "system", "system_update"]
_PARTIAL: frozenset[str] = frozenset({"update", "system_update"})  # a partial change: no required, no defaults
_STRICT = ConfigDict(extra="forbid", frozen=False)


def _field_spec(field: FieldBase, use: Use, compile_row: Any) -> tuple[Any, bool]:
    """Return (annotation, must be present) of one field for ``use``."""
    value_type = field.value_type(compile_row)
    if use == "create" and field.required and field.default is None:
        return value_type, True
    if field.required:
        return value_type, False  # may be left out of an update, but not set to null
    return value_type | None, False


def _typed_dict(name: str, fields: tuple[FieldBase, ...], use: Use) -> Any:
    """A TypedDict of the fields: validating it returns a plain dict holding only the keys given."""
    annotations: dict[str, Any] = {}
    for field in fields:
        annotation, present = _field_spec(field, use, _row_model)
        annotations[field.key] = Required[annotation] if present else NotRequired[annotation]
    shape: Any = TypedDict(name, annotations, total=False)  # type: ignore[misc]
    setattr(shape, "__pydantic_config__", _STRICT)  # noqa: B010 - pydantic reads it from the class
    return shape


def _row_model(fields: tuple[FieldBase, ...], name: str) -> Any:
    return _typed_dict(f"Row_{name}", fields, "create")


def accepted_fields(form: FormDefinition, use: Use) -> tuple[FieldBase, ...]:
    """Return the fields a submission for ``use`` may set."""
    if use in ("system", "system_update"):
        return tuple(form.fields)
    return tuple(f for f in form.fields if not f.read_only and not f.system_filled and f.formula is None)


@dataclass(frozen=True)
class CompiledForm:
    """The validator of one form definition for one use, and the defaults it fills in."""

    form: FormDefinition
    adapter: TypeAdapter[dict[str, Any]]
    defaults: dict[str, Any]


_COMPILED: dict[tuple[int, Use], CompiledForm] = {}


def compile_form(form: FormDefinition, use: Use) -> CompiledForm:
    """Compile (once per form definition object and use) the validator of a submission."""
    cached = _COMPILED.get((id(form), use))
    if cached is not None and cached.form is form:
        return cached
    base_use: Use = "update" if use in _PARTIAL else "create"
    fields = accepted_fields(form, use)
    adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(_typed_dict(f"Submission_{form.key}_{use}", fields, base_use))
    defaults = (
        {}
        if use in _PARTIAL
        else {f.key: f.default for f in fields if f.default is not None and f.default_expression is None}
    )
    compiled = CompiledForm(form, adapter, defaults)
    _COMPILED[(id(form), use)] = compiled
    return compiled


def validate_submission(form: FormDefinition, raw: Any, *, use: Use, locale: Locale) -> dict[str, Any]:
    """Validate ``raw`` and return the values it provided, plus field defaults on create.

    Raises:
        ValidationError: with one issue per problem, each naming its field.
    """
    if not isinstance(raw, dict):
        raise ValidationError(
            message("not_an_object", locale), [Issue("not_an_object", message("not_an_object", locale))]
        )
    compiled = compile_form(form, use)
    if compiled.defaults:
        raw = {**compiled.defaults, **raw}
    try:
        return compiled.adapter.validate_python(raw)
    except PydanticValidationError as error:
        issues = [_issue(form, detail, raw, use, locale) for detail in error.errors(include_url=False)]
        summary = "提交的数据有误" if locale == "zh" else "the submission is not valid"
        raise ValidationError(summary, issues) from None


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a location as ``items[3].amount``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _issue(form: FormDefinition, detail: ErrorDetails, raw: dict[str, Any], use: Use, locale: Locale) -> Issue:
    loc = tuple(p for p in detail["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    path = field_path(loc)
    code = detail["type"]
    ctx = dict(detail.get("ctx", {}))
    hint = None
    if code == "extra_forbidden" and len(loc) == 1:
        name = str(loc[0])
        known = form.field(name)
        if known is not None and (known.read_only or known.system_filled or known.formula is not None):
            code = "read_only"
        else:
            hint = did_you_mean(name, [f.key for f in accepted_fields(form, use)])
    elif detail.get("input", ...) is None:
        code = "required"
    for bound in ("ge", "le", "gt", "lt"):
        if isinstance(ctx.get(bound), float | Decimal) and float(ctx[bound]).is_integer():
            ctx[bound] = int(ctx[bound])
    if code == "literal_error":
        ctx["expected"] = ctx.get("expected", "").replace("'", "")
    if code == "value_error" and "repeat" in detail["msg"]:
        code = "items_repeat"
    text = message(code, locale, fallback=detail["msg"], **ctx)
    return Issue(code, text, field=path, hint=hint)
