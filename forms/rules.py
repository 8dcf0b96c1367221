"""Form rules on the server: ``required_if``, ``readonly_if``, ``visible_if`` and ``assert`` rules.

The browser evaluates the same expressions live; the server decides. Every rule of a
submission is checked and all problems are reported at once, each at its field with the
rule's message in the user's language. A rule whose expression gives blank (for instance
because of a division by zero) does not block: it neither requires nor refuses anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.expr.evaluator import compile_expression
from engine.i18n import Locale, localize
from engine.issues import Issue, ValidationError
from forms.catalog import FormRuntime
from forms.computed import RecordContext, RowLoader
from forms.definition import FormDefinition
from forms.expressions import FormScope
from forms.formulas import parsed
from forms.messages import message

Run = Any  # Callable[[Context], Any]


@dataclass(frozen=True)
class CompiledRules:
    """The rules of one form definition, compiled once."""

    form: FormDefinition
    conditional: tuple[tuple[str, str, Run], ...]  # (field key, option, code)
    asserts: tuple[tuple[str | None, Any, Run], ...]  # (field key, message label, code)


_CACHE: dict[int, CompiledRules] = {}


def compiled_rules(form: FormDefinition, forms: Mapping[str, FormDefinition] | None = None) -> CompiledRules:
    """Compile (once per definition object) the form's conditional options and assert rules.

    ``forms`` (the installed definitions) gives the names their static types, so that date
    arithmetic on a blank date field is blank as in SQL and the browser (``engine/expr/types.py``).
    """
    cached = _CACHE.get(id(form))
    if cached is not None and cached.form is form:
        return cached
    scope = FormScope(form, forms) if forms is not None else None
    conditional = tuple(
        (field.key, option, compile_expression(parsed(text), scope=scope))
        for field in form.fields
        for option in ("visible_if", "required_if", "readonly_if")
        if (text := getattr(field, option)) is not None
    )
    asserts = tuple(
        (rule.field, rule.message, compile_expression(parsed(rule.condition), scope=scope)) for rule in form.rules
    )
    result = CompiledRules(form, conditional, asserts)
    _CACHE[id(form)] = result
    return result


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def enforce_rules(
    runtime: FormRuntime,
    values: Mapping[str, Any],
    changed: Mapping[str, Any],
    loader: RowLoader,
    *,
    user: Any,
    clock: dt.datetime,
    locale: Locale,
) -> None:
    """Check the rules against the record as it would be saved (``values``).

    Raises:
        ValidationError: one issue per broken rule.
    """
    forms = {rt.key: rt.definition for rt in loader.catalog.forms()}
    rules = compiled_rules(runtime.definition, forms)
    if not rules.conditional and not rules.asserts:
        return
    context = RecordContext(runtime, values, loader, user=user, clock=clock)
    outcome = {(key, option): run(context) for key, option, run in rules.conditional}
    issues: list[Issue] = []
    for key, option, _run in rules.conditional:
        result = outcome[(key, option)]
        if option == "required_if" and result is True and outcome.get((key, "visible_if")) is not False:
            if _blank(values.get(key)):
                issues.append(Issue("required", message("required", locale), field=key))
        elif option == "readonly_if" and result is True and key in changed:
            issues.append(Issue("read_only", message("read_only", locale), field=key))
    for field_key, label, run in rules.asserts:
        if run(context) is False:
            issues.append(Issue("rule", localize(label, locale), field=field_key))
    if issues:
        summary = "提交的数据有误" if locale == "zh" else "the submission is not valid"
        raise ValidationError(summary, issues)
