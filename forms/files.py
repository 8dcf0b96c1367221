"""Attachments: files stored on disk or in the database behind one small interface."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from engine.i18n import Locale
from engine.issues import EngineError, Issue, NotFoundError, ValidationError
from engine.storage import system
from engine.storage.database import Database
from forms.catalog import Catalog
from forms.fields.other import AttachmentField
from forms.rows import utcnow


class BlobStore(Protocol):
    """Where file bytes live."""

    name: str

    def put(self, file_id: str, data: bytes, database: Database) -> None:
        """Store ``data`` under ``file_id``."""

    def get(self, file_id: str, database: Database) -> bytes:
        """Return the bytes stored under ``file_id``."""


@dataclass
class DiskStore:
    """Files in a folder, two levels of sub-folders by id."""

    root: Path
    name: str = "disk"

    def _path(self, file_id: str) -> Path:
        return self.root / file_id[:2] / file_id

    def put(self, file_id: str, data: bytes, database: Database) -> None:
        path = self._path(file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get(self, file_id: str, database: Database) -> bytes:
        return self._path(file_id).read_bytes()


@dataclass
class DatabaseStore:
    """Files in the ``tessera_blobs`` table (one backup holds everything)."""

    name: str = "db"

    def put(self, file_id: str, data: bytes, database: Database) -> None:
        with database.begin() as connection:
            connection.execute(sa.insert(system.blobs).values(id=file_id, data=data))

    def get(self, file_id: str, database: Database) -> bytes:
        with database.read() as connection:
            return bytes(
                connection.execute(sa.select(system.blobs.c.data).where(system.blobs.c.id == file_id)).scalar_one()
            )


class FilesService:
    """Uploads checked against the attachment field's limits, and downloads."""

    def __init__(self, *, database: Database, catalog: Catalog, store: BlobStore) -> None:
        self.database = database
        self.catalog = catalog
        self.store = store

    def field(self, form_key: str, field_key: str) -> AttachmentField:
        """Return the attachment field, or raise 404/422."""
        runtime = self.catalog.form(form_key)
        field = runtime.definition.field(field_key)
        if field is None:
            raise NotFoundError(f"form '{form_key}' has no field '{field_key}'", code="unknown_field")
        if not isinstance(field, AttachmentField):
            raise ValidationError(
                f"'{field_key}' is not an attachment field",
                [Issue("not_attachment", f"'{field_key}' is not an attachment field", field=field_key)],
            )
        return field

    def upload(
        self, form_key: str, field_key: str, *, name: str, content_type: str, data: bytes, locale: Locale
    ) -> dict[str, Any]:
        """Store one file for an attachment field and return its metadata (use ``id`` in the record)."""
        field = self.field(form_key, field_key)
        if len(data) > field.max_size:
            text = (
                f"文件过大：{len(data)} 字节，上限 {field.max_size} 字节"
                if locale == "zh"
                else f"file too large: {len(data)} bytes, the limit is {field.max_size}"
            )
            raise EngineError(
                text, status=413, code="file_too_large", issues=[Issue("file_too_large", text, field=field_key)]
            )
        if not field.accepts(name):
            allowed = ", ".join(field.accept or [])
            text = (
                f"不支持的文件类型，允许：{allowed}"
                if locale == "zh"
                else f"file type not accepted; allowed: {allowed}"
            )
            raise ValidationError(text, [Issue("file_type", text, field=field_key)])
        file_id = secrets.token_hex(16)
        self.store.put(file_id, data, self.database)
        meta = {"id": file_id, "name": name[:255], "size": len(data), "content_type": content_type[:100]}
        with self.database.begin() as connection:
            connection.execute(
                sa.insert(system.files).values(
                    form_key=form_key,
                    field_key=field_key,
                    sha256=hashlib.sha256(data).hexdigest(),
                    store=self.store.name,
                    created_at=utcnow(),
                    **meta,
                )
            )
        return meta

    def download(self, file_id: str) -> tuple[dict[str, Any], bytes]:
        """Return a file's metadata and bytes."""
        with self.database.read() as connection:
            row = connection.execute(sa.select(system.files).where(system.files.c.id == file_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"file {file_id} does not exist", code="unknown_file")
        return dict(row), self.store.get(file_id, self.database)
