"""Gap-free counters: incremented inside the caller's transaction, so a rollback returns the number."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.storage import system

_c = system.counters
# Built once: constructing the statement costs more than running it.
_INCREMENT = (
    sa.update(_c)
    .where(_c.c.form_key == sa.bindparam("f"), _c.c.field_key == sa.bindparam("k"), _c.c.period == sa.bindparam("p"))
    .values(value=_c.c.value + 1)
    .returning(_c.c.value)
)


def next_value(connection: Connection, *, form: str, field: str, period: str) -> int:
    """Return the next counter value for (form, field, period), starting at 1.

    The row is locked by the UPDATE until the transaction ends (SQLite serialises writers with
    ``BEGIN IMMEDIATE``), so concurrent creates never share or skip a number.
    """
    c = system.counters
    updated = connection.execute(_INCREMENT, {"f": form, "k": field, "p": period}).scalar()
    if updated is not None:
        return int(updated)
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(c).values(form_key=form, field_key=field, period=period, value=1)
        inserted = connection.execute(statement.on_conflict_do_nothing().returning(c.c.value)).scalar()
        if inserted is not None:
            return 1
        return next_value(connection, form=form, field=field, period=period)
    connection.execute(sa.insert(c).values(form_key=form, field_key=field, period=period, value=1))
    return 1
