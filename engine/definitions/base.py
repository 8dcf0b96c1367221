"""The base of every definition kind and the kind registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.i18n import Label
from engine.issues import Issue

if TYPE_CHECKING:
    from engine.definitions.bundle import AppBundle

KEY_PATTERN: Final = r"^[a-z][a-z0-9_]{0,49}$"
DefinitionKey = Annotated[str, Field(pattern=KEY_PATTERN)]
SCHEMA_VERSION: Final = 1


class Definition(BaseModel):
    """Fields shared by every kind: ``kind``, ``key``, ``schema_version`` and a label.

    Subclasses declare ``kind`` as a ``Literal`` and may override :meth:`local_issues`
    (problems visible in the document alone), :meth:`partial_issues` (the same checks on a
    document that failed model validation, so that all problems are reported at once) and
    :meth:`bundle_issues` (problems that need the other definitions of the app, such as a
    relation to a missing form).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    kind_name: ClassVar[str]

    schema_ref: str | None = Field(default=None, alias="$schema")
    key: DefinitionKey
    schema_version: Literal[1] = SCHEMA_VERSION
    label: Label
    description: Label | None = None

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: Any) -> Any:
        # Literal[1] lets `true` through (True == 1), even in strict mode; the JSON Schema does not
        if isinstance(value, bool):
            raise ValueError("schema_version must be the number 1, not true or false")
        return value

    def local_issues(self) -> list[Issue]:
        """Return problems found in this document alone (pointers relative to it)."""
        return []

    @classmethod
    def partial_issues(cls, raw: dict[str, Any]) -> list[Issue]:
        """Return the :meth:`local_issues` that can be found in a document that failed validation.

        The loader calls this after a pydantic error, so that one bad option does not hide
        the document-level problems elsewhere. Issues that repeat a validation error (same
        pointer and code) are dropped by the loader.

        Args:
            raw: The parsed JSON object, which does not validate against the model.

        Returns:
            Problems with pointers relative to the document (none by default).
        """
        return []

    def bundle_issues(self, bundle: AppBundle) -> list[Issue]:
        """Return problems that need the other definitions of the bundle."""
        return []


D = TypeVar("D", bound=type[Definition])
KINDS: dict[str, type[Definition]] = {}


def register_kind(cls: D) -> D:
    """Register a definition class under its ``kind`` literal."""
    model: type[Definition] = cls
    annotation = model.model_fields["kind"].annotation
    name = getattr(annotation, "__args__", (None,))[0]
    if not isinstance(name, str):
        raise TypeError(f"{cls.__name__} needs a Literal 'kind'")
    cls.kind_name = name
    KINDS[name] = cls
    return cls
