"""Benchmark: one list page (filter + sort + keyset page) at 1M rows, ours vs hand-written SQL.

The KAM forms are installed on SQLite and the ``account`` table is bulk-loaded with 1,000,000
rows by raw ``executemany`` through SQLAlchemy Core (secondary indexes dropped during the load
and re-created after), each with a ``primary_rm`` (one of ~1,000 users, ~1,000 accounts each)
and 2-4 ``account_team_member`` rows (the RM, sometimes the RM they took over from, experts):
``list_scope_1m.py`` reads the same file. The built file is cached under ``bench/results/``
keyed by a version string, so reruns skip loading.

Compared, on one connection, runs interleaved, median of each:

* ours: ``RecordLister.page(connection, runtime, ListQuery(filters=(tier eq core, region in
  east,south), sort=kav_score desc, limit=50), "en")``, for the first page and for a page 20
  pages deep reached by following ``next_cursor``;
* hand: the same query written by hand (the same columns, same WHERE, ``ORDER BY kav_score
  DESC, id LIMIT 51``; for the deep page the keyset predicate ``kav_score < :k OR (kav_score =
  :k AND id > :id)``) run with ``connection.exec_driver_sql`` and fetched.

Also timed: ours' own SQL text executed raw (separates the SQL shape from the Python work),
and EXPLAIN QUERY PLAN of every query (is the ``kav_score`` index used?). Each page of ours is
checked to hold the same ids as the hand-written one. Rounds stop early (at least 7) when they
would take longer than ``--budget`` seconds per database. Target
(DESIGN.md): ours <= 2x the hand-written time. ``--quick`` uses 50k rows; ``--pg URL`` runs the
same on a temporary PostgreSQL database created from that server's admin URL (dropped after).

Usage: python bench/list_1m.py [--quick] [--rows N] [--runs R] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import hashlib
import itertools
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import KAM_FORMS, RESULTS_DIR, emit, install_bundle_at, kam_account_bundle, say

TARGET = 2.0
DATA_VERSION = "list_1m-data-4"  # bump when the generated rows change (4: primary_rm, users, team rows)
DEEP = 20
BATCH = 20_000
SEED = 20240601
MIN_RUNS = 7
ACCOUNTS_PER_RM = 1_000  # ~1,000 RMs at 1M accounts
EXPERTS_PER_RM = 2  # experts in the team pool per RM (each sits on ~1,000 teams)
FORMER_RM_SHARE = 0.15  # teams still listing the RM the account was handed over from (with an end date)
MEMBER_IDS = 4  # at most 4 team rows per account: account i's rows get ids (i-1)*4+1 .. (i-1)*4+4
EXPERT_SEATS = (
    ("product_solution", "product"),
    ("risk_control", "risk"),
    ("industry_research", "research"),
    ("delivery", "delivery"),
    ("after_sales", "service"),
    ("cross_border", "international"),
)

TIERS = ("strategic", "core", "important", "general")
INDUSTRIES = (
    "manufacturing",
    "wholesale_retail",
    "it",
    "healthcare",
    "new_energy",
    "construction_realestate",
    "logistics",
    "consumer",
    "financial",
    "other",
)
INDUSTRY_WEIGHTS = (22, 14, 12, 8, 7, 9, 8, 9, 6, 5)
REGIONS = ("east", "south", "north", "central", "southwest", "northwest", "northeast", "overseas")
REGION_WEIGHTS = (25, 18, 15, 12, 10, 6, 7, 7)
STATUSES = ("active", "prospect", "suspended", "lost")
STATUS_WEIGHTS = (80, 8, 7, 5)
CITIES = ("上海", "苏州", "杭州", "宁波", "深圳", "广州", "北京", "天津", "武汉", "成都", "重庆", "西安", "沈阳")
TRADES = ("精密制造", "新能源", "医药", "物流", "电子", "食品", "建材", "化工", "纺织", "汽车零部件", "软件")


def _weights(values: tuple[str, ...], weights: tuple[int, ...]) -> tuple[tuple[str, ...], list[float]]:
    total = sum(weights)
    return values, list(itertools.accumulate(w / total for w in weights))


INDUSTRY_PICK = _weights(INDUSTRIES, INDUSTRY_WEIGHTS)
REGION_PICK = _weights(REGIONS, REGION_WEIGHTS)
STATUS_PICK = _weights(STATUSES, STATUS_WEIGHTS)
HEALTH_PICK = _weights(("green", "yellow", "red"), (60, 28, 12))


def _pick(rng: random.Random, pick: tuple[tuple[str, ...], list[float]]) -> str:
    values, cumulative = pick
    return values[min(len(values) - 1, bisect.bisect(cumulative, rng.random()))]


def _tier(kav: float, rng: random.Random) -> str:
    """The tier suggested by KAV (>= 80, 65, 50), overridden to a neighbour for one account in ten."""
    index = 0 if kav >= 80 else 1 if kav >= 65 else 2 if kav >= 50 else 3
    if rng.random() < 0.1:
        index = min(3, max(0, index + (1 if rng.random() < 0.5 else -1)))
    return TIERS[index]


def staff(rows: int) -> tuple[int, int]:
    """How many RMs and experts the data has: user ids 1..rms are RMs, the next ``experts`` ids experts."""
    rms = max(1, rows // ACCOUNTS_PER_RM)
    return rms, rms * EXPERTS_PER_RM


def user_rows(rows: int) -> list[dict[str, Any]]:
    """The ``tessera_users`` rows ``primary_rm`` and the team rows point at."""
    rms, experts = staff(rows)
    created = dt.datetime(2023, 1, 1)
    return [
        {
            "id": n,
            "login": f"rm{n:05d}" if n <= rms else f"expert{n - rms:05d}",
            "name": f"RM {n}" if n <= rms else f"Expert {n - rms}",
            "active": True,
            "locale": "zh",
            "created_at": created,
        }
        for n in range(1, rms + experts + 1)
    ]


def team_batch(start: int, count: int, rows: int, *, form_version: int, sqlite: bool) -> tuple[list[int], list[Any]]:
    """``primary_rm`` of accounts ``start .. start+count-1`` and their 2-4 ``account_team_member`` rows.

    Drawn from their own random stream, so the other account columns are the same as without them.
    A former RM's membership has ended (``end_date`` in the past, so no ``active_user``).
    """
    rng = random.Random(SEED * 7 + start)
    rms, experts = staff(rows)
    created: Any = dt.datetime(2023, 1, 1)
    handover: Any = dt.date(2024, 1, 1)
    if sqlite:
        created, handover = created.isoformat(" ") + ".000000", handover.isoformat()
    primary: list[int] = []
    team: list[dict[str, Any]] = []
    for i in range(start, start + count):
        rm = 1 + int(rng.random() * rms)
        primary.append(rm)
        members: list[tuple[int, str, str, Any]] = [(rm, "rm", "sales", None)]
        size = 2 + int(rng.random() * 3)
        if rms > 1 and rng.random() < FORMER_RM_SHARE:
            former = 1 + int(rng.random() * (rms - 1))
            members.append((former + (former >= rm), "rm", "sales", handover))
        seen = {m[0] for m in members}
        while len(members) < size:
            user = rms + 1 + int(rng.random() * experts)
            if user not in seen:
                seen.add(user)
                role, department = EXPERT_SEATS[int(rng.random() * len(EXPERT_SEATS))]
                members.append((user, role, department, None))
        for k, (user, role, department, end) in enumerate(members):
            team.append(
                {
                    "id": (i - 1) * MEMBER_IDS + k + 1,
                    "version": 1,
                    "form_version": form_version,
                    "created_at": created,
                    "updated_at": created,
                    "account": i,
                    "user": user,
                    "team_role": role,
                    "department": department,
                    "membership_type": "standing",
                    "access_level": "all" if role == "rm" else "read",
                    "sensitive_access": role == "rm",
                    "end_date": end,
                    # the formula fields the KAM roles' scopes read (stored; loaded only if the form has them)
                    "active_user": None if end else user,
                    "sensitive_user": user if role == "rm" and not end else None,
                }
            )
    return primary, team


def generate(
    start: int, count: int, *, form_version: int, sqlite: bool, primary_rm: list[int] | None = None
) -> list[dict[str, Any]]:
    """Rows ``start .. start+count-1`` (deterministic); values in the column's storage form."""
    rng = random.Random(SEED * 31 + start)
    base = dt.datetime(2023, 1, 1)
    first_day = dt.date(2005, 1, 1).toordinal()
    rows = []
    for i in range(start, start + count):
        kav = round(min(100.0, max(0.0, rng.gauss(52, 14))), 1)
        created: Any = base + dt.timedelta(seconds=i * 17)
        since: Any = dt.date.fromordinal(first_day + int(rng.random() * 7300))
        tier_suggested = TIERS[0 if kav >= 80 else 1 if kav >= 65 else 2 if kav >= 50 else 3]
        year = created.year
        if sqlite:  # the text forms SQLAlchemy's SQLite Date/DateTime types store
            created = created.isoformat(" ") + ".000000"
            since = since.isoformat()
        rows.append(
            {
                "id": i,
                "version": 1,
                "form_version": form_version,
                "created_at": created,
                "updated_at": created,
                "account_no": f"KA-{year}-{i:07d}",
                "name": f"{CITIES[int(rng.random() * len(CITIES))]}{TRADES[int(rng.random() * len(TRADES))]}"
                f"有限公司 {i:07d}",
                "industry": _pick(rng, INDUSTRY_PICK),
                "region": _pick(rng, REGION_PICK),
                "tier": _tier(kav, rng),
                "tier_suggested": tier_suggested,
                "kav_score": kav,
                "revenue_12m": round(rng.lognormvariate(15, 1.2), 2),
                "status": _pick(rng, STATUS_PICK),
                "customer_since": since,
                "employees": int(rng.lognormvariate(6, 1.3)),
                "health_color": _pick(rng, HEALTH_PICK),
                "primary_rm": primary_rm[i - start] if primary_rm else None,
            }
        )
    return rows


