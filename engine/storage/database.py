"""Database connections: SQLite (WAL, foreign keys on) by default, PostgreSQL via URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

DEFAULT_URL = "sqlite:///tessera.db"


def resolve_url(url: str | None, environ: dict[str, str] | None = None) -> str:
    """Return ``url``, else ``DATABASE_URL``, else a SQLite file in the working directory.

    A bare ``postgresql://`` URL is pointed at the psycopg 3 driver.
    """
    env = os.environ if environ is None else environ
    chosen = url or env.get("DATABASE_URL") or DEFAULT_URL
    if chosen.startswith("postgresql://") or chosen.startswith("postgres://"):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def shown_url(url: str) -> str:
    """``url`` with its password masked, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


class Database:
    """An engine plus transaction helpers that behave the same on SQLite and PostgreSQL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = _create_engine(url, echo=echo)
        self.dialect: str = self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        """Whether this is an embedded SQLite database."""
        return self.dialect == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Open a write transaction (``BEGIN IMMEDIATE`` on SQLite, so writers queue, not fail)."""
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Open a read transaction (one consistent snapshot)."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()


def _create_engine(url: str, *, echo: bool) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy/this module issue BEGIN itself, so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine
