"""The baseline of bench/create_http.py: a bare FastAPI + SQLAlchemy app with one insert endpoint.

It stores the same row as Tessera's ``deal`` form (bench/create_http.py) in a hand-made
SQLite table with the same columns and indexes, the same connection pragmas (WAL,
foreign keys, synchronous=NORMAL), one transaction per request, and answers the new id.
The body is declared as a plain pydantic model. By default the endpoint is a plain ``def``
(FastAPI runs it in its thread pool), as a FastAPI developer writes blocking SQLAlchemy code;
Tessera's route likewise runs its database work in the thread pool. With
``BENCH_BASELINE_MODE=inline`` the same endpoint is an ``async def`` that blocks the event loop
for the insert (no thread hop at all): the cheapest possible server, for comparison.

Run: BENCH_BASELINE_DB=sqlite:///path.db python -m uvicorn baseline_app:app --app-dir bench --port 8001
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import event

DB_URL = os.environ.get("BENCH_BASELINE_DB", "sqlite:///baseline.db")
MODE = os.environ.get("BENCH_BASELINE_MODE", "thread")

metadata = sa.MetaData()
deals = sa.Table(
    "deal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("form_version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.BigInteger),
    sa.Column("deal_no", sa.String(80)),
    sa.Column("name", sa.String(200)),
    sa.Column("stage", sa.String(29)),
    sa.Column("amount", sa.Float),
    sa.Column("probability", sa.Float),
    sa.Column("expected_close", sa.Date),
    sa.Column("quantity", sa.BigInteger),
    sa.Column("priority", sa.Boolean),
    sa.Column("contact_email", sa.String(255)),
    sa.Column("tags", sa.JSON),
    sa.Column("notes", sa.Text),
    sa.Index("uq_deal_deal_no", "deal_no", unique=True),
    sa.Index("uq_deal_name", "name", unique=True),
    sa.Index("ix_deal_stage", "stage"),
)

engine = sa.create_engine(DB_URL, connect_args={"check_same_thread": False, "timeout": 30})


@event.listens_for(engine, "connect")
def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


metadata.create_all(engine)
with engine.connect() as _connection:
    _numbers = itertools.count(int(_connection.execute(sa.select(sa.func.count()).select_from(deals)).scalar_one()) + 1)


class DealIn(BaseModel):
    """The request body."""

    model_config = ConfigDict(extra="forbid")

    name: str
    stage: Literal["lead", "qualified", "proposal", "won", "lost"]
    amount: float | None = None
    probability: float | None = None
    expected_close: dt.date | None = None
    quantity: int | None = None
    priority: bool | None = None
    contact_email: str | None = None
    tags: list[str] | None = None
    notes: str | None = None


app = FastAPI(title="baseline")


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    """Readiness probe."""
    return {"ok": True}


def create_deal(body: DealIn) -> JSONResponse:
    """Insert one row in its own transaction and answer its id."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    row = {
        **body.model_dump(exclude_unset=True),
        "deal_no": f"D-{now.year:04d}-{next(_numbers):05d}",
        "version": 1,
        "form_version": 1,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with engine.begin() as connection:
            new_id = connection.execute(sa.insert(deals).values(row).returning(deals.c.id)).scalar_one()
    except sa.exc.IntegrityError:
        return JSONResponse({"ok": False, "error": "conflict"}, status_code=409)
    return JSONResponse({"ok": True, "id": new_id}, status_code=201)


async def create_deal_inline(body: DealIn) -> JSONResponse:
    """The same, run on the event loop (``BENCH_BASELINE_MODE=inline``)."""
    return create_deal(body)


app.post("/deals", status_code=201)(create_deal_inline if MODE == "inline" else create_deal)
