"""Labels in Chinese and English, and the message catalogue for engine-produced text."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Locale = Literal["zh", "en"]
DEFAULT_LOCALE: Locale = "zh"


class LocalizedText(BaseModel):
    """A label given in both languages; ``en`` falls back to ``zh`` and back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    zh: Annotated[str, Field(min_length=1)] | None = None
    en: Annotated[str, Field(min_length=1)] | None = None


Label = Annotated[str, Field(min_length=1)] | LocalizedText


def localize(label: Label | None, locale: Locale = DEFAULT_LOCALE) -> str:
    """Return the label's text in ``locale``, falling back to the other language."""
    if label is None:
        return ""
    if isinstance(label, str):
        return label
    first, second = (label.zh, label.en) if locale == "zh" else (label.en, label.zh)
    return first or second or ""


def parse_accept_language(header: str | None) -> Locale:
    """Pick ``en`` or ``zh`` from an Accept-Language header (Chinese by default)."""
    if not header:
        return DEFAULT_LOCALE
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh"
    return DEFAULT_LOCALE
