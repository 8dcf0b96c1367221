"""Loading the KAM starter's demo data (reproducible, from the template's generator)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.storage import directory, system
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.records import SYSTEM_ACTOR, RecordsService

Say = Callable[[str], None]


def generate(bundle_root: Path, *, seed: int) -> Any:
    """Import the bundle's ``demo/generate.py`` and run it."""
    root = str(bundle_root.resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module(f"{bundle_root.name}.demo.generate")
    return module.generate(seed=seed)


def load_demo(database: Database, bundle_root: Path, *, seed: int, progress: Say, out: Say) -> bool:
    """Insert users, departments and records in one transaction; skip if demo users exist."""
    with database.read() as connection:
        existing = connection.execute(sa.select(sa.func.count()).select_from(system.users)).scalar_one()
    if existing:
        out("demo data already present; nothing added")
        return False
    progress(f"generating demo data (seed {seed})")
    data = generate(bundle_root, seed=seed)
    catalog = Catalog(database)
    service = RecordsService(database=database, catalog=catalog)
    with database.begin() as connection:
        directory.add_departments(connection, data.departments)
        directory.add_users(connection, data.users)
        directory.sync_sequences(connection, ["tessera_departments", "tessera_users"])
        for form_key, rows in data.records.items():
            progress(f"{form_key}: {len(rows)} records")
            service.insert_many(form_key, rows, actor=SYSTEM_ACTOR, connection=connection)
            runtime = catalog.form(form_key)
            directory.sync_sequences(connection, [runtime.table.name])
    total = sum(len(rows) for rows in data.records.values())
    out(f"demo data: {len(data.users)} users, {total} records in {len(data.records)} forms")
    return True
