"""The web workbench's accounts and the audit of who changed what.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``users`` and ``audit``."""
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'dispatcher')", name="ck_users_role"),
    )
    op.create_table(
        "audit",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("day", sa.Date),
        sa.Column("errand_ref", sa.String(64)),
        sa.Column("detail", sa.String(400), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("audit")
    op.drop_table("users")
