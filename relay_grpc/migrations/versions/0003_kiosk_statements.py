"""Jobs and their events keep the statement the kiosk attached to a change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("kiosk_statement", sa.LargeBinary(), nullable=True))
    op.add_column("job_events", sa.Column("kiosk_statement", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("job_events", "kiosk_statement")
    op.drop_column("jobs", "kiosk_statement")
