"""Initial schema: shops, enrollment codes, jobs, job files and the event log.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("key_fingerprint", sa.LargeBinary(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("kiosk_version", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("last_seen_at", sa.Float(), nullable=True),
        sa.Column("last_sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_shops_slug"), "shops", ["slug"], unique=True)
    op.create_index(op.f("ix_shops_token_hash"), "shops", ["token_hash"], unique=False)
    op.create_table(
        "enrollment_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index(op.f("ix_enrollment_codes_shop_id"), "enrollment_codes", ["shop_id"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("shop_id", sa.String(length=32), nullable=False),
        sa.Column("job_code", sa.String(length=16), nullable=False),
        sa.Column("customer_token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=600), nullable=False),
        sa.Column("key_fingerprint", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_manifest", sa.LargeBinary(), nullable=True),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("submitted_at", sa.Float(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_jobs_expires_at"), "jobs", ["expires_at"], unique=False)
    op.create_index(op.f("ix_jobs_shop_id"), "jobs", ["shop_id"], unique=False)
    op.create_index(op.f("ix_jobs_state"), "jobs", ["state"], unique=False)
    op.create_table(
        "job_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("shop_sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("job_sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=600), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "job_sequence", name="uq_job_events_job_sequence"),
        sa.UniqueConstraint("shop_id", "shop_sequence", name="uq_job_events_shop_sequence"),
    )
    op.create_index(op.f("ix_job_events_created_at"), "job_events", ["created_at"], unique=False)
    op.create_table(
        "job_files",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("file_index", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("committed_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
        ),
        sa.PrimaryKeyConstraint("job_id", "file_index"),
    )


def downgrade() -> None:
    op.drop_table("job_files")
    op.drop_index(op.f("ix_job_events_created_at"), table_name="job_events")
    op.drop_table("job_events")
    op.drop_index(op.f("ix_jobs_state"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_shop_id"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_expires_at"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_enrollment_codes_shop_id"), table_name="enrollment_codes")
    op.drop_table("enrollment_codes")
    op.drop_index(op.f("ix_shops_token_hash"), table_name="shops")
    op.drop_index(op.f("ix_shops_slug"), table_name="shops")
    op.drop_table("shops")
