"""App bundles: a folder with ``app.json`` and one definition document per ``*.json`` file.

Layout (any sub-folders are fine; the ``kind`` inside a file decides what it is)::

    my_app/
      app.json            kind: app
      forms/account.json  kind: form
      flows/...           kind: flow (later issues)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.definitions.app import AppDefinition
from engine.definitions.base import Definition
from engine.definitions.document import DocumentResult, load_document, locate, read_document
from engine.issues import Issue
from engine.jsonpos import ParsedJson

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


@dataclass
class AppBundle:
    """The definitions of one app, each with the file it came from."""

    app: AppDefinition
    root: Path
    definitions: dict[tuple[str, str], Definition] = field(default_factory=dict)
    sources: dict[tuple[str, str], tuple[str, ParsedJson]] = field(default_factory=dict)
    invalid: set[tuple[str, str]] = field(default_factory=set)

    def keys(self, kind: str) -> list[str]:
        """Return the keys declared for ``kind``, in file order.

        While loading, this includes documents that failed validation (``invalid``), so that
        a reference to a broken form is not reported as a reference to a missing one; use
        :meth:`get` for the definition itself. A loaded bundle has no invalid documents.
        """
        return [key for (k, key) in self.sources if k == kind]

    def get(self, kind: str, key: str) -> Definition | None:
        """Return the definition of ``kind`` called ``key``, if any."""
        return self.definitions.get((kind, key))

    def of_kind(self, kind: str) -> list[Definition]:
        """Return all definitions of ``kind`` in file order."""
        return [d for (k, _), d in self.definitions.items() if k == kind]


def _documents(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*.json") if not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(files, key=lambda p: (p.name != "app.json", str(p)))


def _read(path: Path, display: str) -> tuple[str | None, list[Issue]]:
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            return None, [Issue("too_large", f"file larger than {MAX_DOCUMENT_BYTES} bytes", file=display, pointer="")]
        raw = path.read_bytes()
    except OSError as error:
        return None, [Issue("unreadable", f"cannot read file: {error.strerror}", file=display, pointer="")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line, col = _byte_position(raw, error.start)
        return None, [
            Issue(
                "encoding",
                f"not UTF-8 text: {error.reason}",
                file=display,
                pointer="",
                line=line,
                col=col,
                hint="save the file as UTF-8",
            )
        ]


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """Return line:col (in characters) of a byte offset in text that is UTF-8 up to there."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[line_start:offset].decode("utf-8", "replace")) + 1


def load_bundle(root: Path | str, *, display_root: Path | None = None) -> tuple[AppBundle | None, list[Issue]]:
    """Load every document of the bundle at ``root`` and check them together.

    Every problem of every file is reported: a document that fails validation still
    declares its kind and key (so that references to it are not reported as well), and a
    document whose own checks fail still takes part in the checks across documents.

    Args:
        root: The bundle folder (with ``app.json``).
        display_root: File names in issues are relative to it (default: the working directory).

    Returns:
        The bundle (None when there is any issue) and the issues, sorted by file and position.
    """
    root = Path(root)
    if not (root / "app.json").is_file():
        return None, [
            Issue(
                "no_app",
                f"{root} has no app.json",
                file=str(root),
                hint="an app bundle is a folder with app.json and definition files",
            )
        ]
    base = display_root or Path.cwd()
    issues: list[Issue] = []
    documents: list[_Document] = []
    for path in _documents(root):
        display = _display(path, base)
        text, read_issues = _read(path, display)
        issues += read_issues
        if text is not None:
            result = read_document(text, file=display)
            issues += result.issues
            documents.append(_Document(path == root / "app.json", display, result))
    bundle, app_issues = _bundle_for(root, documents)
    issues += app_issues
    if bundle is not None:
        issues += _collect(bundle, [d for d in documents if not d.is_manifest])
        issues += _bundle_checks(bundle)
    issues.sort(key=lambda issue: (issue.file or "", issue.line or 0, issue.col or 0))
    return (bundle if not issues else None), issues


@dataclass(frozen=True)
class _Document:
    is_manifest: bool
    display: str
    result: DocumentResult


def _bundle_for(root: Path, documents: list[_Document]) -> tuple[AppBundle | None, list[Issue]]:
    """Make the bundle from the top-level ``app.json``; report an ``app`` kind anywhere else."""
    issues: list[Issue] = []
    bundle: AppBundle | None = None
    for document in documents:
        result = document.result
        kind = result.parsed.value.get("kind") if isinstance(result.parsed.value, dict) else None
        if document.is_manifest and isinstance(result.model, AppDefinition):
            bundle = AppBundle(app=result.model, root=root)
            bundle.sources[("app", result.model.key)] = (document.display, result.parsed)
        elif document.is_manifest and isinstance(kind, str) and kind != "app":
            issues.append(
                locate(
                    Issue(
                        "not_an_app",
                        "app.json must be of kind 'app'",
                        pointer="/kind",
                        hint="put forms and other definitions in their own files",
                    ),
                    result.parsed,
                    document.display,
                )
            )
        elif not document.is_manifest and kind == "app":
            issues.append(
                locate(
                    Issue(
                        "misplaced_app",
                        "only the bundle's top-level app.json may be of kind 'app'",
                        pointer="/kind",
                    ),
                    result.parsed,
                    document.display,
                )
            )
    return bundle, issues


def _collect(bundle: AppBundle, documents: list[_Document]) -> list[Issue]:
    """Register each document's definition once; a second file with the same kind and key is an issue."""
    issues: list[Issue] = []
    for document in documents:
        slot = document.result.identity
        if slot is None or slot[0] == "app":
            continue
        if slot in bundle.sources:
            first = bundle.sources[slot][0]
            issues.append(
                locate(
                    Issue(
                        "duplicate_definition",
                        f"{slot[0]} '{slot[1]}' is also defined in {first}",
                        pointer="/key",
                        hint="keys must be unique per kind within an app",
                    ),
                    document.result.parsed,
                    document.display,
                )
            )
            continue
        bundle.sources[slot] = (document.display, document.result.parsed)
        if document.result.model is not None:
            bundle.definitions[slot] = document.result.model
        else:
            bundle.invalid.add(slot)
    return issues


def _bundle_checks(bundle: AppBundle) -> list[Issue]:
    issues: list[Issue] = []
    everything: list[tuple[tuple[str, str], Definition]] = [(("app", bundle.app.key), bundle.app)]
    everything += list(bundle.definitions.items())
    for slot, definition in everything:
        display, parsed = bundle.sources[slot]
        issues += [locate(issue, parsed, display) for issue in definition.bundle_issues(bundle)]
    return issues


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def load_paths(paths: Iterable[Path | str]) -> tuple[list[AppBundle], list[Issue]]:
    """Load bundles (folders) and single documents (files) for ``tessera validate``."""
    bundles: list[AppBundle] = []
    issues: list[Issue] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            bundle, found = load_bundle(path)
            issues += found
            if bundle is not None:
                bundles.append(bundle)
        elif path.is_file():
            display = _display(path, Path.cwd())
            text, read_issues = _read(path, display)
            issues += read_issues
            if text is not None:
                issues += load_document(text, file=display)[2]
        else:
            issues.append(Issue("not_found", f"no such file or folder: {path}", file=str(path)))
    return bundles, issues
