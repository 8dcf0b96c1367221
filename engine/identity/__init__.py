"""Identity: who is acting (users, departments, roles), how they prove it (passwords, sessions,
API tokens), and what they did (the audit log). What they may do is decided in ``forms.access``,
which compiles the role definitions of :mod:`engine.identity.roles` against the installed forms."""

from engine.identity.principal import ANONYMOUS, Principal

__all__ = ["ANONYMOUS", "Principal"]
