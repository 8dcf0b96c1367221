"""Definitions: JSON documents with a ``kind``, parsed into frozen models, loaded as app bundles."""

from engine.definitions.base import KINDS, Definition, register_kind
from engine.definitions.bundle import AppBundle, load_bundle, load_paths
from engine.definitions.document import DocumentResult, load_document, read_document
from engine.definitions.schema import export_schema

__all__ = [
    "KINDS",
    "AppBundle",
    "Definition",
    "DocumentResult",
    "export_schema",
    "load_bundle",
    "load_document",
    "load_paths",
    "read_document",
    "register_kind",
]
