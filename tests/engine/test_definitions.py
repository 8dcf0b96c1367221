"""Loading definitions: golden files of bad definitions, the good bundle, and robustness.

Golden cases live in ``tests/golden/definitions``: a bad document ``<name>.json`` or a bundle
folder ``<name>/`` (with ``app.json``), next to ``<name>.expected`` with one line per issue
(see the README there). Set ``TESSERA_UPDATE_GOLDEN=1`` to rewrite the expected files, then
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from definition_samples import GOLDEN, GOOD_BUNDLE, JSON_VALUES, good_documents, load_json, mutated_good_documents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forms.definition  # noqa: F401 - registers the "form" kind
from engine.definitions import KINDS, Definition, load_bundle, load_document
from engine.definitions.document import read_document, validate_document
from engine.issues import Issue
from forms.fields import FIELD_TYPES

NEEDS_HINT = frozenset({"unknown_kind", "unknown_type", "unknown_option", "unknown_target", "unknown_field"})
UPDATE = os.environ.get("TESSERA_UPDATE_GOLDEN") == "1"


def golden_cases() -> list[Path]:
    """Every bad document or bundle that has an ``.expected`` file (or all of them when updating)."""
    candidates = [p for p in sorted(GOLDEN.iterdir()) if p.suffix == ".json" or (p / "app.json").is_file()]
    bad = [p for p in candidates if p != GOOD_BUNDLE]
    return bad if UPDATE else [p for p in bad if p.with_suffix(".expected").is_file()]


def load_case(case: Path) -> list[Issue]:
    """Load a golden document or bundle and return its issues."""
    if case.is_dir():
        bundle, issues = load_bundle(case, display_root=case)
        assert bundle is None, "a bundle with issues must not load"
        return issues
    definition, _, issues = load_document(case.read_text(encoding="utf-8"), file=case.name)
    assert definition is None, "a document with issues must not load"
    return issues


def render(issue: Issue, *, bundle: bool) -> str:
    """``[file ]line:col pointer code[ (did you mean ...)]``, the golden line of one issue."""
    text = f"{issue.line}:{issue.col} {issue.pointer or '/'} {issue.code}"
    if bundle:
        text = f"{issue.file} {text}"
    if issue.hint and issue.hint.startswith("did you mean"):
        text += f" ({issue.hint})"
    return text


def test_golden_cases_are_all_checked() -> None:
    names = {case.stem for case in golden_cases()}
    expected = {path.stem for path in GOLDEN.glob("*.expected")}
    assert names == expected
    assert len(names) >= 20


@pytest.mark.parametrize("case", golden_cases(), ids=lambda case: case.stem)
def test_golden_bad_definition(case: Path) -> None:
    issues = load_case(case)
    lines = [render(issue, bundle=case.is_dir()) for issue in issues]
    expected_file = case.with_suffix(".expected")
    if UPDATE:
        expected_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines == expected_file.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("case", golden_cases(), ids=lambda case: case.stem)
def test_golden_issues_are_located_and_hinted(case: Path) -> None:
    issues = load_case(case)
    assert issues
    for issue in issues:
        assert issue.file and issue.pointer is not None, issue
        assert isinstance(issue.line, int) and isinstance(issue.col, int), issue
        assert issue.line >= 1 and issue.col >= 1, issue
        assert issue.message, issue
        if issue.code in NEEDS_HINT:
            assert issue.hint, issue
    assert len({(i.file, i.pointer, i.code) for i in issues}) == len(issues), "no duplicate issues"


def test_golden_files_point_at_the_lines_they_name() -> None:
    """A ``did you mean`` suggestion names something and sits on the line of the bad name."""
    text = (GOLDEN / "unknown_field_type.json").read_text(encoding="utf-8")
    (issue,) = load_document(text, file="unknown_field_type.json")[2]
    assert issue.line is not None and issue.col is not None
    line = text.splitlines()[issue.line - 1]
    assert line[issue.col - 1 :].startswith('"curency"')
    assert issue.hint == "did you mean 'currency'?"


def test_good_bundle_loads_without_issues() -> None:
    bundle, issues = load_bundle(GOOD_BUNDLE, display_root=GOOD_BUNDLE)
    assert issues == []
    assert bundle is not None
    assert bundle.app.key == "orders"
    assert sorted(bundle.keys("form")) == ["customer", "product", "sales_order"]
    assert bundle.invalid == set()


def test_good_bundle_uses_every_field_type() -> None:
    used: set[str] = set()

    def walk(fields: list[dict[str, Any]]) -> None:
        for field in fields:
            used.add(field["type"])
            walk(field.get("fields", []))

    for path in good_documents():
        walk(load_json(path).get("fields", []))
    assert used == set(FIELD_TYPES)


def test_bundle_without_app_json_is_one_issue(tmp_path: Path) -> None:
    (tmp_path / "form.json").write_text('{"kind": "form"}', encoding="utf-8")
    bundle, issues = load_bundle(tmp_path)
    assert bundle is None
    assert [issue.code for issue in issues] == ["no_app"]


@pytest.mark.parametrize(
    ("manifest", "codes"),
    [
        (
            '{"kind": "form", "key": "x", "label": "X", "fields": [{"key": "a", "type": "text", "label": "A"}]}',
            ["not_an_app"],
        ),
        ('{"kind": "form", "key": "x", "label": "X", "fields": []}', ["not_an_app", "too_short"]),
        ('{"kind": "app", "key": "x"}', ["missing"]),
    ],
    ids=["valid_form", "invalid_form", "invalid_app"],
)
def test_bundle_whose_app_json_is_not_an_app_reports_it(tmp_path: Path, manifest: str, codes: list[str]) -> None:
    (tmp_path / "app.json").write_text(manifest, encoding="utf-8")
    bundle, issues = load_bundle(tmp_path, display_root=tmp_path)
    assert bundle is None
    assert [issue.code for issue in issues] == codes


def test_app_kind_outside_the_manifest_is_misplaced(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"kind": "app", "key": "a", "label": "A"}', encoding="utf-8")
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "other.json").write_text('{"kind": "app", "key": "b", "label": "B"}', encoding="utf-8")
    _, issues = load_bundle(tmp_path, display_root=tmp_path)
    assert [(issue.file, issue.code, issue.line, issue.col) for issue in issues] == [
        ("forms/other.json", "misplaced_app", 1, 10)
    ]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([], "not_an_object"),
        ("form", "not_an_object"),
        ({"key": "x"}, "missing_kind"),
        ({"kind": 3}, "missing_kind"),
        ({"kind": "dashbord"}, "unknown_kind"),
    ],
    ids=["list", "string", "no_kind", "kind_not_text", "unknown_kind"],
)
def test_validate_document_rejects_what_is_not_a_definition(value: Any, code: str) -> None:
    definition, issues = validate_document(value)
    assert definition is None
    assert [issue.code for issue in issues] == [code]


def test_local_problems_keep_the_model_for_bundle_checks() -> None:
    text = (GOLDEN / "select_default.json").read_text(encoding="utf-8")
    result = read_document(text, file="select_default.json")
    assert result.model is not None and result.definition is None
    assert result.identity == ("form", "ticket")


def test_invalid_document_still_declares_its_identity() -> None:
    result = read_document('{"kind": "form", "key": "ticket", "label": 1, "fields": []}')
    assert result.model is None
    assert result.identity == ("form", "ticket")


# --- robustness: any JSON-ish document gives issues or a definition, never an exception ---

OPTION_NAMES = sorted(
    {name for model in (*KINDS.values(), *FIELD_TYPES.values()) for name in model.model_fields}
    | {"list", "$schema", "columns", "sort", "section", "value", "options", "target"}
)
OPTIONS = st.dictionaries(st.sampled_from(OPTION_NAMES), JSON_VALUES, max_size=6)


def _with_options(required: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Required members plus random options (which may replace a required one)."""
    return st.tuples(required, OPTIONS).map(lambda pair: {**pair[0], **pair[1]})


