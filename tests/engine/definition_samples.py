"""Shared test data for definition tests: the good bundle and Hypothesis strategies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from forms.fields import FIELD_TYPES

GOLDEN = Path(__file__).parent.parent / "golden" / "definitions"
GOOD_BUNDLE = GOLDEN / "good_bundle"

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from([*FIELD_TYPES, "(", "[a-", "{0000}", "#ffffff", "09:00", "2024-01-01", "yes", "80"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["key", "type", "label", "value", "zh", "en"]) | st.text(max_size=5), children, max_size=5
        )
    ),
    max_leaves=20,
)


def good_documents() -> list[Path]:
    """Every document of the good bundle."""
    return sorted(GOOD_BUNDLE.rglob("*.json"))


def load_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


@st.composite
def mutated_good_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A document of the good bundle with one value replaced or added somewhere inside it."""
    document: dict[str, Any] = load_json(draw(st.sampled_from(good_documents())))
    target: Any = document
    for _ in range(draw(st.integers(0, 5))):
        if isinstance(target, dict) and target:
            target = target[draw(st.sampled_from(sorted(target)))]
        elif isinstance(target, list) and target:
            target = target[draw(st.integers(0, len(target) - 1))]
    if isinstance(target, dict) and target:
        target[draw(st.sampled_from([*sorted(target), "extra"]))] = draw(JSON_VALUES)
    elif isinstance(target, list):
        target.append(draw(JSON_VALUES))
    return document
