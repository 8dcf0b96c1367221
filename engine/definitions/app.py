"""The ``app`` kind: an app bundle's manifest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.definitions.base import Definition, DefinitionKey, register_kind
from engine.i18n import Label
from engine.issues import Issue, suggest

if TYPE_CHECKING:
    from engine.definitions.bundle import AppBundle


class NavigationItem(BaseModel):
    """A menu entry pointing at a form or a dashboard, or a group of entries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: Label
    icon: str | None = None
    form: DefinitionKey | None = None
    dashboard: DefinitionKey | None = None
    children: list[NavigationItem] = Field(default_factory=list)


class Calendar(BaseModel):
    """A business-hours calendar used by SLA timers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: DefinitionKey
    workdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    hours: Annotated[list[Annotated[str, Field(pattern=r"^\d\d:\d\d$")]], Field(min_length=2, max_length=2)]
    holidays: list[str] = Field(default_factory=list)


@register_kind
class AppDefinition(Definition):
    """The manifest of an app bundle (``app.json``)."""

    kind: Literal["app"]
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")] = "0.1.0"
    locale: Literal["zh-CN", "en"] = "zh-CN"
    dependencies: list[DefinitionKey] = Field(default_factory=list)
    calendar: Calendar | None = None
    navigation: list[NavigationItem] = Field(default_factory=list)

    def bundle_issues(self, bundle: AppBundle) -> list[Issue]:
        forms = bundle.keys("form")
        issues: list[Issue] = []
        for index, item in enumerate(self.navigation):
            if item.form and item.form not in forms:
                issues.append(
                    Issue(
                        "unknown_form",
                        f"navigation points at unknown form '{item.form}'",
                        pointer=f"/navigation/{index}/form",
                        hint=suggest(item.form, forms, noun="forms"),
                    )
                )
        return issues
