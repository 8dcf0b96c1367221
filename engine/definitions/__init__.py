"""Definitions: JSON documents with a ``kind``, parsed into frozen models, loaded as app bundles."""

from engine.definitions.base import KINDS, Definition, register_kind
from engine.definitions.bundle import AppBundle, load_bundle, load_paths
from engine.definitions.document import load_document

__all__ = ["KINDS", "AppBundle", "Definition", "load_bundle", "load_document", "load_paths", "register_kind"]
