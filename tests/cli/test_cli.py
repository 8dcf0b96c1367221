"""The ``tessera`` console script, run as a subprocess the way a person runs it.

Every run is checked for what a user must never see: a Python traceback. Independent runs go
through a small thread pool, because each start of the script costs about a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

import forms.definition  # noqa: F401 - registers the form kind
from engine.storage.database import Database
from engine.storage.schema_version import VERSION_TABLE, ensure_current, head_revision
from forms.catalog import Catalog
from forms.records import Actor, RecordsService
from web.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "definitions"
KAM_STARTER = REPO / "templates" / "kam_starter"
UNREACHABLE = "postgresql://postgres:s3cret@127.0.0.1:1/nowhere"

BundleMaker = Callable[..., Path]


def _script() -> str:
    """The console script of this environment (the one next to this Python, else on PATH)."""
    beside = Path(sys.executable).parent / "tessera"
    if beside.is_file():
        return str(beside)
    found = shutil.which("tessera")
    assert found, "the tessera console script is not installed"
    return found


TESSERA = _script()


def _environment() -> dict[str, str]:
    """This environment without a default database, with a fixed width for argparse's help text."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TESSERA_FILES_DIR")}
    return {**env, "COLUMNS": "200"}


def tessera(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``tessera args...`` and return what it did; it must never print a traceback."""
    env = _environment()
    result = subprocess.run(
        [TESSERA, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=False
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def tessera_all(runs: Sequence[Sequence[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Run several independent commands at once."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda args: tessera(*args), runs))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- help and usage ----------------------------------------------------------------------------

HELP = {
    "serve": ("run the web server", ["--host", "--port", "--db"]),
    "validate": ("check app bundles and definition files", ["paths", "--db"]),
    "schema": ("print the JSON Schema of definitions", ["kind", "--db"]),
    "install": ("install or upgrade an app bundle", ["path", "--db"]),
    "migrate": ("upgrade engine tables; plan or apply a bundle's storage changes", ["path", "--plan", "--apply"]),
    "demo": ("install the KAM starter with demo data", ["--seed", "--db"]),
    "recompute": ("recompute formula fields (run daily for TODAY()-based ones)", ["--all", "--db"]),
    "users": (
        "add, list, disable or enable users; set passwords, roles and API tokens",
        ["add", "list", "disable", "enable", "passwd", "roles", "token", "tokens", "revoke-token"],
    ),
    "roles": ("list the installed roles, or show one with the users who hold it", ["list", "show"]),
    "access": ("explain which role and rule grant or deny a user's access", ["explain"]),
}


def _commands() -> set[str]:
    """The sub-commands the parser knows (argparse keeps them on a private action)."""
    actions = build_parser()._actions
    return {name for action in actions if isinstance(action, argparse._SubParsersAction) for name in action.choices}


def test_every_command_has_help() -> None:
    assert _commands() == set(HELP), "a new command needs a row in HELP"
    runs = tessera_all([["--help"], *([command, "--help"] for command in HELP)])
    top = runs[0]
    assert top.returncode == 0 and top.stdout.startswith("usage: tessera")
    for command, (description, _) in HELP.items():
        assert re.search(rf"^\s+{command}\s+{re.escape(description)}", top.stdout, re.MULTILINE), command
    for run, (command, (description, options)) in zip(runs[1:], HELP.items(), strict=True):
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith(f"usage: tessera {command}")
        assert description in run.stdout
        assert all(option in run.stdout for option in options), (command, run.stdout)
        assert run.stderr == ""


USAGE_ERRORS = [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["migrate", "--plan", "--apply"], "argument --apply: not allowed with argument --plan"),
    (["validate"], "the following arguments are required: paths"),
    (["serve", "--port", "eighty"], "argument --port: invalid int value: 'eighty'"),
]


def test_usage_errors_exit_2_with_the_usage() -> None:
    runs = tessera_all([args for args, _ in USAGE_ERRORS])
    for (args, message), run in zip(USAGE_ERRORS, runs, strict=True):
        assert run.returncode == 2, args
        assert run.stderr.startswith("usage: tessera"), args
        assert message in run.stderr, (args, run.stderr)


# --- validate ------------------------------------------------------------------------------------

ACCOUNT = {
    "label": {"zh": "客户", "en": "Account"},
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {"key": "tier", "type": "select", "label": "Tier", "options": [{"value": "a", "label": "A"}]},
    ],
}


def test_validate_accepts_good_bundles(make_bundle: BundleMaker) -> None:
    bundle = make_bundle({"account": ACCOUNT})
    good = GOLDEN / "good_bundle"
    run = tessera("validate", str(bundle), str(KAM_STARTER), str(good))
    assert run.returncode == 0, run.stderr
    definitions = 2 + sum(1 for _ in KAM_STARTER.rglob("*.json")) + sum(1 for _ in good.rglob("*.json"))
    assert run.stdout == f"ok: 3 path(s), {definitions} definition(s) in 3 bundle(s)\n"
    assert run.stderr == ""


ISSUE_LINE = re.compile(
    r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+) (?P<pointer>/\S*) (?P<code>[a-z_]+) (?P<text>.+)$"
)
EXPECTED_LINE = re.compile(r"^(?:(?P<file>\S+) )?(?P<at>\d+:\d+) (?P<pointer>\S+) (?P<code>\S+)(?: (?P<hint>\(.+\)))?$")


def _golden_cases() -> list[str]:
    """The golden bad documents and bundles, as paths relative to their folder."""
    stems = sorted(path.stem for path in GOLDEN.glob("*.expected"))
    return [stem if (GOLDEN / stem).is_dir() else f"{stem}.json" for stem in stems]


def _expected_lines(case: str) -> list[tuple[str, re.Match[str]]]:
    """(file shown by the CLI, parsed golden line) for each issue of one golden case."""
    text = (GOLDEN / case).with_suffix(".expected").read_text(encoding="utf-8")
    result = []
    for line in _lines(text):
        match = EXPECTED_LINE.match(line)
        assert match, line
        shown = f"{case}/{match['file']}" if match["file"] else case
        result.append((shown, match))
    return result


def test_validate_prints_every_golden_issue_on_one_line() -> None:
    cases = _golden_cases()
    run = tessera("validate", *cases, cwd=GOLDEN)
    assert run.returncode == 1
    assert run.stdout == ""
    *lines, summary = _lines(run.stderr)
    expected = [item for case in cases for item in _expected_lines(case)]
    assert summary == f"{len(expected)} problem(s) found"
    assert len(lines) == len(expected), run.stderr
    for line, (file, golden) in zip(lines, expected, strict=True):
        issue = ISSUE_LINE.match(line)
        assert issue, f"not 'file:line:col pointer code message (hint)': {line}"
        assert (issue["file"], f"{issue['line']}:{issue['col']}", issue["pointer"], issue["code"]) == (
            file,
            golden["at"],
            golden["pointer"],
            golden["code"],
        ), line
        if golden["hint"]:
            assert line.endswith(f" {golden['hint']}"), line


BAD_FILES = {
    "syntax.json": (
        '{"kind": "form", "key": "x", "label": "X",\n "fields": [}',
        [r"^syntax\.json:2:13 / json_syntax JSON syntax error: .+"],
    ),
    "empty.json": ("", [r"^empty\.json:1:1 / json_syntax "]),
    "array.json": ("\ufeff[1, 2]", [r"^array\.json:1:1 / not_an_object "]),
    "typo.json": (
        '{"kind": "form", "key": "x", "label": "X", "fields": [{"key": "a", "type": "txt", "label": "A"}]}',
        [r"^typo\.json:1:\d+ /fields/0/type unknown_type .+ \(did you mean 'text'\?\)$"],
    ),
    "binary.json": (b"\xff\xfe\x00garbage", [r"^binary\.json(:\d+:\d+)? / [a-z_]+ "]),
}


def test_validate_reports_each_bad_file_by_line_and_column(tmp_path: Path) -> None:
    for name, (content, _) in BAD_FILES.items():
        path = tmp_path / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    run = tessera("validate", *BAD_FILES, "missing.json", "folder", cwd=tmp_path)
    assert run.returncode == 1
    *lines, summary = _lines(run.stderr)
    assert summary == f"{len(lines)} problem(s) found"
    for name, (_, patterns) in BAD_FILES.items():
        mine = [line for line in lines if line.startswith(name)]
        assert len(mine) == len(patterns), (name, lines)
        for line, pattern in zip(mine, patterns, strict=True):
            assert re.match(pattern, line), line
    assert any(line.startswith("missing.json") for line in lines), lines
    assert any(line.startswith("folder") for line in lines), lines


# --- schema --------------------------------------------------------------------------------------


def test_schema_prints_the_json_schema_of_a_kind() -> None:
    form_run, any_run, unknown = tessera_all([["schema", "form"], ["schema"], ["schema", "from"]])
    assert form_run.returncode == 0, form_run.stderr
    schema = json.loads(form_run.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Tessera form definition"
    validator = Draft202012Validator(schema)
    for path in sorted((KAM_STARTER / "forms").glob("*.json")):
        assert not list(validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))), path
    broken = json.loads((KAM_STARTER / "forms" / "account.json").read_text(encoding="utf-8"))
    broken["fields"][0]["maxlength"] = 5
    assert list(validator.iter_errors(broken)), "an unknown option is not a valid form"

    any_kind = json.loads(any_run.stdout)
    Draft202012Validator.check_schema(any_kind)
    app = json.loads((KAM_STARTER / "app.json").read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(any_kind).iter_errors(app))

    assert unknown.returncode == 1
    assert unknown.stdout == ""
    assert _lines(unknown.stderr)[-1] == "error: unknown kind 'from' (did you mean 'form'?)"


def test_schema_into_a_closed_pipe_stops_quietly() -> None:
    process = subprocess.Popen([TESSERA, "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()  # like `tessera schema | head -c 0`: the reader is gone before the output
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr


# --- install and migrate -------------------------------------------------------------------------

ITEM_V1 = {
    "label": "Item",
    "fields": [
        {"key": "name", "type": "text", "label": "Name", "required": True},
        {"key": "code", "type": "text", "label": "Code"},
    ],
}
ITEM_V2 = {**ITEM_V1, "fields": [*ITEM_V1["fields"], {"key": "note", "type": "textarea", "label": "Note"}]}
ITEM_NUMBER_CODE = {**ITEM_V1, "fields": [ITEM_V1["fields"][0], {"key": "code", "type": "number", "label": "Code"}]}


def _write_form(bundle: Path, form: dict[str, Any]) -> None:
    document = {"kind": "form", "key": "item", "schema_version": 1, **form}
    (bundle / "forms" / "item.json").write_text(json.dumps(document), encoding="utf-8")


def _state(db_url: str) -> dict[str, Any]:
    """What a migration may change: the item table's columns, the form version, stored definitions."""
    database = Database(db_url)
    try:
        with database.read() as connection:
            columns = {c["name"]: str(c["type"]) for c in sa.inspect(connection).get_columns("t__item")}
            version = connection.execute(sa.text("SELECT version FROM tessera_forms WHERE key = 'item'")).scalar()
            definitions = connection.execute(sa.text("SELECT count(*) FROM tessera_definitions")).scalar()
            rows = connection.execute(sa.text("SELECT * FROM t__item ORDER BY id")).mappings().all()
        return {"columns": columns, "version": version, "definitions": definitions, "rows": [dict(row) for row in rows]}
    finally:
        database.dispose()


def _create_items(db_url: str, *values: dict[str, Any]) -> None:
    database = Database(db_url)
    try:
        service = RecordsService(database=database, catalog=Catalog(database))
        for value in values:
            service.create("item", value, actor=Actor())
    finally:
        database.dispose()


def _code_of(db_url: str) -> dict[str, Any]:
    return {row["name"]: row["code"] for row in _state(db_url)["rows"]}


@pytest.mark.pg
def test_migrate_plans_without_changing_anything_then_applies(db_url: str, make_bundle: BundleMaker) -> None:
    bundle = make_bundle({"item": ITEM_V1})
    run = tessera("install", str(bundle), "--db", db_url)
    assert run.returncode == 0, run.stderr
    assert [line.strip() for line in _lines(run.stdout)] == [
        "form item: new -> v1",
        "create_table    t__item: 2 columns",
        "installed",
    ]
    _create_items(db_url, {"name": "a", "code": "A-1"}, {"name": "b"})
    before = _state(db_url)

    _write_form(bundle, ITEM_V2)
    plan = tessera("migrate", str(bundle), "--plan", "--db", db_url)
    assert plan.returncode == 0, plan.stderr
    assert [line.strip() for line in _lines(plan.stdout)] == [
        f"engine tables: up to date ({head_revision()})",
        "form item: v1 -> v2",
        "add_column      t__item: note text",
        "(plan only; run again with --apply to make these changes)",
    ]
    assert _state(db_url) == before, "a plan changes nothing"

    applied = tessera("migrate", str(bundle), "--apply", "--db", db_url)
    assert applied.returncode == 0, applied.stderr
    after = _state(db_url)
    assert set(after["columns"]) == set(before["columns"]) | {"note"}
    assert (after["version"], after["definitions"]) == (2, before["definitions"] + 1)
    assert [{k: v for k, v in row.items() if k != "note"} for row in after["rows"]] == before["rows"], "data kept"

    again = tessera("migrate", str(bundle), "--db", db_url)
    assert "nothing to change" in again.stdout


@pytest.mark.pg
def test_a_migration_that_would_lose_data_is_blocked(db_url: str, make_bundle: BundleMaker) -> None:
    bundle = make_bundle({"item": ITEM_V1})
    assert tessera("install", str(bundle), "--db", db_url).returncode == 0
    _create_items(db_url, {"name": "a", "code": "abc"}, {"name": "b", "code": "12"})
    before = _state(db_url)

    _write_form(bundle, ITEM_NUMBER_CODE)
    run = tessera("migrate", str(bundle), "--apply", "--db", db_url)
    assert run.returncode == 1
    assert "BLOCKED t__item.code: 1 row(s) would not convert" in run.stdout
    assert "(id 1: 'abc')" in run.stdout
    errors = _lines(run.stderr)
    assert any(" type_change_loses_data " in line and "fix or clear those values first" in line for line in errors), (
        errors
    )
    assert errors[-1] == "error: the migration is blocked; nothing was changed"
    assert _state(db_url) == before

    database = Database(db_url)
    try:
        with database.begin() as connection:
            connection.execute(sa.text("UPDATE t__item SET code = '7' WHERE code = 'abc'"))
    finally:
        database.dispose()
    assert tessera("migrate", str(bundle), "--apply", "--db", db_url).returncode == 0
    assert _code_of(db_url) == {"a": 7, "b": 12}, "values converted, none lost"


# --- the database schema and the database connection ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.pg
def test_serve_refuses_an_out_of_date_database_and_names_the_fix(db_url: str) -> None:
    database = Database(db_url)
    try:
        ensure_current(database)
        with database.begin() as connection:
            connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0000'"))
    finally:
        database.dispose()

    serve, plan, apply = tessera_all(
        [
            ["serve", "--db", db_url, "--port", str(_free_port())],
            ["migrate", "--db", db_url],
            ["migrate", "--apply", "--db", db_url],
        ]
    )
    assert serve.returncode == 1
    assert serve.stdout == ""
    error = _lines(serve.stderr)[-1]
    assert "the database schema is out of date" in error
    assert "tessera migrate --apply" in error
    assert _lines(plan.stdout) == [
        f"engine tables: 0000 -> {head_revision()}",
        "(plan only; run again with --apply to make these changes)",
    ]
    assert apply.returncode == 1, "a revision this Tessera does not know cannot be upgraded"
    assert _lines(apply.stderr)[-1] == (
        "error: cannot upgrade the engine tables: Can't locate revision identified by '0000'"
    )


def test_serve_answers_on_a_current_database(db_url: str, tmp_path: Path) -> None:
    port = _free_port()
    database = Database(db_url)
    ensure_current(database)
    database.dispose()
    env = _environment()
    process = subprocess.Popen(
        [TESSERA, "serve", "--db", db_url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "tessera serve did not start"
                time.sleep(0.1)
        assert health.json() == {"ok": True, "database": sa.engine.make_url(db_url).get_backend_name()}
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    assert stdout.startswith(f"Tessera on http://127.0.0.1:{port}/ (database: ")
    assert "Traceback" not in stderr


UNREACHABLE_ERROR = "error: database problem: (psycopg.OperationalError) connection failed: "


def test_a_database_that_cannot_be_reached_is_one_line(make_bundle: BundleMaker) -> None:
    bundle = str(make_bundle({"account": ACCOUNT}))
    cases = [
        (args, UNREACHABLE, UNREACHABLE_ERROR)
        for args in (
            ["install", bundle],
            ["migrate"],
            ["migrate", "--apply"],
            ["migrate", bundle, "--plan"],
            ["serve", "--port", str(_free_port())],
            ["demo"],
        )
    ]
    cases += [
        (["migrate"], "nope://somewhere", "error: database problem: Can't load plugin: sqlalchemy.dialects:nope"),
        (
            ["install", bundle],
            "sqlite:////proc/no-such-dir/t.db",
            "error: [Errno 2] No such file or directory: '/proc/no-such-dir'",
        ),
    ]
    runs = tessera_all([[*args, "--db", db] for args, db, _ in cases])
    for (args, _, error), run in zip(cases, runs, strict=True):
        assert run.returncode == 1, (args, run.stdout, run.stderr)
        errors = [line for line in _lines(run.stderr) if line.startswith("error")]
        assert len(errors) == 1 and errors[0] == _lines(run.stderr)[-1], (args, run.stderr)
        assert errors[0].startswith(error), (args, errors)
        assert "s3cret" not in run.stdout + run.stderr, "the password is never shown"


def test_install_warns_about_a_row_scope_sql_cannot_express(db_url: str, make_bundle: BundleMaker) -> None:
    bundle = make_bundle({"item": ITEM_V1})
    (bundle / "roles").mkdir()
    role = {
        "kind": "role",
        "key": "counter",
        "schema_version": 1,
        "label": "Counter",
        "permissions": [
            {"form": "item", "actions": ["read"], "rows": "LEN(name) > 1"},
            {"form": "item", "actions": ["read"], "rows": 'SUBSTITUTE(name, "a", "b", 2) = "x"'},
        ],
    }
    (bundle / "roles" / "counter.json").write_text(json.dumps(role), encoding="utf-8")
    run = tessera("install", str(bundle), "--db", db_url)
    assert run.returncode == 0, run.stderr
    assert "role counter: new -> v1" in run.stdout
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: /permissions/1/rows: role 'counter':")
    assert warnings[0].endswith("(this permission grants no rows)")
