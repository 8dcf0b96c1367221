"""Tessera's generic runtime core: definitions, issues, storage."""
