"""Web layer."""
