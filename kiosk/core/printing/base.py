"""The one printer interface the kiosk prints through, and its value types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from kiosk.core.options import PrintOptions


class PrintState(str, Enum):
    """A print job's state as the printer reports it."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def done(self) -> bool:
        return self in (PrintState.COMPLETED, PrintState.FAILED)


@dataclass(frozen=True)
class PrintStatus:
    """State plus the printer's own words; ``reasons`` are its state keywords (e.g. 'media-empty')."""

    state: PrintState
    message: str = ""
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrintJobHandle:
    """How to ask a printer about a job it accepted."""

    printer: str
    job_id: int | str
    uri: str = ""


@dataclass(frozen=True)
class PrinterInfo:
    """One printer or queue the kiosk can print to."""

    name: str
    uri: str
    state: str = "unknown"  # idle | processing | stopped | unknown
    info: str = ""


@runtime_checkable
class PrinterBackend(Protocol):
    """A printer. Every method blocks on I/O; call from a worker thread."""

    name: str

    def print_pdf(self, pdf: bytes | bytearray, options: PrintOptions, job_name: str) -> PrintJobHandle:
        """Send a PDF. Raises PrinterError (unreachable, refused)."""
        ...

    def status(self, handle: PrintJobHandle) -> PrintStatus:
        """The job's state now. Raises PrinterError when the printer cannot be asked."""
        ...

    def list_printers(self) -> list[PrinterInfo]:
        """Printers/queues this backend can reach. Raises PrinterError."""
        ...

    def cancel(self, handle: PrintJobHandle) -> None:
        """Stop a job that is still printing. Raises PrinterError."""
        ...

    def purge(self, handle: PrintJobHandle) -> bool:
        """Remove the job's document and history from the print system (best effort; True when gone)."""
        ...
