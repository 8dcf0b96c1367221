"""Alembic environment for the engine's own tables; the connection comes from the caller."""

from alembic import context

from engine.storage.system import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    version_table="tessera_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
