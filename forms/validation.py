"""Submission validation: one pydantic model compiled per form version and use.

All problems of a submission are reported at once, per field key (sub-table rows as
``items[3].amount``), in Chinese or English.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from engine.i18n import Locale
from engine.issues import Issue, ValidationError, did_you_mean
from forms.definition import FormDefinition
from forms.fields import FieldBase
from forms.messages import message

Use = Literal["create", "update", "system"]
_STRICT = ConfigDict(extra="forbid", frozen=False)


def _field_spec(field: FieldBase, use: Use, compile_model: Any) -> tuple[Any, Any]:
    value_type = field.value_type(compile_model)
    if use == "create" and field.required and field.default is None:
        return value_type, ...
    if field.required:
        return value_type, None  # may be left out of an update, but not set to null
    return value_type | None, None


def _row_model(fields: tuple[FieldBase, ...], name: str) -> type[BaseModel]:
    specs = {f.key: _field_spec(f, "create", _row_model) for f in fields}
    model: type[BaseModel] = create_model(f"Row_{name}", __config__=_STRICT, **specs)  # type: ignore[call-overload]
    return model


def accepted_fields(form: FormDefinition, use: Use) -> tuple[FieldBase, ...]:
    """Return the fields a submission for ``use`` may set."""
    if use == "system":
        return tuple(form.fields)
    return tuple(f for f in form.fields if not f.read_only and not f.system_filled)


_MODELS: dict[tuple[int, Use], tuple[FormDefinition, type[BaseModel]]] = {}


def compile_model(form: FormDefinition, use: Use) -> type[BaseModel]:
    """Compile (once per form definition object and use) the model that validates a submission."""
    cached = _MODELS.get((id(form), use))
    if cached is not None and cached[0] is form:
        return cached[1]
    base_use: Use = "update" if use == "update" else "create"
    specs = {f.key: _field_spec(f, base_use, _row_model) for f in accepted_fields(form, use)}
    model: type[BaseModel] = create_model(f"Submission_{form.key}_{use}", __config__=_STRICT, **specs)  # type: ignore[call-overload]
    _MODELS[(id(form), use)] = (form, model)
    return model


def validate_submission(form: FormDefinition, raw: Any, *, use: Use, locale: Locale) -> dict[str, Any]:
    """Validate ``raw`` and return the values it provided, plus field defaults on create.

    Raises:
        ValidationError: with one issue per problem, each naming its field.
    """
    if not isinstance(raw, dict):
        raise ValidationError(
            message("not_an_object", locale), [Issue("not_an_object", message("not_an_object", locale))]
        )
    model = compile_model(form, use)
    if use != "update":
        defaults = {f.key: f.default for f in accepted_fields(form, use) if f.default is not None and f.key not in raw}
        raw = {**defaults, **raw} if defaults else raw
    try:
        validated = model.model_validate(raw)
    except PydanticValidationError as error:
        issues = [_issue(form, detail, raw, use, locale) for detail in error.errors(include_url=False)]
        summary = "提交的数据有误" if locale == "zh" else "the submission is not valid"
        raise ValidationError(summary, issues) from None
    values = {key: getattr(validated, key) for key in validated.model_fields_set}
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {k: _plain(getattr(value, k)) for k in value.model_fields_set}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


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
        if known is not None and (known.read_only or known.system_filled):
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
