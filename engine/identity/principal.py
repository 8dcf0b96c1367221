"""The acting user as every layer below the web sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.i18n import Locale


@dataclass(frozen=True)
class Principal:
    """A signed-in user with their roles; ``user_id`` None is nobody (anonymous)."""

    user_id: int | None
    login: str = ""
    name: str = ""
    locale: Locale = "zh"
    roles: frozenset[str] = field(default_factory=frozenset)
    department_id: int | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Principal(user_id=None)
