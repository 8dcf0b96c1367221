"""The ``tessera`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import forms.definition  # noqa: F401 - registers the form kind
from engine.definitions import AppBundle, load_bundle, load_paths
from engine.issues import EngineError, Issue
from engine.storage.database import Database, resolve_url, shown_url

if TYPE_CHECKING:
    from forms.install import InstallResult

REPO_ROOT = Path(__file__).resolve().parents[1]
KAM_STARTER = REPO_ROOT / "templates" / "kam_starter"


class UserError(Exception):
    """A mistake the user can fix: printed without a traceback, exit code 1 or 2."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _progress(text: str) -> None:
    _err(f"  … {text}")


def open_database(args: argparse.Namespace) -> Database:
    """The command's one database (disposed by :func:`main` when the command ends)."""
    database: Database | None = getattr(args, "database", None)
    if database is None:
        database = Database(resolve_url(args.db))
        args.database = database
    return database


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """The ``--db`` option every command that touches the database takes."""
    parser.add_argument("--db", help="database URL (default: $DATABASE_URL, else sqlite:///tessera.db)")


def _print_issues(issues: Sequence[Issue]) -> None:
    for issue in issues:
        _err(issue.render())


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate bundles and documents; exit 1 on any issue."""
    bundles, issues = load_paths(args.paths)
    _print_issues(issues)
    if issues:
        _err(f"{len(issues)} problem(s) found")
        return 1
    count = sum(len(b.definitions) + 1 for b in bundles)
    print(f"ok: {len(args.paths)} path(s), {count} definition(s) in {len(bundles)} bundle(s)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a kind (or of every kind)."""
    from engine.definitions.schema import export_schema

    print(json.dumps(export_schema(args.kind), ensure_ascii=False, indent=2))
    return 0


def _load(path: str) -> AppBundle:
    bundle, issues = load_bundle(path)
    if bundle is None:
        _print_issues(issues)
        raise UserError(f"{path}: {len(issues)} problem(s) in the definitions; nothing was changed")
    return bundle


def _install(args: argparse.Namespace, *, apply: bool, path: str) -> InstallResult:
    from forms.install import install_bundle  # imported here: networkx and alembic slow every command

    database = open_database(args)
    bundle = _load(path)
    _err(f"{'installing' if apply else 'planning'} {path} into {shown_url(database.url)}")
    result = install_bundle(database, bundle, apply=apply, progress=_progress)
    for line in result.describe():
        print(line)
    if result.issues:
        _print_issues(result.issues)
        raise UserError("the migration is blocked; nothing was changed")
    return result


def cmd_install(args: argparse.Namespace) -> int:
    """Install or upgrade an app bundle; warn about row scopes SQL cannot express (they grant nothing)."""
    from forms.access import Policy
    from forms.catalog import Catalog

    _install(args, apply=True, path=args.path)
    print("installed")
    database = open_database(args)
    problems = Policy(database, Catalog(database)).scope_problems()
    for issue in problems:
        _err(f"warning: {issue.pointer}: {issue.message} (this permission grants no rows)")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade the engine tables and, with a bundle path, plan or apply its storage changes."""
    from engine.storage.schema_version import current_revision, head_revision, upgrade

    database = open_database(args)
    current, head = current_revision(database), head_revision()
    if current != head:
        print(f"engine tables: {current or 'none'} -> {head}")
        if args.apply:
            upgrade(database)
            print("engine tables upgraded")
    else:
        print(f"engine tables: up to date ({head})")
    if args.path:
        if current != head and not args.apply:
            return 0
        _install(args, apply=args.apply, path=args.path)
    if not args.apply:
        print("(plan only; run again with --apply to make these changes)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Install the KAM starter with its demo data."""
    from web.demo import load_demo

    _install(args, apply=True, path=str(KAM_STARTER))
    load_demo(open_database(args), KAM_STARTER, seed=args.seed, progress=_progress, out=print)
    print("KAM starter ready: run `tessera serve` and open http://127.0.0.1:8000/")
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    """Recompute stored formula values (daily: the ones that depend on TODAY()/NOW())."""
    from forms.catalog import Catalog
    from forms.recompute import recompute_all
    from forms.rows import utcnow

    database = open_database(args)
    changed = recompute_all(
        database, Catalog(database), clock=utcnow(), only_time_dependent=not args.all, progress=_progress
    )
    for form, count in changed.items():
        print(f"{form}: {count} record(s) changed")
    if not changed:
        print("no formula needed recomputing")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web server with uvicorn."""
    import uvicorn

    from web.app import create_app
    from web.settings import Settings

    settings = Settings.from_environ(database_url=args.db)
    app = create_app(settings)
    print(f"Tessera on http://{args.host}:{args.port}/ (database: {shown_url(settings.database_url)})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="tessera", description="Tessera low-code engine")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        add_db_option(sub)
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", cmd_serve, "run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    add("validate", cmd_validate, "check app bundles and definition files").add_argument("paths", nargs="+")
    add("schema", cmd_schema, "print the JSON Schema of definitions").add_argument("kind", nargs="?")
    add("install", cmd_install, "install or upgrade an app bundle").add_argument("path")
    migrate = add("migrate", cmd_migrate, "upgrade engine tables; plan or apply a bundle's storage changes")
    migrate.add_argument("path", nargs="?")
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--plan", action="store_true", help="print the plan only (the default)")
    mode.add_argument("--apply", action="store_true", help="apply the plan in one transaction")
    recompute = add("recompute", cmd_recompute, "recompute formula fields (run daily for TODAY()-based ones)")
    recompute.add_argument("--all", action="store_true", help="every formula, not only the date-dependent ones")
    demo = add("demo", cmd_demo, "install the KAM starter with demo data")
    demo.add_argument("--seed", type=int, default=20240601)
    from web.cli_identity import add_identity_commands  # it imports this module's helpers

    add_identity_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UserError as error:
        _err(f"error: {error}")
        return error.code
    except EngineError as error:
        _print_issues(error.issues)
        _err(f"error: {error.message}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (``tessera schema | head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:  # e.g. a SQLite file in a folder that cannot be created
        _err(f"error: {error}")
        return 1
    except Exception as error:
        if type(error).__module__.startswith("sqlalchemy"):
            _err(f"error: database problem: {str(error).splitlines()[0]}")
            return 1
        raise
    finally:
        database: Database | None = getattr(args, "database", None)
        if database is not None:
            database.dispose()


if __name__ == "__main__":
    sys.exit(main())
