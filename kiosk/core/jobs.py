"""The job model the kiosk shows: print options, local state and job snapshots.

Snapshots are frozen dataclasses so the UI can read them from any thread; the
queue (kiosk.core.queue) replaces a job's snapshot on every change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.core.pricing import Price
    from kiosk.core.printing.base import PrintStatus

MM = 72 / 25.4

# Paper sizes in points (width, height), portrait.
PAPER_SIZES: dict[str, tuple[float, float]] = {
    "A4": (210 * MM, 297 * MM),
    "Letter": (8.5 * 72, 11 * 72),
    "A3": (297 * MM, 420 * MM),
    "Legal": (8.5 * 72, 14 * 72),
}
SIDES = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
COLORS = ("monochrome", "color")
MAX_COPIES = 999

@dataclass(frozen=True)
class PrintOptions:
    """How a job is printed. ``page_ranges`` is "" for all pages or e.g. "1-3,5"."""

    copies: int = 1
    sides: str = "one-sided"
    color: str = "monochrome"
    page_ranges: str = ""
    media: str = "A4"

    def validate(self) -> None:
        """Raises ValueError for an option outside what the kiosk supports."""
        if not isinstance(self.copies, int) or not 1 <= self.copies <= MAX_COPIES:
            raise ValueError(f"copies must be 1 to {MAX_COPIES}")
        if self.sides not in SIDES:
            raise ValueError(f"unknown sides {self.sides!r}")
        if self.color not in COLORS:
            raise ValueError(f"unknown colour mode {self.color!r}")
        if self.media not in PAPER_SIZES:
            raise ValueError(f"unknown paper size {self.media!r}")

    def with_(self, **changes: Any) -> PrintOptions:
        """A validated copy with some options changed.

        Raises:
            ValueError: for an unsupported value.
        """
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    @property
    def duplex(self) -> bool:
        return self.sides != "one-sided"


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
        return (not self.is_terminal and self.expire_time is not None
                and self.expire_time <= datetime.now(UTC))

    def replace(self, **changes: Any) -> KioskJob:
        return dataclasses.replace(self, **changes)
