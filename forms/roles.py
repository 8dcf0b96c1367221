"""The ``role`` kind: what the holders of a role may do, form by form.

A role lists permissions; each names a form (or ``"*"`` for every form), the actions it grants
and, optionally, which records (``rows``: an expression over the form's fields, compiled into
the SQL ``WHERE`` of every read and write) and which fields (``fields.hidden``,
``fields.readonly``). ``rows_via`` names a relation field instead: the record is in scope when
the record it points at is readable (a contact follows its account). A user's rights are the
union of their roles' permissions; a role with ``"admin": true`` may do everything, including
managing users, roles and definitions.

``create`` is not row-scoped (a new record has no owner yet); ``read``, ``update``, ``delete``
and ``export`` are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.definitions.base import Definition, DefinitionKey, register_kind
from engine.issues import Issue, suggest
from forms.fields.base import Expression

if TYPE_CHECKING:
    from engine.definitions.bundle import AppBundle
    from forms.definition import FormDefinition

Action = Literal["create", "read", "update", "delete", "export", "manage"]
ACTIONS: tuple[Action, ...] = ("create", "read", "update", "delete", "export", "manage")
ROW_SCOPED: frozenset[str] = frozenset({"read", "update", "delete", "export"})
ALL_FORMS = "*"


class FieldRules(BaseModel):
    """Fields this permission does not show (``hidden``) or does not let change (``readonly``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hidden: list[DefinitionKey] = Field(default_factory=list)
    readonly: list[DefinitionKey] = Field(default_factory=list)


class Permission(BaseModel):
    """Actions on one form (or every form), limited to some rows and fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    form: Annotated[str, Field(pattern=r"^(\*|[a-z][a-z0-9_]{0,49})$")]
    actions: Annotated[list[Action], Field(min_length=1)]
    rows: Expression | None = None
    rows_via: DefinitionKey | None = None
    fields: FieldRules = Field(default_factory=FieldRules)


@register_kind
class RoleDefinition(Definition):
    """A role (客户经理, 专家...): the permissions its holders get."""

    kind: Literal["role"]
    admin: bool = False
    permissions: list[Permission] = Field(default_factory=list)

    def local_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        for index, permission in enumerate(self.permissions):
            pointer = f"/permissions/{index}"
            if permission.rows is not None and permission.rows_via is not None:
                issues.append(
                    Issue("rows_twice", "give either 'rows' or 'rows_via', not both", pointer=f"{pointer}/rows_via")
                )
            if permission.form == ALL_FORMS and (permission.rows or permission.rows_via or _has_fields(permission)):
                issues.append(
                    Issue(
                        "scope_on_every_form",
                        "a permission on every form ('*') cannot limit rows or fields; name the form",
                        pointer=f"{pointer}/form",
                    )
                )
        return issues

    def bundle_issues(self, bundle: AppBundle) -> list[Issue]:
        """Forms, fields and relations that do not exist; row scopes that are not conditions."""
        from forms.definition import FormDefinition

        forms = {d.key: d for d in bundle.of_kind("form") if isinstance(d, FormDefinition)}
        issues: list[Issue] = []
        for index, permission in enumerate(self.permissions):
            issues += permission_issues(permission, f"/permissions/{index}", forms)
        return issues


def _has_fields(permission: Permission) -> bool:
    return bool(permission.fields.hidden or permission.fields.readonly)


def permission_issues(permission: Permission, pointer: str, forms: dict[str, FormDefinition]) -> list[Issue]:
    """Problems of one permission against the forms it may name."""
    if permission.form == ALL_FORMS:
        return []
    form = forms.get(permission.form)
    if form is None:
        return [
            Issue(
                "unknown_form",
                f"the role refers to unknown form '{permission.form}'",
                pointer=f"{pointer}/form",
                hint=suggest(permission.form, forms, noun="forms"),
            )
        ]
    issues: list[Issue] = []
    for kind in ("hidden", "readonly"):
        for position, key in enumerate(getattr(permission.fields, kind)):
            if form.field(key) is None:
                issues.append(
                    Issue(
                        "unknown_field",
                        f"form '{form.key}' has no field '{key}'",
                        pointer=f"{pointer}/fields/{kind}/{position}",
                        hint=suggest(key, [f.key for f in form.fields], noun="fields"),
                    )
                )
    if permission.rows_via is not None:
        issues += _via_issues(permission.rows_via, form, pointer)
    if permission.rows is not None:
        issues += scope_issues(permission.rows, form, forms, f"{pointer}/rows")
    return issues


def _via_issues(key: str, form: FormDefinition, pointer: str) -> list[Issue]:
    from forms.fields.references import RelationField

    field = form.field(key)
    if isinstance(field, RelationField):
        return []
    relations = [f.key for f in form.fields if isinstance(f, RelationField)]
    text = (
        f"'{key}' is not a relation field of form '{form.key}'"
        if field is not None
        else f"form '{form.key}' has no field '{key}'"
    )
    hint = suggest(key, relations, noun="relations")
    return [Issue("not_a_relation", text, pointer=f"{pointer}/rows_via", hint=hint)]


def scope_issues(text: str, form: FormDefinition, forms: dict[str, FormDefinition], pointer: str) -> list[Issue]:
    """Parse and type-check a row scope: it must be a condition over the form's fields."""
    from engine.expr import ExprError, check
    from engine.expr.types import BOOLEAN
    from forms.expressions import FormScope
    from forms.formulas import parsed

    try:
        node = parsed(text)
    except ExprError as error:
        return [_expr_issue(error, pointer)]
    _type, errors = check(node, FormScope(form, forms), expect=BOOLEAN)
    return [_expr_issue(error, pointer) for error in errors]


def _expr_issue(error: Any, pointer: str) -> Issue:
    return Issue(f"expr_{error.code}", error.message, pointer=pointer, hint=error.hint, span=(error.start, error.end))
