"""Attachments: uploads checked against the field's limits, stored on disk or in the database,
then referenced by id from records (which store the file's metadata)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.definitions import load_bundle
from engine.issues import EngineError, NotFoundError, ValidationError
from engine.storage import system
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.files import BlobStore, DatabaseStore, DiskStore, FilesService
from forms.install import install_bundle
from forms.listing import FilterSpec, ListQuery, RecordLister
from forms.records import Actor, RecordsService

pytestmark = pytest.mark.pg

PG_ADMIN_URL = os.environ.get("TESSERA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
LIMITED: dict[str, Any] = {
    "key": "files",
    "type": "attachment",
    "label": "Files",
    "max_size": 10,
    "accept": [".pdf", ".TXT"],
    "max_files": 3,
}
FORMS: dict[str, dict[str, Any]] = {
    "doc": {
        "fields": [
            {"key": "name", "type": "text", "label": "Name"},
            LIMITED,
            {"key": "pics", "type": "attachment", "label": "Pictures"},
        ]
    },
    "other": {"fields": [{"key": "files", "type": "attachment", "label": "Files"}]},
}
EN = Actor(user_id=1, locale="en")


@pytest.fixture(scope="module")
def installed(shared_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Database:
    root = tmp_path_factory.mktemp("bundle")
    (root / "forms").mkdir()
    (root / "app.json").write_text(json.dumps({"kind": "app", "key": "t", "schema_version": 1, "label": "T"}))
    for key, document in FORMS.items():
        full = {"kind": "form", "key": key, "schema_version": 1, "label": key, **document}
        (root / "forms" / f"{key}.json").write_text(json.dumps(full), encoding="utf-8")
    bundle, issues = load_bundle(Path(root))
    assert bundle is not None, issues
    assert install_bundle(shared_database, bundle, apply=True).applied
    return shared_database


@dataclass
class Files:
    """The files and records services on the shared database, with one blob store."""

    database: Database
    service: FilesService
    records: RecordsService
    store: BlobStore

    def upload(self, name: str = "a.pdf", data: bytes = b"%PDF-1", field: str = "files", **kw: Any) -> dict[str, Any]:
        return self.service.upload(
            kw.pop("form", "doc"),
            field,
            name=name,
            content_type="application/pdf",
            data=data,
            locale=kw.pop("locale", "en"),
        )

    def stored_files(self) -> int:
        with self.database.read() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(system.files)).scalar_one())


@pytest.fixture(params=["disk", "db"])
def files(request: pytest.FixtureRequest, installed: Database, tmp_path: Path) -> Files:
    store: BlobStore = DiskStore(tmp_path / "blobs") if request.param == "disk" else DatabaseStore()
    catalog = Catalog(installed)
    service = FilesService(database=installed, catalog=catalog, store=store)
    return Files(installed, service, RecordsService(database=installed, catalog=catalog), store)


@pytest.mark.parametrize(("name", "data"), [("a.pdf", b"%PDF-1"), ("NOTES.txt", b""), ("Scan.PDF", b"0123456789")])
def test_an_upload_within_the_limits_is_stored(files: Files, name: str, data: bytes) -> None:
    meta = files.upload(name, data)

    assert meta == {"id": meta["id"], "name": name, "size": len(data), "content_type": "application/pdf"}
    row, content = files.service.download(meta["id"])
    assert content == data
    assert (row["form_key"], row["field_key"], row["store"]) == ("doc", "files", files.store.name)
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    if isinstance(files.store, DiskStore):
        assert (files.store.root / meta["id"][:2] / meta["id"]).read_bytes() == data


@pytest.mark.parametrize(
    ("locale", "text"), [("en", "file too large: 11 bytes, the limit is 10"), ("zh", "文件过大：11 字节，上限 10 字节")]
)
def test_a_file_over_the_size_limit_is_a_413(files: Files, locale: str, text: str) -> None:
    before = files.stored_files()

    with pytest.raises(EngineError) as caught:
        files.upload("big.pdf", b"x" * 11, locale=locale)

    assert (caught.value.status, caught.value.code, caught.value.message) == (413, "file_too_large", text)
    assert [(i.field, i.code) for i in caught.value.issues] == [("files", "file_too_large")]
    assert files.stored_files() == before


@pytest.mark.parametrize("name", ["evil.exe", "a.pdf.exe", "pdf", "noextension"])
def test_a_file_of_another_type_is_a_422(files: Files, name: str) -> None:
    before = files.stored_files()

    with pytest.raises(ValidationError) as caught:
        files.upload(name)

    assert caught.value.status == 422
    assert [(i.field, i.code) for i in caught.value.issues] == [("files", "file_type")]
    assert caught.value.message == "file type not accepted; allowed: .pdf, .TXT"
    assert files.stored_files() == before


def test_a_field_without_accept_takes_any_type(files: Files) -> None:
    assert files.upload("photo.heic", b"\x00\x01", field="pics")["size"] == 2


def test_a_record_stores_the_metadata_of_its_files(files: Files) -> None:
    first, second = files.upload("a.pdf", b"1"), files.upload("b.txt", b"22")

    record = files.records.create("doc", {"name": "d", "files": [{"id": second["id"]}, {"id": first["id"]}]}, actor=EN)

    assert record["files"] == [second, first]
    assert files.records.get("doc", record["id"], actor=EN)["files"] == [second, first]
    updated = files.records.update("doc", record["id"], {"files": [first]}, version=1, actor=EN)
    assert updated["files"] == [first], "the upload answer itself can be sent back"
    cleared = files.records.update("doc", record["id"], {"files": []}, version=2, actor=EN)
    assert cleared["files"] == []


def test_unknown_files_in_a_record_are_a_422_naming_each(files: Files) -> None:
    mine = files.upload()
    elsewhere = files.upload("c.pdf", form="other")
    other_field = files.upload("d.png", field="pics")

    with pytest.raises(ValidationError) as caught:
        files.records.create(
            "doc",
            {
                "files": [{"id": mine["id"]}, {"id": "nope"}, {"id": elsewhere["id"]}],
                "pics": [{"id": other_field["id"]}],
            },
            actor=EN,
        )

    assert caught.value.status == 422
    assert [(i.field, i.code) for i in caught.value.issues] == [
        ("files[1]", "file_not_found"),
        ("files[2]", "file_not_found"),
    ]
    assert caught.value.issues[0].message == "refers to a file that does not exist: nope"
    with pytest.raises(ValidationError) as zh:
        files.records.create("doc", {"files": [{"id": "nope"}]}, actor=Actor(locale="zh"))
    assert zh.value.issues[0].message == "附件不存在：nope"


@pytest.mark.parametrize(
    ("form", "field", "error", "code"),
    [
        ("doc", "nope", NotFoundError, "unknown_field"),
        ("doc", "name", ValidationError, "invalid"),
        ("nope", "files", NotFoundError, "unknown_form"),
    ],
)
def test_uploads_go_to_attachment_fields_only(
    files: Files, form: str, field: str, error: type[EngineError], code: str
) -> None:
    with pytest.raises(error) as caught:
        files.upload(field=field, form=form)
    assert caught.value.code == code


def test_downloading_an_unknown_file_is_a_404(files: Files) -> None:
    with pytest.raises(NotFoundError) as caught:
        files.service.download("0" * 32)
    assert (caught.value.status, caught.value.code) == (404, "unknown_file")


def test_records_without_files_are_empty_in_filters(files: Files) -> None:
    uploaded = files.upload()
    variants: dict[str, dict[str, Any]] = {
        "none": {},
        "null": {"files": None},
        "cleared": {"files": []},
        "one": {"files": [uploaded]},
    }
    made = {
        label: files.records.create("doc", {"name": label, **values}, actor=EN)["id"]
        for label, values in variants.items()
    }
    runtime = files.service.catalog.form("doc")
    lister = RecordLister(files.service.catalog, files.database.dialect)

    def names(empty: bool) -> set[str]:
        query = ListQuery(filters=(FilterSpec("files", "is_empty", empty),), limit=500)
        with files.database.read() as connection:
            page = lister.page(connection, runtime, query, "en")
        return {item["name"] for item in page.items if item["id"] in made.values()}

    assert names(True) == {"none", "null", "cleared"}
    assert names(False) == {"one"}
