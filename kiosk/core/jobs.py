"""The job model the kiosk shows: local state and job snapshots (options: kiosk.core.options).

Snapshots are frozen dataclasses so the UI can read them from any thread; the
queue (kiosk.core.queue) replaces a job's snapshot on every change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from kiosk.core.options import PrintOptions

if TYPE_CHECKING:
    from kiosk.core.pricing import Price
    from kiosk.core.printing.base import PrintStatus


class LocalState(str, Enum):
    """Where a job is, as the kiosk sees it."""

    NEW = "new"  # event seen, not fetched yet
    FETCHING = "fetching"  # downloading / decrypting
    READY = "ready"  # decrypted in memory, marked received
    PRINTING = "printing"
    PRINTED = "printed"  # printer said completed; waiting for Complete
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # cannot be opened; see error (can still be rejected)

    @property
    def terminal(self) -> bool:
        return self in (LocalState.COMPLETED, LocalState.REJECTED, LocalState.CANCELLED, LocalState.EXPIRED)


@dataclass(frozen=True)
class FileInfo:
    """One file of a job, from the manifest."""

    name: str
    media_type: str
    size: int


@dataclass(frozen=True)
class KioskJob:
    """A snapshot of one job in the kiosk's queue."""

    job_id: str
    job_code: str
    state: LocalState
    received_time: datetime
    customer_name: str = ""
    note: str = ""
    files: tuple[FileInfo, ...] = ()
    options: PrintOptions = field(default_factory=PrintOptions)
    page_count: int | None = None
    price: Price | None = None
    expire_time: datetime | None = None
    submit_time: datetime | None = None
    key_fingerprint: bytes = b""
    error: str | None = None
    print_status: PrintStatus | None = None
    reason: str = ""
    sequence: int = 0
    printed_at: datetime | None = None  # last completed print (kept across restarts by the journal)
    taken_by: str = ""  # another counter of the shop that opened or is printing it ("Counter 2")
    stalled: bool = False  # printing has not finished within settings.stalled_after_seconds

    def time_left(self, now: datetime | None = None) -> timedelta:
        """Time until the relay expires the job (zero when past or unknown)."""
        if self.expire_time is None:
            return timedelta(0)
        left = self.expire_time - (now or datetime.now(UTC))
        return max(left, timedelta(0))

    @property
    def is_terminal(self) -> bool:
        return self.state.terminal

    @property
    def expired(self) -> bool:
        if self.state is LocalState.EXPIRED:
            return True
        return not self.is_terminal and self.expire_time is not None and self.expire_time <= datetime.now(UTC)

    def replace(self, **changes: Any) -> KioskJob:
        return dataclasses.replace(self, **changes)
