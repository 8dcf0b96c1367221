"""Turning :class:`TableSpec` descriptions into SQLAlchemy tables and DDL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect

from engine.storage import system
from engine.storage.spec import ColumnSpec, TableSpec

ID_TYPE = sa.BigInteger().with_variant(sa.Integer, "sqlite")
SYSTEM_COLUMNS = ("id", "version", "form_version", "created_at", "created_by", "updated_at", "updated_by")
CHILD_COLUMNS = ("id", "parent_id", "position")
ON_DELETE = {"restrict": "RESTRICT", "cascade": "CASCADE", "set_null": "SET NULL"}


class SQLiteDecimal(sa.types.TypeDecorator[Decimal]):
    """Decimals on SQLite: stored as REAL (numeric affinity), read back as Decimal of the scale."""

    impl = sa.Float
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> float | None:
        return None if value is None else float(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(f"{value:.{self.scale}f}")


def sql_type(column: ColumnSpec) -> Any:
    """Return the SQLAlchemy type of a column spec."""
    kind = column.kind
    if kind == "string":
        return sa.String(column.length or 255)
    if kind == "decimal":
        scale = column.scale or 0
        return sa.Numeric(column.precision or 20, scale, asdecimal=True).with_variant(SQLiteDecimal(scale), "sqlite")
    if kind == "json":
        # None is SQL NULL (not JSON 'null'), so "is empty" filters find explicitly cleared values.
        return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    simple: dict[str, Any] = {
        "text": sa.Text,
        "integer": sa.Integer,
        "bigint": sa.BigInteger,
        "float": sa.Float,
        "boolean": sa.Boolean,
        "date": sa.Date,
        "datetime": sa.DateTime,
        "time": sa.Time,
    }
    return simple[kind]()


class TableRegistry:
    """The SQLAlchemy tables of one database's forms (one ``MetaData`` per registry)."""

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        system.users.to_metadata(self.metadata)
        system.departments.to_metadata(self.metadata)

    def table(self, name: str) -> sa.Table:
        """Return the registered table ``name``."""
        return self.metadata.tables[name]

    def build(self, spec: TableSpec, *, retired: tuple[ColumnSpec, ...] = ()) -> sa.Table:
        """(Re)build the table for ``spec`` plus any retired columns still present in the database."""
        if spec.name in self.metadata.tables:
            self.metadata.remove(self.metadata.tables[spec.name])
        columns = _head_columns(spec) + [self._column(c) for c in spec.columns + retired]
        # AUTOINCREMENT: SQLite must never hand a deleted record's id to a new one.
        return sa.Table(spec.name, self.metadata, *columns, sqlite_autoincrement=True)

    def _column(self, column: ColumnSpec) -> sa.Column[Any]:
        args: list[Any] = []
        if column.references:
            args.append(sa.ForeignKey(f"{column.references.table}.id", ondelete=ON_DELETE[column.references.on_delete]))
        return sa.Column(column.name, sql_type(column), *args, nullable=True)


def _head_columns(spec: TableSpec) -> list[sa.Column[Any]]:
    if spec.parent is not None:
        return [
            sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
            sa.Column(
                "parent_id",
                sa.BigInteger,
                sa.ForeignKey(f"{spec.parent}.id", ondelete="CASCADE"),
                nullable=False,
                index=True,
            ),
            sa.Column("position", sa.Integer, nullable=False, default=0),
        ]
    return [
        sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.BigInteger),
    ]


def quote(connection: Connection, name: str) -> str:
    """Quote an identifier for the connection's dialect."""
    return connection.dialect.identifier_preparer.quote(name)


def index_column(token: str) -> tuple[str, bool]:
    """Split an index entry such as ``"kav_score desc"`` into (column, descending)."""
    name, _, direction = token.partition(" ")
    return name, direction.lower() == "desc"


def _index_term(connection: Connection, token: str) -> str:
    # Lists sort NULLs last in both directions; the index must store them in that order to serve
    # the sort (PostgreSQL's default is NULLS LAST ascending, SQLite's is NULLs smallest).
    name, desc = index_column(token)
    term = quote(connection, name)
    if desc:
        term += " DESC NULLS LAST" if connection.dialect.name == "postgresql" else " DESC"
    return term


def index_name(table: str, columns: tuple[str, ...], *, unique: bool) -> str:
    """Return a deterministic index name (shortened to fit PostgreSQL's 63 characters)."""
    name = f"{'uq' if unique else 'ix'}_{table}_{'_'.join(c.replace(' ', '_') for c in columns)}"
    if len(name) <= 63:
        return name
    import hashlib

    digest = hashlib.sha1(name.encode()).hexdigest()[:10]  # noqa: S324 - a name, not a secret
    return f"{name[:52]}_{digest}"


def create_index(connection: Connection, table: str, columns: tuple[str, ...], *, unique: bool) -> None:
    """Create an index (unique indexes allow several NULLs on both databases)."""
    cols = ", ".join(_index_term(connection, c) for c in columns)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    name = quote(connection, index_name(table, columns, unique=unique))
    connection.exec_driver_sql(f"CREATE {kind} IF NOT EXISTS {name} ON {quote(connection, table)} ({cols})")


def drop_index(connection: Connection, table: str, columns: tuple[str, ...], *, unique: bool) -> None:
    """Drop an index created by :func:`create_index`, if it exists."""
    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(connection, index_name(table, columns, unique=unique))}")


def add_column(connection: Connection, table: str, column: ColumnSpec) -> None:
    """Add a nullable column (with its foreign key) to an existing table."""
    type_sql = sql_type(column).compile(dialect=connection.dialect)
    sql = f"ALTER TABLE {quote(connection, table)} ADD COLUMN {quote(connection, column.name)} {type_sql}"
    if column.references:
        target = quote(connection, column.references.table)
        sql += f" REFERENCES {target}(id) ON DELETE {ON_DELETE[column.references.on_delete]}"
    connection.exec_driver_sql(sql)


def rename_column(connection: Connection, table: str, old: str, new: str) -> None:
    """Rename a column in place (SQLite >= 3.25 and PostgreSQL)."""
    connection.exec_driver_sql(
        f"ALTER TABLE {quote(connection, table)} RENAME COLUMN {quote(connection, old)} TO {quote(connection, new)}"
    )


def spec_indexes(spec: TableSpec) -> list[tuple[tuple[str, ...], bool]]:
    """Return the (columns, unique) indexes a table spec asks for."""
    found: list[tuple[tuple[str, ...], bool]] = []
    for column in spec.columns:
        if column.unique:
            found.append(((column.name,), True))
        elif column.index or column.references:
            found.append(((column.name,), False))
    found += [(tuple(group), True) for group in spec.unique_together]
    found += [(tuple(group), False) for group in spec.indexes]
    return found
