"""Rendering auto-number patterns such as ``KA-{yyyy}-{0000}``."""

from __future__ import annotations

import datetime as dt

from forms.fields.other import AUTONUMBER_TOKEN


def period_of(pattern: str, today: dt.date) -> str:
    """Return the counter's period key: the rendered date tokens (empty when there are none)."""
    parts = [_date_token(token, today) for token in AUTONUMBER_TOKEN.findall(pattern) if not token.startswith("0")]
    return "-".join(parts)


def render(pattern: str, today: dt.date, counter: int) -> str:
    """Render ``pattern`` for ``today`` with ``counter`` padded to the width of its zeros."""

    def replace(match: object) -> str:
        token = match.group(1)  # type: ignore[attr-defined]
        if token.startswith("0"):
            return str(counter).zfill(len(token))
        return _date_token(token, today)

    return AUTONUMBER_TOKEN.sub(replace, pattern)


def _date_token(token: str, today: dt.date) -> str:
    return {
        "yyyy": f"{today.year:04d}",
        "yy": f"{today.year % 100:02d}",
        "MM": f"{today.month:02d}",
        "dd": f"{today.day:02d}",
    }[token]
