"""Cursor encoding and the pieces of record queries that need no database."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from engine.issues import EngineError
from engine.storage import query as q

TABLE = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("k", sa.Integer))


@pytest.mark.parametrize(
    ("values", "decoded"),
    [
        ([1], [1]),
        ([None, 7], [None, 7]),
        (["客户 A", -3], ["客户 A", -3]),
        ([True, False, 2], [True, False, 2]),
        ([dt.date(2024, 2, 29), 1], ["2024-02-29", 1]),
        ([dt.datetime(2024, 1, 2, 3, 4, 5), 9], ["2024-01-02T03:04:05", 9]),
        ([Decimal("100.50"), 3], ["100.50", 3]),
        ([1.5, "a/b+c=d"], [1.5, "a/b+c=d"]),
    ],
)
def test_a_cursor_round_trips_as_plain_json(values: list[Any], decoded: list[Any]) -> None:
    cursor = q.encode_cursor(values)
    assert not set(cursor) & set("=+/"), "URL-safe, no padding"
    assert q.decode_cursor(cursor, len(values)) == decoded


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "count"),
    [
        ("", 1),
        ("!!!", 1),
        ("not a cursor", 1),
        (q.encode_cursor([1, 2]), 1),
        (q.encode_cursor([1]), 2),
        (_b64(json.dumps({"a": 1}).encode()), 1),
        (_b64(b'"text"'), 1),
        (_b64(b"\xff\xfe"), 1),
        (_b64(b"[1,"), 2),
    ],
)
def test_a_bad_cursor_is_a_422_that_says_what_to_do(cursor: str, count: int) -> None:
    with pytest.raises(EngineError) as caught:
        q.decode_cursor(cursor, count)
    assert (caught.value.status, caught.value.code) == (422, "bad_cursor")
    assert "next_cursor" in caught.value.message


def test_an_unknown_operator_is_a_422() -> None:
    condition = q.Condition(q.ColumnRef(TABLE, "k"), "like", 1)
    with pytest.raises(EngineError) as caught:
        q.condition_clause(condition, "sqlite")
    assert (caught.value.status, caught.value.code) == (422, "unknown_operator")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ([], [("id", False)]),
        ([q.SortKey("k")], [("k", False), ("id", False)]),
        ([q.SortKey("k", desc=True)], [("k", True), ("id", False)]),
        ([q.SortKey("id", desc=True)], [("id", True)]),
        ([q.SortKey("id", desc=True), q.SortKey("k")], [("k", False), ("id", True)]),
    ],
)
def test_order_columns_end_with_the_id(sort: list[q.SortKey], expected: list[tuple[str, bool]]) -> None:
    assert [(column.key, desc) for column, desc in q.order_columns(TABLE, sort)] == expected


def test_order_by_puts_nulls_last_in_both_directions() -> None:
    terms = q.order_by([(TABLE.c.k, True), (TABLE.c.id, False)])
    sql = [str(term) for term in terms]
    assert sql == ["t.k DESC NULLS LAST", "t.id ASC NULLS LAST"]


def test_nothing_comes_after_a_row_whose_keys_are_all_null() -> None:
    clause = q.keyset_clause([(TABLE.c.k, False)], [None])
    assert str(clause.compile(compile_kwargs={"literal_binds": True})) == "false"
