"""Shared types, constants and small helpers of one demo-data generation run.

Nothing here draws random numbers on its own: every generator asks :class:`Streams` for a named
random stream, so adding a draw to one entity does not shift the values of another.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

Row = dict[str, Any]
T = TypeVar("T")

COMPANY_REVENUE_12M = 1_100_000_000
"""The seller's own revenue over the last 12 months (``kam_settings.company_revenue_12m``)."""

HISTORY_MONTHS = 24
KEY_TIERS = ("strategic", "core", "important")
TIER_COUNTS = {"strategic": 8, "core": 20, "important": 32, "general": 40}
PROSPECT_COUNT = 10
"""General accounts that are prospects only (no revenue yet); ecosystem edges point at them."""


class Streams:
    """Factory of independent, reproducible random streams derived from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, name: str) -> random.Random:
        """Return a fresh stream for ``name`` (string seeds are hashed with SHA-512, not ``hash()``)."""
        return random.Random(f"{self.seed}/{name}")


@dataclass(frozen=True)
class Clock:
    """The reference date and the 24 history months (first day of each month, oldest first)."""

    today: date
    periods: tuple[date, ...]

    @classmethod
    def at(cls, today: date) -> Clock:
        """Build the clock whose latest complete month (``m0``) is the month before ``today``."""
        first = add_months(today.replace(day=1), -HISTORY_MONTHS)
        return cls(today=today, periods=tuple(add_months(first, i) for i in range(HISTORY_MONTHS)))

    def days_ago(self, days: float) -> date:
        """Return the date ``days`` days before today."""
        return self.today - timedelta(days=int(days))

    def days_ahead(self, days: float) -> date:
        """Return the date ``days`` days after today."""
        return self.today + timedelta(days=int(days))


@dataclass(frozen=True)
class Staff:
    """Our own people, by role (user ids)."""

    admin: int
    sponsors: tuple[int, ...]
    leads: tuple[int, ...]
    coordinator: int
    rms: tuple[int, ...]
    experts: dict[str, tuple[int, ...]]
    """Team department option key (``product``, ``risk``...) -> expert user ids."""
    lead_of: dict[int, int]
    """RM user id -> team lead user id."""


@dataclass
class Account:
    """One account being generated: its output row plus the hidden parameters that drive the rest."""

    row: Row
    tier: str
    """Planned tier; the scoring step makes the KAV land in this tier's band."""
    target_revenue: float
    """Planned revenue over the last 12 months (0 for prospects)."""
    stage: str = "mature"
    """True enterprise stage; drives the revenue trend."""
    keyword: tuple[str, str] = ("", "")
    """Brand word of the company name and its pinyin."""
    domain: str = ""
    override: bool = False
    """Set to strategic by a logged manual override (KAV 74-79)."""
    held_at_core: bool = False
    """High revenue, held at core by low growth."""
    cross_border_share: float = 0.0
    has_financial_statements: bool = False
    signals: list[str] = field(default_factory=list)
    """Rule codes (R01...O10) whose conditions are planted on this account."""
    months: list[Row] = field(default_factory=list)
    computed: Row = field(default_factory=dict)
    """What the account's formula fields will compute (revenue_12m, scores...): the generator's own
    reckoning, used to choose inputs and tiers; never written to the row (the engine computes them)."""

    @property
    def id(self) -> int:
        """The account row id."""
        return int(self.row["id"])

    @property
    def is_key(self) -> bool:
        """True for strategic, core and important accounts."""
        return self.tier in KEY_TIERS

    @property
    def is_prospect(self) -> bool:
        """True for accounts that have not bought anything yet."""
        return bool(self.row["status"] == "prospect")


def add_months(day: date, months: int) -> date:
    """Return the first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def iso(day: date) -> str:
    """Format a date as ``YYYY-MM-DD``."""
    return day.isoformat()


def iso_datetime(moment: datetime) -> str:
    """Format a datetime as ``YYYY-MM-DDTHH:MM:SS``."""
    return moment.replace(microsecond=0).isoformat()


def excel_round(value: float, digits: int) -> float:
    """``ROUND(value, digits)`` as the formula engine computes it: 15 significant digits, halves away from zero."""
    exact = Decimal(f"{value:.15g}")
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def stored(value: float, digits: int) -> float:
    """A formula result as a field with ``digits`` decimals stores it (halves away from zero)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def add_calendar_months(day: date, months: int) -> date:
    """``EDATE(day, months)``: the same day ``months`` later, clamped to the end of a shorter month."""
    first = add_months(day, months)
    last = (add_months(first, 1) - timedelta(days=1)).day
    return first.replace(day=min(day.day, last))


def whole_years(start: date, end: date) -> int:
    """``DATEDIF(start, end, "Y")``: completed years from ``start`` to ``end``."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def money(value: float) -> float:
    """Round an amount of money to cents."""
    return round(value, 2)


def fraction(value: float) -> float:
    """Round a percent value (stored as a fraction) to 4 decimals."""
    return round(value, 4)


def clip(value: float, low: float, high: float) -> float:
    """Clamp ``value`` into ``[low, high]``."""
    return max(low, min(high, value))


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    """Draw from a log-normal distribution given its median."""
    return median * math.exp(rng.gauss(0.0, sigma))


def poisson(rng: random.Random, lam: float) -> int:
    """Draw from a Poisson distribution (Knuth's method; fine for small ``lam``)."""
    limit, count, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def quota(rng: random.Random, counts: Mapping[str, int]) -> list[str]:
    """Return a shuffled list holding each key ``counts[key]`` times."""
    items = [key for key, count in counts.items() for _ in range(count)]
    rng.shuffle(items)
    return items


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    """Draw one key of ``weights`` with probability proportional to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def sample(rng: random.Random, items: list[T], count: int) -> list[T]:
    """Draw up to ``count`` distinct items, keeping their original order."""
    chosen = set(rng.sample(range(len(items)), min(count, len(items))))
    return [item for index, item in enumerate(items) if index in chosen]
