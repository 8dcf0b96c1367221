"""Installing bundles: every field type gets its table, columns, indexes and foreign keys.

Checked by reflecting the database with SQLAlchemy, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.definitions import load_bundle
from engine.issues import ConflictError, EngineError
from engine.storage import system
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.fields import FIELD_TYPES
from forms.install import InstallResult, install_bundle
from forms.records import SYSTEM_ACTOR, RecordsService

pytestmark = pytest.mark.pg

BundleMaker = Callable[..., Path]
PG_ADMIN_URL = os.environ.get("TESSERA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OPTIONS = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]

# Every field type, with the column family it is stored in ("links"/"children": a side table).
EVERY_TYPE: list[tuple[dict[str, Any], str]] = [
    ({"key": "t", "type": "text", "unique": True}, "string(255)"),
    ({"key": "ta", "type": "textarea"}, "text"),
    ({"key": "rt", "type": "rich_text"}, "text"),
    ({"key": "em", "type": "email"}, "string(255)"),
    ({"key": "ph", "type": "phone"}, "string(40)"),
    ({"key": "ur", "type": "url"}, "text"),
    ({"key": "nu", "type": "number", "index": True}, "bigint"),
    ({"key": "de", "type": "number", "decimals": 3}, "decimal"),
    ({"key": "cu", "type": "currency"}, "decimal"),
    ({"key": "pc", "type": "percent"}, "decimal"),
    ({"key": "ra", "type": "rating"}, "integer"),
    ({"key": "bo", "type": "boolean"}, "boolean"),
    ({"key": "da", "type": "date"}, "date"),
    ({"key": "dt", "type": "datetime"}, "datetime"),
    ({"key": "ti", "type": "time"}, "time"),
    ({"key": "se", "type": "select", "options": OPTIONS}, "string(21)"),
    ({"key": "ms", "type": "multi_select", "options": OPTIONS}, "json"),
    ({"key": "us", "type": "user"}, "bigint"),
    ({"key": "mu", "type": "multi_user"}, "links"),
    ({"key": "dp", "type": "department"}, "bigint"),
    ({"key": "re", "type": "relation", "target": "other", "on_delete": "cascade"}, "bigint"),
    ({"key": "mr", "type": "multi_relation", "target": "other"}, "links"),
    ({"key": "me", "type": "relation", "target": "every"}, "bigint"),
    (
        {
            "key": "st",
            "type": "subtable",
            "fields": [
                {"key": "q", "type": "number", "label": "q"},
                {"key": "r", "type": "relation", "target": "other", "label": "r"},
            ],
        },
        "children",
    ),
    ({"key": "an", "type": "autonumber"}, "string(80)"),
    ({"key": "at", "type": "attachment"}, "json"),
    ({"key": "js", "type": "json"}, "json"),
]
EVERY_FORM = {
    "fields": [{"label": field["key"], **field} for field, _ in EVERY_TYPE],
    "unique_together": [["nu", "se"]],
    "indexes": [["da", "bo"]],
    "list": {"sort": [{"field": "cu", "desc": True}]},
}
OTHER_FORM = {"fields": [{"key": "name", "type": "text", "label": "Name"}]}

# (index name, columns, unique) of the main table.
EVERY_INDEXES = {
    ("uq_t__every_t", ("t",), True),
    ("uq_t__every_an", ("an",), True),
    ("uq_t__every_nu_se", ("nu", "se"), True),
    ("ix_t__every_nu", ("nu",), False),
    ("ix_t__every_se", ("se",), False),
    ("ix_t__every_us", ("us",), False),
    ("ix_t__every_dp", ("dp",), False),
    ("ix_t__every_re", ("re",), False),
    ("ix_t__every_me", ("me",), False),
    ("ix_t__every_cu_desc_id", ("cu", "id"), False),
    ("ix_t__every_da_bo", ("da", "bo"), False),
}
# column -> (referred table, ON DELETE)
EVERY_FOREIGN_KEYS = {
    "us": ("tessera_users", "SET NULL"),
    "dp": ("tessera_departments", "SET NULL"),
    "re": ("t__other", "CASCADE"),
    "me": ("t__every", "RESTRICT"),
}
SIDE_TABLES = {
    "t__every__mu": ({"id", "parent_id", "position", "target_id"}, "tessera_users"),
    "t__every__mr": ({"id", "parent_id", "position", "target_id"}, "t__other"),
    "t__every__st": ({"id", "parent_id", "position", "q", "r"}, "t__other"),
}


def write_bundle(root: Path, forms: dict[str, dict[str, Any]], *, app_key: str = "t") -> Path:
    """Write an app bundle with ``forms`` (the module-scoped twin of the ``make_bundle`` fixture)."""
    (root / "forms").mkdir(parents=True)
    app = {"kind": "app", "key": app_key, "schema_version": 1, "label": "Test"}
    (root / "app.json").write_text(json.dumps(app), encoding="utf-8")
    for key, document in forms.items():
        full = {"kind": "form", "key": key, "schema_version": 1, "label": key, **document}
        (root / "forms" / f"{key}.json").write_text(json.dumps(full), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def every(shared_database: Database, tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, Path]:
    """The shared database with the every-type bundle installed (and the bundle's folder)."""
    root = write_bundle(tmp_path_factory.mktemp("every"), {"every": EVERY_FORM, "other": OTHER_FORM})
    result = install(shared_database, root)
    assert result.applied and not result.issues
    return shared_database, root


def install(database: Database, root: Path, *, apply: bool = True) -> InstallResult:
    """Load and install a bundle, failing the test on definition issues."""
    bundle, issues = load_bundle(root)
    assert bundle is not None, [i.render() for i in issues]
    return install_bundle(database, bundle, apply=apply)


def column_family(column_type: Any) -> str:
    """A reflected column type as one of the families of ``EVERY_TYPE``."""
    families: list[tuple[type[Any], str]] = [
        (sa.Boolean, "boolean"),
        (sa.JSON, "json"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Time, "time"),
        (sa.Numeric, "decimal"),
        (sa.Float, "decimal"),  # SQLite keeps decimals as REAL
        (sa.BigInteger, "bigint"),
        (sa.Integer, "integer"),
        (sa.Text, "text"),
    ]
    for kind, family in families:
        if isinstance(column_type, kind):
            return family
    assert isinstance(column_type, sa.String), column_type
    return f"string({column_type.length})"


def reflect(database: Database) -> sa.Inspector:
    """A fresh inspector (its caches must not outlive one check)."""
    return sa.inspect(database.engine)


def indexes(database: Database, table: str) -> set[tuple[str, tuple[str, ...], bool]]:
    """(name, columns, unique) of every index of ``table``."""
    found = reflect(database).get_indexes(table)
    return {(str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"])) for i in found}


def test_the_bundle_covers_every_registered_field_type() -> None:
    nested = {f["type"] for field, _ in EVERY_TYPE for f in field.get("fields", [])}
    assert {field["type"] for field, _ in EVERY_TYPE} | nested == set(FIELD_TYPES)


def test_every_field_type_installs_with_typed_columns(every: tuple[Database, Path]) -> None:
    database, _ = every
    inspector = reflect(database)
    columns = {c["name"]: c for c in inspector.get_columns("t__every")}
    stored = {name: column_family(c["type"]) for name, c in columns.items()}
    expected = {field["key"]: family for field, family in EVERY_TYPE if family not in ("links", "children")}
    assert {k: stored[k] for k in expected} == expected
    system_columns = {"id", "version", "form_version", "created_at", "created_by", "updated_at", "updated_by"}
    assert set(stored) == system_columns | set(expected)
    assert all(columns[k]["nullable"] for k in expected), "form columns are nullable (checked by validation)"
    assert not columns["version"]["nullable"]
    assert inspector.get_pk_constraint("t__every")["constrained_columns"] == ["id"]
    with database.read() as connection:
        f, d = system.forms, system.definitions
        forms = connection.execute(
            sa.select(f.c.key, f.c.table_name, f.c.version).where(f.c.key.in_(["every", "other"]))
        )
        assert set(forms) == {("every", "t__every", 1), ("other", "t__other", 1)}
        definitions = connection.execute(sa.select(d.c.key, d.c.version).where(d.c.key.in_(["every", "other"])))
        assert sorted(definitions) == [("every", 1), ("other", 1)]
        fc = system.form_columns
        query = sa.select(fc.c.column_name, fc.c.state).where(fc.c.table_name == "t__every")
        assert set(connection.execute(query)) == {(key, "active") for key in expected}
    assert {"every", "other"} <= {f.key for f in Catalog(database).forms()}


def test_a_descending_list_sort_gets_an_index_in_that_order(every: tuple[Database, Path]) -> None:
    """Lists sort NULLs last; the index must be stored that way or PostgreSQL sorts instead of scanning."""
    database, _ = every
    with database.engine.connect() as connection:
        if database.dialect == "postgresql":
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_t__every_cu_desc_id'"
            expected = "(cu DESC NULLS LAST, id)"
        else:
            query = "SELECT sql FROM sqlite_master WHERE name = 'ix_t__every_cu_desc_id'"
            expected = "(cu DESC, id)"
        definition = connection.exec_driver_sql(query).scalar_one()
    assert expected in definition.replace('"', "")


def test_every_field_type_gets_its_indexes_and_foreign_keys(every: tuple[Database, Path]) -> None:
    database, _ = every
    inspector = reflect(database)
    assert indexes(database, "t__every") == EVERY_INDEXES
    foreign_keys = {
        fk["constrained_columns"][0]: (fk["referred_table"], fk["options"].get("ondelete"))
        for fk in inspector.get_foreign_keys("t__every")
    }
    assert foreign_keys == EVERY_FOREIGN_KEYS
    for table, (expected_columns, target) in SIDE_TABLES.items():
        assert {c["name"] for c in inspector.get_columns(table)} == expected_columns
        side_keys = {fk["constrained_columns"][0]: fk for fk in inspector.get_foreign_keys(table)}
        assert side_keys["parent_id"]["referred_table"] == "t__every"
        assert side_keys["parent_id"]["options"]["ondelete"] == "CASCADE", table
        reference = "r" if table.endswith("__st") else "target_id"
        assert side_keys[reference]["referred_table"] == target, table
        found = indexes(database, table)
        assert (f"ix_{table}_parent_id", ("parent_id",), False) in found
        if "target_id" in expected_columns:
            assert (f"uq_{table}_parent_id_target_id", ("parent_id", "target_id"), True) in found


def test_installing_the_same_bundle_twice_changes_nothing(
    every: tuple[Database, Path], make_bundle: BundleMaker
) -> None:
    database, root = every
    before = indexes(database, "t__every")
    with database.read() as connection:
        definitions_before = connection.execute(sa.select(sa.func.count()).select_from(system.definitions)).scalar_one()

    again = install(database, root)
    copy = install(database, make_bundle({"every": EVERY_FORM, "other": OTHER_FORM}))

    for result in (again, copy):
        assert result.describe() == ["nothing to change"]
        assert result.changes == [] and result.sequence == [] and not result.issues
    with database.read() as connection:
        definitions = connection.execute(sa.select(sa.func.count()).select_from(system.definitions)).scalar_one()
        assert definitions == definitions_before
        versions = sa.select(system.forms.c.version).where(system.forms.c.key.in_(["every", "other"]))
        assert set(connection.execute(versions)) == {(1,)}
    assert indexes(database, "t__every") == before


def test_planning_without_apply_creates_nothing_then_apply_reports_progress(
    shared_database: Database, make_bundle: BundleMaker
) -> None:
    bundle, _ = load_bundle(make_bundle({"plan_only": OTHER_FORM}))
    assert bundle is not None
    said: list[str] = []

    planned = install_bundle(shared_database, bundle, apply=False, progress=said.append)

    assert not planned.applied
    assert planned.describe() == ["form plan_only: new -> v1", "  create_table    t__plan_only: 1 columns"]
    assert not reflect(shared_database).has_table("t__plan_only")
    with shared_database.read() as connection:
        assert connection.execute(sa.select(system.forms).where(system.forms.c.key == "plan_only")).first() is None
    assert said == ["planning plan_only"]

    applied = install_bundle(shared_database, bundle, apply=True, progress=said.append)

    assert applied.applied and applied.describe() == planned.describe()
    assert said == ["planning plan_only", "planning plan_only", "create_table t__plan_only"]
    assert reflect(shared_database).has_table("t__plan_only")


def test_a_form_key_of_another_app_is_refused(shared_database: Database, make_bundle: BundleMaker) -> None:
    install(shared_database, make_bundle({"taken": OTHER_FORM}, app_key="first"))

    with pytest.raises(EngineError) as caught:
        install(shared_database, make_bundle({"taken": OTHER_FORM}, app_key="second"))

    assert (caught.value.status, caught.value.code) == (409, "form_key_taken")
    assert "first" in caught.value.message


CYCLE = {
    "a": {
        "fields": [
            {"key": "name", "type": "text", "label": "N"},
            {"key": "b", "type": "relation", "target": "b", "label": "B", "on_delete": "set_null", "unique": True},
        ],
        "unique_together": [["name", "b"]],
        "list": {"sort": [{"field": "b"}]},
    },
    "b": {
        "fields": [
            {"key": "name", "type": "text", "label": "N"},
            {"key": "a", "type": "relation", "target": "a", "label": "A", "on_delete": "cascade"},
            {"key": "many", "type": "multi_relation", "target": "a", "label": "M"},
        ]
    },
}


def test_forms_that_refer_to_each_other_install(shared_database: Database, make_bundle: BundleMaker) -> None:
    result = install(shared_database, make_bundle(CYCLE))

    assert result.applied
    inspector = reflect(shared_database)
    assert {fk["referred_table"] for fk in inspector.get_foreign_keys("t__a")} == {"t__b"}
    assert {fk["referred_table"] for fk in inspector.get_foreign_keys("t__b")} == {"t__a"}
    # The reference that closes the cycle is added after both tables exist, with its indexes.
    assert indexes(shared_database, "t__a") == {
        ("uq_t__a_b", ("b",), True),
        ("uq_t__a_name_b", ("name", "b"), True),
        ("ix_t__a_b_id", ("b", "id"), False),
    }
    assert install(shared_database, make_bundle(CYCLE)).describe() == ["nothing to change"]


def test_references_in_a_cycle_are_enforced(shared_database: Database, make_bundle: BundleMaker) -> None:
    install(shared_database, make_bundle(CYCLE))
    records = RecordsService(database=shared_database, catalog=Catalog(shared_database))
    a = records.create("a", {"name": "a1"}, actor=SYSTEM_ACTOR)
    b = records.create("b", {"name": "b1", "a": a["id"], "many": [a["id"]]}, actor=SYSTEM_ACTOR)
    a = records.update("a", a["id"], {"b": b["id"]}, version=1, actor=SYSTEM_ACTOR)
    assert a["b"] == b["id"]

    with pytest.raises(ConflictError) as caught:
        records.create("a", {"name": "a2", "b": b["id"]}, actor=SYSTEM_ACTOR)
    assert [(i.field, i.code) for i in caught.value.issues] == [("b", "unique")]

    records.delete("b", b["id"], version=None, actor=SYSTEM_ACTOR)
    assert records.get("a", a["id"], actor=SYSTEM_ACTOR)["b"] is None  # set_null
    b2 = records.create("b", {"name": "b2", "a": a["id"]}, actor=SYSTEM_ACTOR)
    records.delete("a", a["id"], version=None, actor=SYSTEM_ACTOR)
    with pytest.raises(EngineError) as missing:
        records.get("b", b2["id"], actor=SYSTEM_ACTOR)  # cascade
    assert missing.value.status == 404


SELF = {
    "node": {
        "fields": [
            {"key": "name", "type": "text", "label": "N"},
            {"key": "parent", "type": "relation", "target": "node", "label": "P", "on_delete": "cascade"},
            {"key": "keeper", "type": "relation", "target": "node", "label": "K", "on_delete": "restrict"},
            {"key": "buddy", "type": "relation", "target": "node", "label": "B", "on_delete": "set_null"},
            {"key": "peers", "type": "multi_relation", "target": "node", "label": "Peers"},
        ]
    }
}


def test_self_relations_install_and_follow_their_on_delete(shared_database: Database, make_bundle: BundleMaker) -> None:
    result = install(shared_database, make_bundle(SELF))
    assert result.describe() == [
        "form node: new -> v1",
        "  create_table    t__node: 4 columns",
        "  create_table    t__node__peers: 1 columns",
    ]
    foreign_keys = {
        fk["constrained_columns"][0]: (fk["referred_table"], fk["options"].get("ondelete"))
        for fk in reflect(shared_database).get_foreign_keys("t__node")
    }
    assert foreign_keys == {
        "parent": ("t__node", "CASCADE"),
        "keeper": ("t__node", "RESTRICT"),
        "buddy": ("t__node", "SET NULL"),
    }
    records = RecordsService(database=shared_database, catalog=Catalog(shared_database))
    root = records.create("node", {"name": "root"}, actor=SYSTEM_ACTOR)
    child = records.create("node", {"name": "child", "parent": root["id"]}, actor=SYSTEM_ACTOR)
    grandchild = records.create("node", {"name": "gc", "parent": child["id"]}, actor=SYSTEM_ACTOR)
    kept = records.create("node", {"name": "kept"}, actor=SYSTEM_ACTOR)
    friend = records.create(
        "node",
        {"name": "friend", "buddy": child["id"], "keeper": kept["id"], "peers": [root["id"], child["id"]]},
        actor=SYSTEM_ACTOR,
    )
    itself = records.create("node", {"name": "me"}, actor=SYSTEM_ACTOR)
    itself = records.update("node", itself["id"], {"parent": itself["id"]}, version=1, actor=SYSTEM_ACTOR)
    assert itself["parent"] == itself["id"]

    with pytest.raises(ConflictError) as caught:
        records.delete("node", kept["id"], version=None, actor=SYSTEM_ACTOR)
    assert caught.value.code == "still_referenced"
    records.delete("node", root["id"], version=None, actor=SYSTEM_ACTOR)

    left = {r["name"] for r in _all(records, "node")}
    assert left == {"friend", "me", "kept"}, "the whole tree under root went, cascading"
    friend = records.get("node", friend["id"], actor=SYSTEM_ACTOR)
    assert (friend["buddy"], friend["peers"]) == (None, [])
    assert grandchild["id"] not in {r["id"] for r in _all(records, "node")}


def _all(records: RecordsService, form: str) -> list[dict[str, Any]]:
    runtime = records.catalog.form(form)
    with records.database.read() as connection:
        ids = connection.execute(sa.select(runtime.table.c.id)).scalars().all()
    return [records.get(form, i, actor=SYSTEM_ACTOR) for i in ids]
