"""The engine's first tables: apps, definitions, forms and columns, counters, users, files.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "tessera_apps",
        sa.Column("key", sa.String(50), primary_key=True),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("label", sa.JSON, nullable=False),
        sa.Column("installed_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tessera_definitions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("app_key", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("kind", "key", "version", name="uq_tessera_definitions_version"),
    )
    op.create_table(
        "tessera_forms",
        sa.Column("key", sa.String(50), primary_key=True),
        sa.Column("app_key", sa.String(50), nullable=False),
        sa.Column("table_name", sa.String(120), nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "tessera_form_columns",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(120), nullable=False),
        sa.Column("column_name", sa.String(60), nullable=False),
        sa.Column("field_key", sa.String(50), nullable=False),
        sa.Column("type_signature", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("table_name", "column_name", name="uq_tessera_form_columns"),
    )
    op.create_table(
        "tessera_counters",
        sa.Column("form_key", sa.String(50), primary_key=True),
        sa.Column("field_key", sa.String(50), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tessera_departments",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("tessera_departments.id", ondelete="SET NULL")),
        sa.Column("head_id", sa.BigInteger),
    )
    op.create_table(
        "tessera_users",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(200)),
        sa.Column("phone", sa.String(40)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("department_id", sa.BigInteger, sa.ForeignKey("tessera_departments.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tessera_files",
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
    op.create_table(
        "tessera_blobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "tessera_blobs",
        "tessera_files",
        "tessera_users",
        "tessera_departments",
        "tessera_counters",
        "tessera_form_columns",
        "tessera_forms",
        "tessera_definitions",
        "tessera_apps",
    ):
        op.drop_table(table)
