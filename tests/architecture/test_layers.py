"""The layering rules of DESIGN.md, checked on the source: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("engine", "forms", "flows", "reports")
WEB_LIBRARIES = ("fastapi", "starlette", "jinja2")
# package -> packages of this project it must not import
FORBIDDEN = {
    "engine": ("forms", "flows", "reports", "web"),
    "forms": ("flows", "reports", "web"),
    "flows": ("reports", "web"),
    "reports": ("flows", "web"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", CORE)
def test_core_packages_do_not_import_web_libraries(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _sources(package)
        for line, name in _imports(path)
        if name.split(".")[0] in WEB_LIBRARIES
    ]
    assert offenders == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependency_direction(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _sources(package)
        for line, name in _imports(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert offenders == []


def test_sqlalchemy_only_in_storage_and_sql_compilers() -> None:
    # forms: record service and listing build on storage tables; engine/identity: users, sessions, tokens and
    # the audit log are engine tables too (Core queries, bound parameters only)
    allowed = {"engine/storage", "engine/identity", "forms"}
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in ("engine", "flows", "reports")
        for path in _sources(package)
        for line, name in _imports(path)
        if name.split(".")[0] == "sqlalchemy" and not any(str(path.relative_to(ROOT)).startswith(a) for a in allowed)
    ]
    assert offenders == []


def test_no_eval_or_exec_anywhere() -> None:
    offenders = []
    for package in (*CORE, "web"):
        for path in _sources(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_web_routes_always_act_as_the_signed_in_user() -> None:
    """Records are permission-checked when the Actor carries a principal: every Actor the web makes does."""
    offenders = []
    for path in _sources("web"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_actor = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Actor"
            if is_actor and not any(keyword.arg == "principal" for keyword in node.keywords):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    allowed = {"web/demo.py", "web/cli.py", "web/cli_identity.py"}  # trusted in-process commands, not requests
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []
