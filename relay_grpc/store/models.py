"""SQLModel tables of the relay.

What the relay keeps: shops (public key, token hash), enrollment codes (hash),
jobs (sizes, counts, states, timestamps, the customer token hash and the sealed
manifest until the job ends), files (declared and committed sizes) and the
event log, and the capabilities and price list a kiosk publishes (public).
Never a file name, a job's print options or a plaintext byte. Times are
UNIX seconds (float) so both SQLite and PostgreSQL store them the same way.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# BIGINT on PostgreSQL, INTEGER on SQLite (so autoincrement aliases the rowid).
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Shop(SQLModel, table=True):
    """A print shop; ``token_hash`` is set once a kiosk has enrolled."""

    __tablename__ = "shops"

    id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=200)
    public_key: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    key_fingerprint: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # The kiosk's ECDSA P-256 public key for its receipts (docs/envelope.md §2.2).
    signing_key: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    token_hash: str | None = Field(default=None, max_length=64, index=True)
    kiosk_version: str | None = Field(default=None, max_length=32)
    created_at: float
    revoked_at: float | None = None
    last_seen_at: float | None = None
    # Highest per-shop event sequence handed out; bumped under the row lock.
    last_sequence: int = Field(default=0, sa_type=BigInt)
    # Public capabilities and price list the kiosk published (relay_grpc/capabilities.py JSON).
    capabilities: str | None = Field(default=None, sa_type=sa.Text)


class EnrollmentCode(SQLModel, table=True):
    """A one-time code a kiosk redeems to enroll; only its hash is stored.

    ``kiosk_label`` None: the kiosk enrolling replaces every kiosk of the shop
    (first enrolment, or a re-install); a label: it joins the shop as another
    counter with that name.
    """

    __tablename__ = "enrollment_codes"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    shop_id: str = Field(foreign_key="shops.id", max_length=32, index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: float
    expires_at: float
    used_at: float | None = None
    kiosk_label: str | None = Field(default=None, max_length=40)


class Kiosk(SQLModel, table=True):
    """One enrolled kiosk (counter) of a shop: its own key pair, token and label.

    The shop row's ``public_key``/``key_fingerprint`` mirror the shop's oldest
    active kiosk (``Shop.public_key`` for old clients); a revoked kiosk keeps its
    row with ``token_hash`` None.
    """

    __tablename__ = "kiosks"

    id: str = Field(primary_key=True, max_length=32)
    shop_id: str = Field(foreign_key="shops.id", max_length=32, index=True)
    label: str = Field(max_length=40)
    public_key: bytes = Field(sa_type=sa.LargeBinary)
    key_fingerprint: bytes = Field(sa_type=sa.LargeBinary)
    # The kiosk's ECDSA P-256 public key for its receipts (docs/envelope.md §2.2).
    signing_key: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    kiosk_version: str | None = Field(default=None, max_length=32)
    created_at: float
    revoked_at: float | None = None


class Job(SQLModel, table=True):
    """A print job: states, sizes and timestamps; the sealed manifest while active."""

    __tablename__ = "jobs"

    id: str = Field(primary_key=True, max_length=32)
    shop_id: str = Field(foreign_key="shops.id", max_length=32, index=True)
    job_code: str = Field(max_length=16)
    customer_token_hash: str = Field(max_length=64)
    state: str = Field(max_length=16, index=True)
    reason: str = Field(default="", max_length=600)
    key_fingerprint: bytes = Field(sa_type=sa.LargeBinary)
    sealed_manifest: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    file_count: int
    total_bytes: int = Field(sa_type=BigInt)
    created_at: float
    submitted_at: float | None = None
    expires_at: float = Field(index=True)
    updated_at: float
    # Highest per-job event sequence handed out.
    last_sequence: int = Field(default=0, sa_type=BigInt)
    # Serialized KioskStatement of the latest change the kiosk made (opaque to the relay).
    kiosk_statement: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class JobFile(SQLModel, table=True):
    """One encrypted file of a job: declared and committed ciphertext sizes."""

    __tablename__ = "job_files"

    job_id: str = Field(foreign_key="jobs.id", primary_key=True, max_length=32)
    file_index: int = Field(primary_key=True)
    size: int = Field(sa_type=BigInt)
    committed_size: int = Field(default=0, sa_type=BigInt)


class JobEvent(SQLModel, table=True):
    """One state change of a job, the log that streams replay and resume from.

    ``shop_sequence`` is set only for changes the shop sees (from submit on);
    ``job_sequence`` for every change (the customer's WatchJob).
    """

    __tablename__ = "job_events"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "shop_sequence", name="uq_job_events_shop_sequence"),
        sa.UniqueConstraint("job_id", "job_sequence", name="uq_job_events_job_sequence"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInt)
    shop_id: str = Field(foreign_key="shops.id", max_length=32)
    job_id: str = Field(foreign_key="jobs.id", max_length=32)
    shop_sequence: int | None = Field(default=None, sa_type=BigInt)
    job_sequence: int = Field(sa_type=BigInt)
    state: str = Field(max_length=16)
    reason: str = Field(default="", max_length=600)
    created_at: float = Field(index=True)
    # Serialized KioskStatement the kiosk attached to this change (opaque to the relay).
    kiosk_statement: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


TABLES = (Shop, EnrollmentCode, Job, JobFile, JobEvent)