FIELD_DICTS = _with_options(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(["a", "b", "id", "Bad Key"]),
            "type": st.sampled_from(sorted(FIELD_TYPES)),
            "label": st.sampled_from(["A", ""]),
        }
    )
)
DOCUMENTS = _with_options(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["form", "app"]),
            "key": st.sampled_from(["x", "Bad", ""]),
            "label": JSON_VALUES,
            "fields": st.lists(FIELD_DICTS | JSON_VALUES, max_size=4),
        }
    )
)


def _issues_or_definition(document: Any) -> None:
    text = json.dumps(document)
    definition, _, issues = load_document(text, file="random.json")
    assert (definition is None) == bool(issues)
    if definition is not None:
        assert isinstance(definition, Definition)
    for issue in issues:
        assert issue.code and issue.message and issue.pointer is not None
        assert issue.line is not None and issue.col is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_random_documents_never_raise(document: dict[str, Any]) -> None:
    _issues_or_definition(document)


@settings(max_examples=300, deadline=None)
@given(mutated_good_documents())
def test_mutated_good_documents_never_raise(document: dict[str, Any]) -> None:
    _issues_or_definition(document)


def test_file_that_is_not_utf8_is_one_located_issue(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"kind": "app", "key": "a", "label": "A"}', encoding="utf-8")
    (tmp_path / "form.json").write_bytes(b'{\n  "label": "caf\xe9"\n}')
    bundle, issues = load_bundle(tmp_path, display_root=tmp_path)
    assert bundle is None
    assert [(i.file, i.code, i.pointer, i.line, i.col) for i in issues] == [("form.json", "encoding", "", 2, 16)]


def test_utf8_bom_and_crlf_files_load(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_bytes('\ufeff{\r\n"kind": "app", "key": "a", "label": "应用"\r\n}'.encode())
    bundle, issues = load_bundle(tmp_path, display_root=tmp_path)
    assert issues == []
    assert bundle is not None and bundle.app.key == "a"


# Copies of ../shared/examples/kam_sketch/forms, so the test does not depend on a sibling folder.
SKETCH_FORMS = Path(__file__).resolve().parents[1] / "golden" / "kam_sketch"
NOT_YET_SUPPORTED = frozenset({"formula", "visible_if", "required_if", "options_from", "rules"})


@pytest.mark.parametrize("name", ["account", "account_financial_monthly", "kam_settings"])
def test_kam_sketch_forms_fail_only_on_what_is_not_supported_yet(name: str) -> None:
    """The sketches use expressions; every other part of them must already load."""
    text = (SKETCH_FORMS / f"{name}.json").read_text(encoding="utf-8")
    for issue in load_document(text, file=f"{name}.json")[2]:
        option = (issue.pointer or "").rsplit("/", 1)[-1]
        assert (
            (issue.code == "unknown_option" and option in NOT_YET_SUPPORTED)
            or (issue.code == "missing" and option == "options")  # a select with options_from
            or issue.code == "unsupported_default"  # "=expression"
        ), issue.render()
