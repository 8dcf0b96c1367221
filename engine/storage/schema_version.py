"""Creating and upgrading the engine's own tables with Alembic, and checking they are current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from engine.issues import EngineError
from engine.storage.database import Database, shown_url

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "tessera_alembic_version"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """Return the newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(database: Database) -> None:
    """Create or upgrade the engine's tables to the newest revision."""
    config = _config()
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as error:  # e.g. a revision this Tessera does not know (made by a newer one)
            raise EngineError(
                f"cannot upgrade the engine tables: {error}", status=503, code="unknown_revision"
            ) from None
        connection.commit()


def ensure_current(database: Database, *, create_if_empty: bool = True) -> None:
    """Create the tables of an empty database; refuse an out-of-date one with the fix.

    Raises:
        EngineError: the database was made by an older (or newer) Tessera.
    """
    current = current_revision(database)
    head = head_revision()
    if current == head:
        return
    if current is None and create_if_empty:
        upgrade(database)
        return
    raise EngineError(
        f"the database schema is out of date (revision {current or 'none'}, this Tessera needs {head}); "
        f"upgrade it with: tessera migrate --apply --db {shown_url(database.url)}",
        status=503,
        code="database_out_of_date",
    )
