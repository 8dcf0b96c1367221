"""Translating pydantic validation errors into issues with a JSON pointer and a hint.

Pydantic locations name union members (``('fields', 0, 'select', 'optionz')``) and report
one error per member of an undiscriminated union (a label that is neither a string nor a
``{"zh", "en"}`` object). Here the member names are dropped from pointers, and the errors
of one union are reduced to what the user needs: the member the data was meant for, or a
single "wrong type" issue.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from engine.definitions.base import KEY_PATTERN
from engine.issues import Issue, did_you_mean, join_pointer

_QUOTED = re.compile(r"'([^']+)'")
_KEY_ERRORS = frozenset({"missing", "extra_forbidden"})
_NOT_KEY_CHARS = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class _Located:
    detail: ErrorDetails
    path: tuple[Any, ...]
    ends_in_member: bool

    @property
    def pointer(self) -> str:
        return join_pointer(*self.path)


def issues_from_errors(details: list[ErrorDetails], model: type[BaseModel], value: Any) -> list[Issue]:
    """Translate pydantic errors into issues, one per problem, in the order pydantic found them.

    Args:
        details: ``ValidationError.errors()`` of validating ``value`` against ``model``.
        model: The model that was validated.
        value: The parsed JSON document.

    Returns:
        Issues with pointers into ``value``; errors of one union are merged.
    """
    located = [_locate(detail, value) for detail in details]
    covered = {ancestor for item in located if not item.ends_in_member for ancestor in _ancestors(item.pointer)}
    groups: dict[str, list[_Located]] = {}
    order: list[Issue | str] = []
    for item in located:
        if not item.ends_in_member:
            order.append(issue_from_error(item.detail, model, value))
        elif item.pointer not in covered:  # a more specific error explains this member's rejection
            if item.pointer not in groups:
                groups[item.pointer] = []
                order.append(item.pointer)
            groups[item.pointer].append(item)
    return [entry if isinstance(entry, Issue) else _union_issue(groups[entry], model, value) for entry in order]


def issue_from_error(detail: ErrorDetails, model: type[BaseModel], value: Any) -> Issue:
    """Translate one pydantic error into an issue with a JSON pointer and a hint."""
    loc = tuple(detail["loc"])
    item = _locate(detail, value)
    pointer = item.pointer
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx", {}))
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_keys(model, loc[:-1], value)
        return Issue(
            "unknown_option",
            f"unknown option '{name}'",
            pointer=pointer,
            hint=did_you_mean(name, allowed) or _list_hint(allowed),
        )
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        expected = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        return Issue(
            "unknown_type",
            f"unknown {discriminator} '{tag}'",
            pointer=pointer + join_pointer(discriminator),
            hint=did_you_mean(tag, expected) or _list_hint(expected),
        )
    if kind == "union_tag_not_found":
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        tags = _union_tags(_annotation_at(model, loc, value)[0], discriminator)
        return Issue(
            "missing",
            f"'{discriminator}' is required",
            pointer=pointer + join_pointer(discriminator),
            hint=_list_hint(tags),
        )
    if kind == "missing":
        return Issue("missing", f"'{loc[-1]}' is required", pointer=pointer)
    hint = _key_hint(detail["input"]) if ctx.get("pattern") == KEY_PATTERN else None
    return Issue(kind, f"{_where(item.path)}: {detail['msg']}", pointer=pointer, hint=hint)


def _union_issue(items: list[_Located], model: type[BaseModel], value: Any) -> Issue:
    """One issue for the members of a union that all rejected the same value."""
    constraint = [item for item in items if not item.detail["type"].endswith("_type")]
    if constraint:
        return issue_from_error(constraint[0].detail, model, value)
    if len(items) == 1:
        return issue_from_error(items[0].detail, model, value)
    first, *others = (item.detail["msg"] for item in items)
    rest = [message.removeprefix("Input should be ") for message in others]
    return Issue("invalid_type", f"{_where(items[0].path)}: {', or '.join([first, *rest])}", pointer=items[0].pointer)


def _ancestors(pointer: str) -> list[str]:
    """Return ``pointer`` and every pointer above it ("/a/b" -> "", "/a", "/a/b")."""
    tokens = pointer.split("/")
    return ["/".join(tokens[:count]) for count in range(1, len(tokens) + 1)]


def _where(path: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in path) or "document"


def _list_hint(names: list[str]) -> str | None:
    return f"expected one of: {', '.join(sorted(names))}" if names else None


def _key_hint(value: Any) -> str:
    rule = "keys are lower_snake_case: a letter, then letters, digits or '_' (50 at most)"
    suggestion = _NOT_KEY_CHARS.sub("_", str(value).lower()).strip("_").lstrip("0123456789_")[:50]
    return f"{rule}, e.g. '{suggestion}'" if suggestion and suggestion != value else rule


def _locate(detail: ErrorDetails, value: Any) -> _Located:
    """Map a pydantic location (which names union members) onto the JSON document."""
    loc = tuple(detail["loc"])
    path: list[Any] = []
    current = value
    ends_in_member = False
    tagged: Any = None  # the object whose union tag the location has named already
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(current, dict) and current is not tagged and current.get("type") == part:
            tagged = current  # a currency field's loc is (..., 'currency', 'currency'): tag, then option
            continue
        in_object = isinstance(current, dict) and isinstance(part, str) and part in current
        if in_object or (isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)):
            current = current[part]
            path.append(part)
        elif last and detail["type"] in _KEY_ERRORS:
            path.append(part)
        else:
            ends_in_member = last
    return _Located(detail, tuple(path), ends_in_member)


def _model_field(model: type[BaseModel], name: str) -> FieldInfo | None:
    """Return the field called ``name`` or aliased ``name`` (JSON uses aliases such as ``list``)."""
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info
    return None


def _annotation_at(model: type[BaseModel], loc: tuple[Any, ...], value: Any) -> tuple[Any, Any]:
    """Return the annotation and the data found at ``loc`` (following lists and tagged unions)."""
    annotation: Any = model
    data = value
    for part in loc:
        was_union = _is_union(annotation)
        annotation = _unwrap(annotation, data)
        if _is_model(annotation):
            info = _model_field(annotation, str(part))
            if info is None or (was_union and part in _union_tags(annotation, "type")):
                continue  # a union member's name
            annotation, data = info.annotation, data.get(part) if isinstance(data, dict) else None
        elif isinstance(part, int) and isinstance(data, list):
            annotation, data = _item_type(annotation), data[part] if 0 <= part < len(data) else None
    return annotation, data


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...], value: Any) -> list[str]:
    """Return the option names accepted at ``loc``."""
    annotation = _unwrap(*_annotation_at(model, loc, value))
    if _is_model(annotation):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    return []


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(_strip_annotated(annotation)) in (Union, types.UnionType)


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_tags(annotation: Any, discriminator: str) -> list[str]:
    """Return the tags of a discriminated union's members (of one model, for a model)."""
    annotation = _strip_annotated(annotation)
    tags: list[str] = []
    for member in typing.get_args(annotation) or (annotation,):
        info = _model_field(member, discriminator) if _is_model(member) else None
        if info is not None:
            tags += [str(tag) for tag in typing.get_args(info.annotation)]
    return tags


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _item_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[0] if args else Any


def _unwrap(annotation: Any, data: Any) -> Any:
    """Strip Annotated/Optional and pick the union member matching the data's tag."""
    for _ in range(10):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = _pick_member(typing.get_args(annotation), data)
        else:
            return annotation
    return annotation


def _pick_member(members: tuple[Any, ...], data: Any) -> Any:
    models = [m for m in members if _is_model(m)]
    tag = data.get("type") if isinstance(data, dict) else None
    for member in models:
        literal = member.model_fields.get("type")
        if literal is not None and tag in typing.get_args(literal.annotation):
            return member
    non_none = [m for m in members if m is not type(None)]
    if isinstance(data, list):
        lists = [m for m in non_none if typing.get_origin(m) is list]
        return lists[0] if lists else non_none[0]
    if isinstance(data, dict) and models:
        return models[0]
    plain = [m for m in non_none if not _is_model(m)]
    return plain[0] if plain else (models[0] if models else Any)