def cache_key(rows: int) -> str:
    """Version string of a cached database: data version, form files, engine schema revision, size."""
    from engine.storage.schema_version import head_revision

    digest = hashlib.sha256(DATA_VERSION.encode())
    for name in ("account.json", "product_catalog.json", "account_team_member.json"):
        digest.update((KAM_FORMS / name).read_bytes())
    digest.update(head_revision().encode())
    return f"{DATA_VERSION}-{rows}-{digest.hexdigest()[:12]}"


def bulk_load(
    database: Any, table_name: str, rows: int, *, form_version: int, team: tuple[str, int] | None = None
) -> float:
    """Insert ``rows`` accounts with executemany (indexes dropped, then re-created); return seconds.

    Their RMs and experts go into ``tessera_users`` first; with ``team`` (the team member table's
    name and form version) the 2-4 team rows of every account are loaded too (by COPY on PostgreSQL).
    """
    from engine.storage import system

    sqlite = database.is_sqlite
    engine = database.engine
    start = time.perf_counter()
    tables = [table_name] + ([team[0]] if team else [])
    with engine.begin() as connection:
        if connection.execute(sa.select(sa.func.count()).select_from(system.users)).scalar_one():
            raise SystemExit("the benchmark database already has users")
        connection.execute(sa.insert(system.users), user_rows(rows))
        indexes = [index for name in tables for index in _indexes(connection, name)]
        for name, _sql in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        if sqlite:
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
        columns = list(generate(1, 1, form_version=form_version, sqlite=sqlite, primary_rm=[1])[0])
        statement = sa.insert(sa.table(table_name, *(sa.column(c) for c in columns)))
        team_statement = None
        team_columns: list[str] = []
        if team:
            existing = {c["name"] for c in sa.inspect(connection).get_columns(team[0])}
            sample = team_batch(1, 1, rows, form_version=team[1], sqlite=sqlite)[1][0]
            team_columns = [c for c in sample if c in existing]
            team_statement = sa.insert(sa.table(team[0], *(sa.column(c) for c in team_columns)))
        for first, count in _iter_batches(rows):
            primary, members = team_batch(first, count, rows, form_version=team[1] if team else 0, sqlite=sqlite)
            batch = generate(first, count, form_version=form_version, sqlite=sqlite, primary_rm=primary)
            connection.execute(statement, batch)
            if team_statement is not None and sqlite:
                connection.execute(team_statement, [{c: m[c] for c in team_columns} for m in members])
            elif team is not None:
                _copy_rows(connection, team[0], team_columns, members)
            if (first - 1) % (BATCH * 10) == 0:
                say(f"  loaded {first - 1 + count:,} / {rows:,} accounts ({time.perf_counter() - start:.0f}s)")
        say(f"  re-creating {len(indexes)} indexes")
        for _name, sql in indexes:
            connection.exec_driver_sql(sql)
    if not sqlite:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in [*tables, system.users.name]:
                connection.exec_driver_sql(f'VACUUM ANALYZE "{name}"')
    return time.perf_counter() - start


