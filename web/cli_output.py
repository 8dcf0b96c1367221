"""Plain-text output of the CLI: aligned tables, role summaries and access explanations.

Pure functions from data to lines, so the commands stay short and the texts are tested directly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.i18n import Label, localize

if TYPE_CHECKING:
    from forms.roles import Permission, RoleDefinition

ADMIN = "administrator: every action on every form, and users and roles"


def width(text: str) -> int:
    """Terminal columns of ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``header`` and ``rows`` as lines with aligned columns (two spaces apart)."""
    widths = [max(width(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  ".join(cell + " " * (size - width(cell)) for cell, size in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def label_text(label: Label | None) -> str:
    """A label in English, with the Chinese after it when it differs."""
    en, zh = localize(label, "en"), localize(label, "zh")
    return f"{en} / {zh}" if zh != en else en


# -- roles -------------------------------------------------------------------------------------


def _form(permission: Permission) -> str:
    return "every form" if permission.form == "*" else permission.form


def permission_summary(permission: Permission) -> str:
    """One permission in a phrase: ``account: read, update where owner = CURRENT_USER(), hides revenue``."""
    text = f"{_form(permission)}: {', '.join(permission.actions)}"
    if permission.rows:
        text += f" where {permission.rows}"
    if permission.rows_via:
        text += f" where its {permission.rows_via} is readable"
    if permission.fields.hidden:
        text += f", hides {', '.join(permission.fields.hidden)}"
    if permission.fields.readonly:
        text += f", read-only {', '.join(permission.fields.readonly)}"
    return text


def role_summary(role: RoleDefinition) -> str:
    """A role's permissions on one line."""
    if role.admin:
        return ADMIN
    return "; ".join(permission_summary(p) for p in role.permissions) or "no permissions"


def role_lines(key: str, role: RoleDefinition, holders: Sequence[dict[str, Any]]) -> list[str]:
    """A role in full: label, each permission with its rows and fields, and who holds it."""
    lines = [f"role {key}: {label_text(role.label)}"]
    if role.description is not None:
        lines.append(f"  {label_text(role.description)}")
    lines.append("permissions:")
    if role.admin:
        lines.append(f"  {ADMIN}")
    elif not role.permissions:
        lines.append("  none")
    for index, permission in enumerate(role.permissions):
        lines.append(f"  #{index} {_form(permission)}: {', '.join(permission.actions)}")
        if permission.rows:
            lines.append(f"       rows: {permission.rows}")
        if permission.rows_via:
            lines.append(f"       rows: those whose {permission.rows_via} is readable")
        if permission.fields.hidden:
            lines.append(f"       hidden: {', '.join(permission.fields.hidden)}")
        if permission.fields.readonly:
            lines.append(f"       read-only: {', '.join(permission.fields.readonly)}")
    people = [f"{u['login']} ({u['name']}{'' if u['active'] else ', disabled'})" for u in holders]
    lines.append(f"held by: {', '.join(people) or 'nobody'}")
    return lines


# -- access explanations -----------------------------------------------------------------------


def _grant_text(grant: dict[str, Any], *, row_scoped: bool, exists: bool) -> str:
    """One granting permission: who grants, on which rows, and whether that holds for the record."""
    text = str(grant["why"])
    if not row_scoped:  # create and manage: a row scope does not limit them
        return text
    if "rows" in grant:
        text += f"; rows: {grant['rows']}"
    elif "rows_via" in grant:
        text += f"; rows whose {grant['rows_via']} is readable"
    else:
        text += "; every record"
    if "holds" in grant and exists:
        text += ": holds for this record" if grant["holds"] else ": does not hold for this record"
    return text


def _field_reason(entry: dict[str, Any], *, update_allowed: bool) -> str:
    """Why a field is (not) visible and (not) writable, from the permissions that decide it."""
    reasons = []
    if entry["hidden_by"]:
        shown = ", but another permission shows it" if entry["visible"] else ""
        reasons.append(f"hidden by {'; '.join(entry['hidden_by'])}{shown}")
    elif not entry["visible"]:
        reasons.append("no permission lets the user read it")
    if entry["readonly_by"]:
        writable = ", but another permission lets the user change it" if entry["writable"] else ""
        reasons.append(f"read-only in {'; '.join(entry['readonly_by'])}{writable}")
    elif not entry["writable"] and entry["visible"]:
        reasons.append(
            "hidden in every permission granting update" if update_allowed else "no permission lets the user change it"
        )
    return "; ".join(reasons)


def _notes(result: dict[str, Any], *, active: bool) -> list[str]:
    login = result["user"]["login"]
    notes = []
    if not active:
        notes.append(f"note: {login} is disabled, so may do nothing until `tessera users enable {login}`")
    if result["unknown_roles"]:
        notes.append(f"note: roles not installed, granting nothing: {', '.join(result['unknown_roles'])}")
    if result.get("record_exists") is False:
        notes.append(f"note: record {result['record']} does not exist, so no action on it is allowed")
    return notes


def explanation_lines(result: dict[str, Any], *, name: str, active: bool) -> list[str]:
    """The result of :func:`forms.access.explain` for people: per action and per field, the verdict and why."""
    from forms.roles import ROW_SCOPED

    user = result["user"]
    record = "any record" if result["record"] is None else f"record {result['record']}"
    lines = [
        f"access of {user['login']} ({name}) to form {result['form']}, {record}",
        f"roles: {', '.join(user['roles']) or '(none)'}",
        *_notes(result, active=active),
        "",
        "actions:",
    ]
    actions: dict[str, Any] = result["actions"]
    column = max(width(action) for action in actions)
    for action, entry in actions.items():
        verdict = "allowed" if entry["allowed"] else "denied"
        lines.append(f"  {action:<{column}}  {verdict:<7}  {entry['reason']}")
        for grant in entry["grants"]:
            text = _grant_text(grant, row_scoped=action in ROW_SCOPED, exists=result.get("record_exists") is not False)
            lines.append(" " * (column + 13) + "- " + text)
    rows = [
        [
            key,
            "visible" if entry["visible"] else "hidden",
            "writable" if entry["writable"] else "read-only",
            _field_reason(entry, update_allowed=actions["update"]["allowed"]),
        ]
        for key, entry in result["fields"].items()
    ]
    lines += ["", "fields:", *("  " + line for line in table(["FIELD", "SEEN", "CHANGE", "WHY"], rows))]
    return lines
