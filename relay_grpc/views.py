"""Domain values the servicers translate to protos: job states, job snapshots,
events, shop profiles. No grpc and no database here."""

from __future__ import annotations

import dataclasses
import enum

from relay_grpc.capabilities import Capabilities


class JobState(str, enum.Enum):
    """Life-cycle state of a job (stored as its value)."""

    UPLOADING = "uploading"
    QUEUED = "queued"
    RECEIVED = "received"
    PRINTING = "printing"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        """True for completed, rejected, cancelled and expired."""
        return self in TERMINAL_STATES

    @property
    def active(self) -> bool:
        """True for the states a kiosk works on: queued, received, printing."""
        return self in ACTIVE_STATES


TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.REJECTED, JobState.CANCELLED, JobState.EXPIRED})
ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RECEIVED, JobState.PRINTING})
# States whose blobs must exist (everything not terminal).
LIVE_STATES = frozenset({JobState.UPLOADING, *ACTIVE_STATES})


@dataclasses.dataclass(frozen=True)
class FileView:
    """One encrypted file: index, declared size, committed size."""

    index: int
    size: int
    committed_size: int


@dataclasses.dataclass(frozen=True)
class JobView:
    """A job as clients see it; ``sealed_manifest`` only for the shop while active."""

    job_id: str
    job_code: str
    state: JobState
    reason: str
    files: tuple[FileView, ...]
    key_fingerprint: bytes
    created_at: float
    submitted_at: float | None
    expires_at: float
    updated_at: float
    sealed_manifest: bytes | None = None
    # Serialized KioskStatement of the change this snapshot follows (b"" when none).
    kiosk_statement: bytes = b""


@dataclasses.dataclass(frozen=True)
class EventView:
    """One event of a stream: its sequence in the stream's scope and the job after it.

    One EventView is shared by every local subscriber of its scope; ``encoded``
    keeps the wire message built from it once, for all of them."""

    sequence: int
    job: JobView
    event_time: float
    encoded: dict[str, object] = dataclasses.field(default_factory=dict, compare=False, repr=False, hash=False)


@dataclasses.dataclass(frozen=True)
class HeartbeatView:
    """An idle-stream heartbeat; one is shared by every stream of a scope that beats
    in the same round at the same sequence (``relay_grpc.beats``), and ``encoded``
    keeps the wire message built from it once."""

    server_time: float
    latest_sequence: int
    encoded: dict[str, object] = dataclasses.field(default_factory=dict, compare=False, repr=False, hash=False)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Upload limits in ciphertext bytes."""

    max_file_bytes: int
    max_job_bytes: int
    max_files_per_job: int
    max_chunk_bytes: int


@dataclasses.dataclass(frozen=True)
class KioskKeyView:
    """One active kiosk of a shop as GetShop serves it (Shop.kiosk_keys)."""

    label: str
    public_key: bytes
    key_fingerprint: bytes
    signing_key: bytes = b""


@dataclasses.dataclass(frozen=True)
class KioskSummary:
    """A kiosk as the admin CLI lists it."""

    label: str
    key_fingerprint_display: str
    created_at: float
    revoked: bool


@dataclasses.dataclass(frozen=True)
class ShopProfile:
    """A shop's public profile."""

    shop_id: str
    slug: str
    display_name: str
    public_key: bytes
    key_fingerprint: bytes
    key_fingerprint_display: str
    limits: Limits
    accepted_media_types: tuple[str, ...]
    retention_seconds: int
    online: bool
    min_kiosk_version: str
    capabilities: Capabilities | None = None  # as the kiosk last published them
    signing_key: bytes = b""  # the lead kiosk's receipt-signing key (empty: none published)
    kiosk_keys: tuple[KioskKeyView, ...] = ()  # active kiosks, oldest first (public_key is the first)


@dataclasses.dataclass(frozen=True)
class ShopSummary:
    """A shop as the admin CLI lists it."""

    slug: str
    display_name: str
    enrolled: bool
    revoked: bool
    key_fingerprint_display: str
    created_at: float
    last_seen_at: float | None
