"""Identity: role assignments, password credentials, sessions, API tokens, login throttling, secrets, audit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
USER = "tessera_users.id"


def upgrade() -> None:
    op.create_table(
        "tessera_user_roles",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey(USER, ondelete="CASCADE"), primary_key=True),
        sa.Column("role_key", sa.String(50), primary_key=True),
    )
    op.create_table(
        "tessera_credentials",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey(USER, ondelete="CASCADE"), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tessera_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey(USER, ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tessera_api_tokens",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey(USER, ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime),
        sa.Column("last_used_at", sa.DateTime),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_table(
        "tessera_login_failures",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("locked_until", sa.DateTime),
    )
    op.create_table(
        "tessera_secrets",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.create_table(
        "tessera_audit",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("target_kind", sa.String(30), nullable=False),
        sa.Column("target_key", sa.String(50), nullable=False),
        sa.Column("record_id", sa.BigInteger),
        sa.Column("changes", sa.JSON),
    )
    op.create_index("ix_tessera_audit_record", "tessera_audit", ["target_kind", "target_key", "record_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_tessera_audit_record", table_name="tessera_audit")
    for table in (
        "tessera_audit",
        "tessera_secrets",
        "tessera_login_failures",
        "tessera_api_tokens",
        "tessera_sessions",
        "tessera_credentials",
        "tessera_user_roles",
    ):
        op.drop_table(table)
