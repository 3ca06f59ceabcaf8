"""Several kiosks per shop: a kiosks table (own key, token, label) and labelled enrolment codes.

Existing enrolled shops get their one kiosk as "Counter 1" (same keys and token).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("shop_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_fingerprint", sa.LargeBinary(), nullable=False),
        sa.Column("signing_key", sa.LargeBinary(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("kiosk_version", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_kiosks_shop_id"), "kiosks", ["shop_id"], unique=False)
    op.add_column("enrollment_codes", sa.Column("kiosk_label", sa.String(length=40), nullable=True))
    op.execute(
        "INSERT INTO kiosks (id, shop_id, label, public_key, key_fingerprint, signing_key, token_hash, kiosk_version,"
        " created_at) SELECT id, id, 'Counter 1', public_key, key_fingerprint, signing_key, token_hash, kiosk_version,"
        " created_at FROM shops"
        " WHERE public_key IS NOT NULL AND key_fingerprint IS NOT NULL AND revoked_at IS NULL"
    )


def downgrade() -> None:
    op.drop_column("enrollment_codes", "kiosk_label")
    op.drop_index(op.f("ix_kiosks_shop_id"), table_name="kiosks")
    op.drop_table("kiosks")
