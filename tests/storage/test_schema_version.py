"""The engine's own tables: Alembic's migrations and the live table metadata describe the same schema."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.storage import system
from engine.storage.database import Database
from engine.storage.schema_version import VERSION_TABLE, current_revision, head_revision

pytestmark = pytest.mark.pg


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name == VERSION_TABLE)


def test_migrations_create_exactly_the_tables_the_code_uses(database: Database) -> None:
    """system.py is what queries use, 0001_initial.py what creates the tables: they must not drift."""
    assert current_revision(database) == head_revision()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _ours, "compare_type": True})
        differences = compare_metadata(context, system.metadata)
    assert differences == []
