"""The engine's own tables (created and upgraded by Alembic, see ``migrations/``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

apps = sa.Table(
    "tessera_apps",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("version", sa.String(20), nullable=False),
    sa.Column("label", sa.JSON, nullable=False),
    sa.Column("installed_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

definitions = sa.Table(
    "tessera_definitions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("app_key", sa.String(50), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("key", sa.String(50), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("kind", "key", "version", name="uq_tessera_definitions_version"),
)

forms = sa.Table(
    "tessera_forms",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("app_key", sa.String(50), nullable=False),
    sa.Column("table_name", sa.String(120), nullable=False, unique=True),
    sa.Column("version", sa.Integer, nullable=False),
)

form_columns = sa.Table(
    "tessera_form_columns",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(120), nullable=False),
    sa.Column("column_name", sa.String(60), nullable=False),
    sa.Column("field_key", sa.String(50), nullable=False),
    sa.Column("type_signature", sa.String(40), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("form_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("table_name", "column_name", name="uq_tessera_form_columns"),
)

counters = sa.Table(
    "tessera_counters",
    metadata,
    sa.Column("form_key", sa.String(50), primary_key=True),
    sa.Column("field_key", sa.String(50), primary_key=True),
    sa.Column("period", sa.String(20), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

departments = sa.Table(
    "tessera_departments",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("tessera_departments.id", ondelete="SET NULL")),
    sa.Column("head_id", sa.BigInteger),
)

users = sa.Table(
    "tessera_users",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("login", sa.String(80), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(200)),
    sa.Column("phone", sa.String(40)),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("locale", sa.String(10), nullable=False, default="zh"),
    sa.Column("department_id", sa.BigInteger, sa.ForeignKey("tessera_departments.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

files = sa.Table(
    "tessera_files",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("form_key", sa.String(50), nullable=False),
    sa.Column("field_key", sa.String(50), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("store", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

blobs = sa.Table(
    "tessera_blobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# -- identity (revision 0002) -------------------------------------------------------------------

user_roles = sa.Table(
    "tessera_user_roles",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("tessera_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_key", sa.String(50), primary_key=True),
)

credentials = sa.Table(
    "tessera_credentials",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("tessera_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

sessions = sa.Table(
    "tessera_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("tessera_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

api_tokens = sa.Table(
    "tessera_api_tokens",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("tessera_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime),
    sa.Column("last_used_at", sa.DateTime),
    sa.Column("revoked_at", sa.DateTime),
)

login_failures = sa.Table(
    "tessera_login_failures",
    metadata,
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_at", sa.DateTime, nullable=False),
    sa.Column("locked_until", sa.DateTime),
)

secrets = sa.Table(
    "tessera_secrets",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

audit = sa.Table(
    "tessera_audit",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("via", sa.String(20), nullable=False),
    sa.Column("action", sa.String(30), nullable=False),
    sa.Column("target_kind", sa.String(30), nullable=False),
    sa.Column("target_key", sa.String(50), nullable=False),
    sa.Column("record_id", sa.BigInteger),
    sa.Column("changes", sa.JSON),
    sa.Index("ix_tessera_audit_record", "target_kind", "target_key", "record_id", "id"),
)
