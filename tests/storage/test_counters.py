"""Gap-free counters: one sequence per (form, field, period), returned on rollback."""

from __future__ import annotations

import pytest

from engine.storage.counters import next_value
from engine.storage.database import Database

pytestmark = pytest.mark.pg


def test_each_form_field_and_period_counts_on_its_own(database: Database) -> None:
    calls = [
        (("acc", "no", ""), 1),
        (("acc", "no", ""), 2),
        (("acc", "no", "2024"), 1),
        (("acc", "other", ""), 1),
        (("con", "no", ""), 1),
        (("acc", "no", ""), 3),
        (("acc", "no", "2024"), 2),
    ]
    with database.begin() as connection:
        got = [next_value(connection, form=f, field=k, period=p) for (f, k, p), _ in calls]
    assert got == [expected for _, expected in calls]


def test_a_rolled_back_number_is_drawn_again(database: Database) -> None:
    with database.begin() as connection:
        assert next_value(connection, form="acc", field="no", period="") == 1
    with database.begin() as connection:
        assert next_value(connection, form="acc", field="no", period="") == 2
        connection.rollback()
    with database.begin() as connection:  # the first draw of a new period is given back too
        assert next_value(connection, form="acc", field="no", period="x") == 1
        connection.rollback()
    with database.begin() as connection:
        assert next_value(connection, form="acc", field="no", period="") == 2
        assert next_value(connection, form="acc", field="no", period="x") == 1
