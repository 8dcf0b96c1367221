"""Excel compatibility: every line of ``golden/excel_functions.txt`` through ``evaluate``.

The expected values were computed by an independent spreadsheet engine (LibreOffice Calc, with the
``formulas`` package as a cross-check), never by Tessera: see ``golden/make_excel_golden.py``. Do not
edit them to match Tessera's output; a deliberate difference from Excel belongs in the docs and
in the generator's source list, not in a silently changed expectation.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from engine.expr import evaluate

GOLDEN = Path(__file__).parent / "golden" / "excel_functions.txt"
ARROW = " -> "


class _Error:
    """An Excel error: Tessera maps every error to blank (``None``)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __repr__(self) -> str:
        return f"error:{self.code}"


def _expected(text: str) -> Any:
    if text.startswith("error:"):
        return _Error(text.removeprefix("error:"))
    if text.startswith("date:"):
        return dt.date.fromisoformat(text.removeprefix("date:"))
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text.startswith('"'):
        value = json.loads(text)
        assert isinstance(value, str)
        return value
    return float(text)


def _golden_lines() -> list[Any]:
    params = []
    for number, raw in enumerate(GOLDEN.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        formula, arrow, expected = line.partition(ARROW)
        assert arrow, f"{GOLDEN.name}:{number}: no '{ARROW.strip()}' in {line!r}"
        params.append(pytest.param(formula, _expected(expected), id=f"L{number}:{formula}"))
    return params


GOLDEN_LINES = _golden_lines()


def test_golden_file_is_big_enough() -> None:
    assert len(GOLDEN_LINES) >= 250


@pytest.mark.parametrize(("formula", "expected"), GOLDEN_LINES)
def test_excel_golden(formula: str, expected: Any) -> None:
    result = evaluate(formula)
    if isinstance(expected, _Error):
        assert result is None, f"{formula}: Excel gives {expected!r}, so Tessera should give blank, got {result!r}"
    elif isinstance(expected, bool):
        assert result is expected, f"{formula}: expected {expected}, got {result!r}"
    elif isinstance(expected, float):
        is_number = isinstance(result, int | float) and not isinstance(result, bool)
        assert is_number, f"{formula}: expected the number {expected!r}, got {result!r}"
        # the golden numbers carry 12 significant digits; abs_tol only matters next to zero
        assert math.isclose(result, expected, rel_tol=1e-9, abs_tol=1e-12), f"{formula}: {result!r} != {expected!r}"
    elif isinstance(expected, dt.date):
        assert type(result) is dt.date, f"{formula}: expected the date {expected}, got {result!r}"
        assert result == expected
    else:
        assert isinstance(result, str), f"{formula}: expected the text {expected!r}, got {result!r}"
        assert result == expected
