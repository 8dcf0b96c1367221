"""Storage: one real table per form, safe migrations, queries (SQLAlchemy Core)."""