def _copy_rows(connection: Any, table_name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL ``COPY ... FROM STDIN`` of ``rows`` (the ~3M team rows load 10x faster than by executemany)."""
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor, cursor.copy(f'COPY "{table_name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _indexes(connection: Any, table_name: str) -> list[tuple[str, str]]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
        return [(r[0], r[1]) for r in connection.exec_driver_sql(query, (table_name,))]
    query = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint)"
    )
    return [(r[0], r[1]) for r in connection.exec_driver_sql(query, (table_name,))]


def sqlite_database(rows: int) -> tuple[Path, bool, float]:
    """The cached SQLite file for ``rows`` (built if missing); returns (path, built, load seconds)."""
    from engine.storage.database import Database

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{cache_key(rows)}.db"
    if path.exists():
        say(f"using cached {path.relative_to(RESULTS_DIR.parent.parent)}")
        return path, False, 0.0
    building = path.with_suffix(".building")
    for stale in RESULTS_DIR.glob(building.name + "*"):
        stale.unlink()
    say(f"building {path.name}: install the account form, load {rows:,} rows")
    database = Database(f"sqlite:///{building}")
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        install_bundle_at(database, kam_account_bundle(Path(tmp) / "bundle"))
    runtime = _runtime(database)
    team = _runtime(database, "account_team_member")
    seconds = bulk_load(
        database, runtime.table.name, rows, form_version=runtime.version, team=(team.table.name, team.version)
    )
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    for leftover in RESULTS_DIR.glob(building.name + "-*"):
        leftover.unlink()
    building.rename(path)
    say(f"loaded {rows:,} rows in {seconds:.1f}s ({rows / seconds:,.0f} rows/s)")
    return path, True, seconds


def _runtime(database: Any, form: str = "account") -> Any:
    from forms.catalog import Catalog

    return Catalog(database).form(form)


class Capture:
    """Records the SQL text and parameters the engine sends to the driver."""

    def __init__(self, engine: sa.Engine) -> None:
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        sa.event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if self.active:
            self.statements.append((statement, parameters))

    def run(self, func: Callable[[], Any]) -> list[tuple[str, Any]]:
        self.statements, self.active = [], True
        try:
            func()
        finally:
            self.active = False
        return self.statements


def measure(database: Any, runs: int, budget_s: float) -> dict[str, Any]:
    """Time ours vs hand-written for the first and the deep page on ``database``.

    At most ``runs`` rounds, fewer (but at least ``MIN_RUNS``) if they would take over ``budget_s``.
    """
    from engine.storage.query import decode_cursor
    from forms.catalog import Catalog
    from forms.listing import FilterSpec, ListQuery, RecordLister

    catalog = Catalog(database)
    runtime = catalog.form("account")
    lister = RecordLister(catalog, database.dialect)
    table = runtime.table.name
    sqlite = database.is_sqlite
    filters = (FilterSpec("tier", "eq", "core"), FilterSpec("region", "in", "east,south"))
    first_query = ListQuery(filters=filters, sort=(("kav_score", True),), limit=50)
    capture = Capture(database.engine)
    ph = "?" if sqlite else "%s"
    columns = ", ".join(f'"{c.name}"' for c in runtime.table.columns)
    where = f"tier = {ph} AND region IN ({ph}, {ph})"
    hand_first = f"SELECT {columns} FROM {table} WHERE {where} ORDER BY kav_score DESC, id LIMIT 51"
    hand_deep = (
        f"SELECT {columns} FROM {table} WHERE {where} AND (kav_score < {ph} OR (kav_score = {ph} "
        f"AND id > {ph})) ORDER BY kav_score DESC, id LIMIT 51"
    )

    with database.read() as connection:
        total_rows = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
        matching = connection.exec_driver_sql(
            f"SELECT count(*) FROM {table} WHERE {where}", ("core", "east", "south")
        ).scalar_one()
        say(f"{total_rows:,} rows, {matching:,} match the filters; walking {DEEP} pages with next_cursor")
        cursor = None
        for _ in range(DEEP):
            walked = lister.page(
                connection, runtime, ListQuery(filters=filters, sort=first_query.sort, limit=50, cursor=cursor), "en"
            )
            cursor = walked.next_cursor
        if cursor is None:
            raise SystemExit(f"fewer than {DEEP + 1} pages match the filters; use more rows")
        deep_query = ListQuery(filters=filters, sort=first_query.sort, limit=50, cursor=cursor)
        kav, last_id = decode_cursor(cursor, 2)
        kav_param: Any = float(kav) if sqlite else Decimal(str(kav))
        first_params = ("core", "east", "south")
        deep_params = ("core", "east", "south", kav_param, kav_param, last_id)

        def ours_first() -> Any:
            return lister.page(connection, runtime, first_query, "en")

        def ours_deep() -> Any:
            return lister.page(connection, runtime, deep_query, "en")

        def hand(sql: str, params: tuple[Any, ...]) -> Callable[[], Any]:
            return lambda: connection.exec_driver_sql(sql, params).fetchall()

        ours_sql = {
            name: _main_select(capture.run(func), table) for name, func in (("first", ours_first), ("deep", ours_deep))
        }

        def raw(name: str) -> Callable[[], Any]:
            sql, params = ours_sql[name]
            return lambda: connection.exec_driver_sql(sql, params).fetchall()

        subjects = {
            "ours_first": ours_first,
            "hand_first": hand(hand_first, first_params),
            "ours_sql_first": raw("first"),
            "ours_deep": ours_deep,
            "hand_deep": hand(hand_deep, deep_params),
            "ours_sql_deep": raw("deep"),
        }
        _check_same(ours_first(), subjects["hand_first"](), "first")
        _check_same(ours_deep(), subjects["hand_deep"](), "deep")
        plans = {
            "ours_first": _plan(connection, *ours_sql["first"]),
            "hand_first": _plan(connection, hand_first, first_params),
            "ours_deep": _plan(connection, *ours_sql["deep"]),
            "hand_deep": _plan(connection, hand_deep, deep_params),
        }
        for name, plan in plans.items():
            say(f"plan {name}: {' | '.join(plan)}")
        statements = len(capture.run(ours_first))
        start = time.perf_counter()
        for func in subjects.values():  # warm-up, and the cost of one round
            func()
        per_round = time.perf_counter() - start
        runs = max(min(runs, MIN_RUNS), min(runs, int(budget_s / per_round)))
        say(f"timing {runs} interleaved rounds of {len(subjects)} queries (~{per_round * 1000:.0f} ms per round)")
        samples = _interleaved(subjects, runs)

    ms = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    index = next((i for i in _index_names(database, table) if i.endswith("_kav_score")), "kav_score")
    result: dict[str, Any] = {"rows": total_rows, "matching_rows": matching}
    for page in ("first", "deep"):
        ratio = ms[f"ours_{page}"] / ms[f"hand_{page}"]
        result[f"{page}_page"] = {
            "ours_ms": round(ms[f"ours_{page}"], 3),
            "hand_ms": round(ms[f"hand_{page}"], 3),
            "ratio": round(ratio, 3),
            "meets_target": ratio <= TARGET,
            "ours_sql_raw_ms": round(ms[f"ours_sql_{page}"], 3),
            "sql_shape_ratio": round(ms[f"ours_sql_{page}"] / ms[f"hand_{page}"], 3),
            "ours_python_overhead_ms": round(ms[f"ours_{page}"] - ms[f"ours_sql_{page}"], 3),
            "kav_index_used": {
                "ours": _uses(plans[f"ours_{page}"], index),
                "hand": _uses(plans[f"hand_{page}"], index),
            },
            "plan": {"ours": plans[f"ours_{page}"], "hand": plans[f"hand_{page}"]},
        }
        say(
            f"{page} page: ours {ms[f'ours_{page}']:.2f} ms (its SQL alone {ms[f'ours_sql_{page}']:.2f} ms), "
            f"hand {ms[f'hand_{page}']:.2f} ms -> {ratio:.2f}x"
        )
    result["ours_sql"] = {"first": _short(ours_sql["first"][0]), "deep": _short(ours_sql["deep"][0])}
    result["ours_statements_per_page"] = statements
    result["runs"] = runs
    return result


def _main_select(statements: list[tuple[str, Any]], table: str) -> tuple[str, Any]:
    for sql, params in statements:
        if sql.lstrip().upper().startswith("SELECT") and f"FROM {table}" in sql and "ORDER BY" in sql:
            return sql, params
    raise RuntimeError(f"no list query captured among {[s for s, _ in statements]}")


def _short(sql: str) -> str:
    """The SQL with its select list elided (it names every column of the table)."""
    parts = re.split(r"\sFROM\s", sql, maxsplit=1)
    if len(parts) != 2:
        return sql
    return " ".join(f"SELECT <{parts[0].count(',') + 1} columns> FROM {parts[1]}".split())


def _check_same(page: Any, rows: list[Any], name: str) -> None:
    ours = [item["id"] for item in page.items]
    hand = [row[0] for row in rows[:50]]
    if ours != hand or (page.next_cursor is not None) != (len(rows) > 50):
        raise SystemExit(f"{name} page differs: ours {ours[:5]}... hand {hand[:5]}...")


def _plan(connection: Any, sql: str, params: Any) -> list[str]:
    if connection.dialect.name == "sqlite":
        return [str(r[3]) for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
    return [str(r[0]).strip() for r in connection.exec_driver_sql("EXPLAIN " + sql, params)]


def _uses(plan: list[str], index: str) -> bool:
    return any(index in line for line in plan)


def _index_names(database: Any, table: str) -> list[str]:
    with database.engine.connect() as connection:
        return [name for name, _ in _indexes(connection, table)]


def _interleaved(subjects: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    names = list(subjects)
    for run in range(runs):
        shift = run % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            subjects[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def run_sqlite(rows: int, runs: int, budget_s: float) -> dict[str, Any]:
    from engine.storage.database import Database

    path, built, seconds = sqlite_database(rows)
    database = Database(f"sqlite:///{path}")
    try:
        result = measure(database, runs, budget_s)
    finally:
        database.dispose()
    result.update(
        {
            "database": "sqlite",
            "cache_file": path.name,
            "built_now": built,
            "load_seconds": round(seconds, 1) if built else None,
        }
    )
    return result


@contextlib.contextmanager
def pg_database(admin_url: str, rows: int, *, team: bool = False) -> Iterator[tuple[Any, float]]:
    """A temporary PostgreSQL database with the KAM forms and ``rows`` accounts (and their team rows
    with ``team``), dropped on exit; yields ``(database, load seconds)``."""
    from engine.storage.database import Database

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tessera_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    say(f"PostgreSQL: created database {name}")
    database = None
    try:
        database = Database(admin_url.rsplit("/", 1)[0] + f"/{name}")
        with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
            install_bundle_at(database, kam_account_bundle(Path(tmp) / "bundle"))
        runtime = _runtime(database)
        members = _runtime(database, "account_team_member") if team else None
        seconds = bulk_load(
            database,
            runtime.table.name,
            rows,
            form_version=runtime.version,
            team=(members.table.name, members.version) if members else None,
        )
        say(f"PostgreSQL: loaded {rows:,} accounts{' and their teams' if team else ''} in {seconds:.1f}s")
        yield database, seconds
    finally:
        if database is not None:
            database.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        say(f"PostgreSQL: dropped {name}")


def run_pg(admin_url: str, rows: int, runs: int, budget_s: float) -> dict[str, Any]:
    with pg_database(admin_url, rows) as (database, seconds):
        result = measure(database, runs, budget_s)
    result.update(
        {
            "database": "postgresql",
            "load_seconds": round(seconds, 1),
            "note": "the hand-written ORDER BY kav_score DESC means NULLS FIRST on PostgreSQL; "
            "ours asks NULLS LAST. The loaded data has no NULL kav_score, so the pages match.",
        }
    )
    return result


def _headline(result: dict[str, Any]) -> dict[str, Any]:
    first, deep = result["first_page"], result["deep_page"]
    return {
        "ours_us": round(first["ours_ms"] * 1000, 1),
        "baseline_us": round(first["hand_ms"] * 1000, 1),
        "ratio": first["ratio"],
        "deep_ratio": deep["ratio"],
        "worst_ratio": max(first["ratio"], deep["ratio"]),
        "target": f"<= {TARGET:g}x",
        "meets_target": first["meets_target"] and deep["meets_target"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50k rows, fewer runs (smoke run)")
    parser.add_argument("--rows", type=int, help="rows to load (default 1,000,000; quick 50,000)")
    parser.add_argument("--runs", type=int, help="max timed runs of each query (default 30; quick 10)")
    parser.add_argument(
        "--budget", type=float, help="seconds of timing per database (default 30, 15 with --pg; quick 4)"
    )
    parser.add_argument("--pg", metavar="URL", help="also run on PostgreSQL (admin URL; a temp database is made)")
    args = parser.parse_args()
    rows = args.rows or (50_000 if args.quick else 1_000_000)
    runs = args.runs or (10 if args.quick else 30)
    budget = args.budget or (4.0 if args.quick else 15.0 if args.pg else 30.0)

    result: dict[str, Any] = {"bench": "list_1m", "quick": args.quick}
    sqlite = run_sqlite(rows, runs, budget)
    result.update(_headline(sqlite))
    result["sqlite"] = sqlite
    if args.pg:
        pg = run_pg(args.pg, rows, runs, budget)
        result["pg"] = {**_headline(pg), **pg}
        result["meets_target"] = (
            result["meets_target"] and pg["first_page"]["meets_target"] and pg["deep_page"]["meets_target"]
        )
    emit(result)


def _iter_batches(rows: int) -> Iterator[tuple[int, int]]:
    for first in range(1, rows + 1, BATCH):
        yield first, min(BATCH, rows + 1 - first)


if __name__ == "__main__":
    main()
