"""Server settings, taken from arguments or the environment (passed in, never read at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.storage.database import resolve_url


@dataclass(frozen=True)
class Settings:
    """What the app needs to run."""

    database_url: str
    max_json_bytes: int = 1024 * 1024
    max_upload_bytes: int = 64 * 1024 * 1024
    files_dir: Path = Path("tessera_files")
    file_store: str = "disk"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, database_url: str | None = None) -> Settings:
        """Build settings from ``TESSERA_*`` variables and ``DATABASE_URL``."""
        env = dict(os.environ if environ is None else environ)
        return cls(
            database_url=resolve_url(database_url, env),
            max_json_bytes=int(env.get("TESSERA_MAX_JSON_BYTES", 1024 * 1024)),
            max_upload_bytes=int(env.get("TESSERA_MAX_UPLOAD_BYTES", 64 * 1024 * 1024)),
            files_dir=Path(env.get("TESSERA_FILES_DIR", "tessera_files")),
            file_store=env.get("TESSERA_FILE_STORE", "disk"),
        )
