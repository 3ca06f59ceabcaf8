"""Shops keep their kiosk's receipt-signing key (docs/envelope.md §2.2).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shops", sa.Column("signing_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("shops", "signing_key")
