"""The kiosk's day book: one line per completed job, metadata only, encrypted at rest.

A line says when a job was completed, its code, how many files, pages and
sheets, colour or black-and-white, paper, printer, price and whether it was
paid at the counter. Never a customer's name, a file name or anything from a
document. The shop sees today's, this week's (Monday to Sunday) and this
month's totals, the list, the jobs still unpaid, and exports a CSV file to a
folder or USB stick it picks.

The file (``daybook.bin`` in the data folder, mode 0600) is the whole book as
JSON sealed with AES-256-GCM under the day book key (kiosk.core.daybook_key),
rewritten atomically on each change; no field is readable without the key.
Lines older than the retention (default 90 days) are dropped when the book is
opened and on each new line. Time comes from an injected clock (an aware
datetime: its time zone decides where a day begins).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.core.config import write_private
from kiosk.core.errors import ConfigError, KioskError

log = logging.getLogger(__name__)

DAYBOOK_FILE = "daybook.bin"
MAGIC = b"CTDB\x01"
DEFAULT_RETENTION_DAYS = 90
MEDIA_ROOTS = (Path("/media"), Path("/run/media"))
CSV_HEADER = (
    "date",
    "time",
    "job code",
    "files",
    "pages",
    "sheets",
    "colour",
    "paper",
    "printer",
    "price",
    "currency",
    "paid",
    "paid at",
)

Clock = Callable[[], datetime]


def local_now() -> datetime:
    """The kiosk's wall clock in its local time zone."""
    return datetime.now().astimezone()


class DayBookError(KioskError):
    """The day book cannot be read (wrong key, damaged) or written."""


@dataclass(frozen=True)
class DayEntry:
    """One completed job. ``price_cents`` None: it had no price (not counted)."""

    job_id: str
    time: float  # epoch seconds of completion
    job_code: str
    files: int
    pages: int | None
    sheets: int | None
    colour: bool
    paper: str
    printer: str
    price_cents: int | None
    currency: str
    paid_at: float | None = None

    @property
    def paid(self) -> bool:
        return self.paid_at is not None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DayEntry:
        """Raises: KeyError, ValueError, TypeError for a malformed line."""
        names = {f.name for f in dataclasses.fields(cls)}
        entry = cls(**{k: v for k, v in data.items() if k in names})
        if not isinstance(entry.time, int | float) or not isinstance(entry.files, int):
            raise TypeError("malformed day book line")
        return entry


@dataclass(frozen=True)
class Totals:
    """What a period's lines add up to; amounts per currency (minor units)."""

    jobs: int = 0
    pages: int = 0
    sheets: int = 0
    amount: tuple[tuple[str, int], ...] = ()
    paid: tuple[tuple[str, int], ...] = ()
    unpaid: tuple[tuple[str, int], ...] = ()
    unpaid_jobs: int = 0
    unpriced_jobs: int = 0


def _add(sums: dict[str, int], currency: str, cents: int) -> None:
    sums[currency] = sums.get(currency, 0) + cents


def totals_of(entries: Iterable[DayEntry]) -> Totals:
    """Add up lines: jobs, pages, sheets, amounts (all, paid, unpaid), unpaid and unpriced jobs."""
    jobs = pages = sheets = unpaid_jobs = unpriced = 0
    amount: dict[str, int] = {}
    paid: dict[str, int] = {}
    unpaid: dict[str, int] = {}
    for e in entries:
        jobs += 1
        pages += e.pages or 0
        sheets += e.sheets or 0
        if not e.paid:
            unpaid_jobs += 1
        if e.price_cents is None:
            unpriced += 1
            continue
        _add(amount, e.currency, e.price_cents)
        _add(paid if e.paid else unpaid, e.currency, e.price_cents)
    return Totals(
        jobs,
        pages,
        sheets,
        tuple(sorted(amount.items())),
        tuple(sorted(paid.items())),
        tuple(sorted(unpaid.items())),
        unpaid_jobs,
        unpriced,
    )


def period_start(now: datetime, period: str) -> datetime:
    """Start of the day, week (Monday) or month containing ``now``, in ``now``'s time zone."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def money(cents: int) -> str:
    """1.20 for 120 minor units."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class DayBook:
    """The day book of one kiosk (thread-safe). Open with :meth:`open`."""

    def __init__(
        self,
        path: Path,
        key: bytes,
        clock: Clock = local_now,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self.path = path
        self._aead = AESGCM(key)
        self.clock = clock
        self.retention_days = retention_days
        self._entries: list[DayEntry] = []
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        path: Path,
        key: bytes,
        clock: Clock = local_now,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> DayBook:
        """Read the book (missing: empty) and drop lines past the retention.

        Raises:
            DayBookError: the file cannot be read or opened with this key.
        """
        book = cls(path, key, clock, retention_days)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return book
        except OSError as exc:
            raise DayBookError(f"cannot read the day book: {exc.strerror}") from exc
        book._entries = book._decode(blob)
        with book._lock:
            if book._drop_old_locked():
                book._write_locked()
        return book

    # -- reading -----------------------------------------------------------------------
    def entries(self) -> list[DayEntry]:
        """Every line, newest first."""
        with self._lock:
            return sorted(self._entries, key=lambda e: e.time, reverse=True)

    def unpaid(self) -> list[DayEntry]:
        """Lines not yet paid, newest first."""
        return [e for e in self.entries() if not e.paid]

    def get(self, job_id: str) -> DayEntry | None:
        with self._lock:
            return next((e for e in self._entries if e.job_id == job_id), None)

    def since(self, start: datetime) -> list[DayEntry]:
        """Lines completed at or after ``start``, newest first."""
        edge = start.timestamp()
        return [e for e in self.entries() if e.time >= edge]

    def totals(self, period: str) -> Totals:
        """Totals of the current "day", "week" or "month" by the book's clock."""
        return totals_of(self.since(period_start(self.clock(), period)))

    # -- changing ----------------------------------------------------------------------
    def append(self, entry: DayEntry) -> DayEntry:
        """Add a completed job (a job already in the book is replaced) and drop old lines.

        Raises:
            DayBookError: the file cannot be written (the line stays in memory).
        """
        with self._lock:
            self._entries = [e for e in self._entries if e.job_id != entry.job_id]
            self._entries.append(entry)
            self._drop_old_locked()
            self._write_locked()
        return entry

    def mark_paid(self, job_id: str, paid: bool = True) -> DayEntry:
        """Mark a line paid (now) or unpaid.

        Raises:
            KeyError: no such job in the book; DayBookError: cannot be written.
        """
        with self._lock:
            for i, e in enumerate(self._entries):
                if e.job_id == job_id:
                    paid_at = (e.paid_at or self.clock().timestamp()) if paid else None
                    self._entries[i] = dataclasses.replace(e, paid_at=paid_at)
                    self._write_locked()
                    return self._entries[i]
        raise KeyError(job_id)

    def set_retention(self, days: int) -> None:
        """Change the retention and drop what is now too old."""
        with self._lock:
            self.retention_days = days
            if self._drop_old_locked():
                self._write_locked()

    # -- export ------------------------------------------------------------------------
    def csv_text(self, entries: Sequence[DayEntry] | None = None) -> str:
        """The lines (default: all, oldest first) as CSV in the clock's time zone."""
        rows = sorted(self.entries() if entries is None else entries, key=lambda e: e.time)
        tz = self.clock().tzinfo
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        for e in rows:
            at = datetime.fromtimestamp(e.time, tz)
            paid_at = datetime.fromtimestamp(e.paid_at, tz).strftime("%Y-%m-%d %H:%M") if e.paid_at else ""
            writer.writerow(
                [
                    at.strftime("%Y-%m-%d"),
                    at.strftime("%H:%M"),
                    _cell(e.job_code),
                    e.files,
                    "" if e.pages is None else e.pages,
                    "" if e.sheets is None else e.sheets,
                    "colour" if e.colour else "black-and-white",
                    _cell(e.paper),
                    _cell(e.printer),
                    "" if e.price_cents is None else money(e.price_cents),
                    _cell(e.currency),
                    "yes" if e.paid else "no",
                    paid_at,
                ]
            )
        return out.getvalue()

    def export_csv(self, folder: Path) -> Path:
        """Write ``cloudtab-daybook-YYYY-MM-DD.csv`` (every line) into ``folder``; its path.

        Raises:
            DayBookError: the folder is missing or not writable.
        """
        name = f"cloudtab-daybook-{self.clock().strftime('%Y-%m-%d')}.csv"
        target = folder / name
        if not folder.is_dir():
            raise DayBookError(f"the folder {folder} is not there (is the USB stick plugged in?)")
        tmp = folder / f".{name}.part"
        try:  # no chmod: a FAT-formatted stick refuses it
            with tmp.open("wb") as out:
                out.write(self.csv_text().encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DayBookError(f"cannot write to {folder}: is the stick full or read-only?") from exc
        return target

    # -- storage -----------------------------------------------------------------------
    def _drop_old_locked(self) -> bool:
        edge = (self.clock() - timedelta(days=self.retention_days)).timestamp()
        kept = [e for e in self._entries if e.time >= edge]
        dropped = len(kept) != len(self._entries)
        self._entries = kept
        return dropped

    def _decode(self, blob: bytes) -> list[DayEntry]:
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
            raise DayBookError("the day book file is damaged")
        nonce = blob[len(MAGIC) : len(MAGIC) + 12]
        try:
            plain = self._aead.decrypt(nonce, blob[len(MAGIC) + 12 :], MAGIC)
            data = json.loads(plain)
        except (InvalidTag, ValueError) as exc:
            raise DayBookError("the day book cannot be opened with this kiosk's key (damaged?)") from exc
        entries = []
        for raw in data.get("entries", []) if isinstance(data, dict) else []:
            try:
                entries.append(DayEntry.from_json(raw))
            except (KeyError, ValueError, TypeError):
                log.warning("skipping a malformed day book line")
        return entries

    def _write_locked(self) -> None:
        plain = json.dumps({"entries": [dataclasses.asdict(e) for e in self._entries]}).encode()
        nonce = os.urandom(12)
        blob = MAGIC + nonce + self._aead.encrypt(nonce, plain, MAGIC)
        try:
            write_private(self.path, blob)
        except ConfigError as exc:
            raise DayBookError(f"cannot write the day book: {exc}") from exc


def removable_folders(roots: Sequence[Path] = MEDIA_ROOTS) -> list[Path]:
    """Mounted removable media (USB sticks): mount points under /media and /run/media, one or two deep."""
    found: list[Path] = []
    for root in roots:
        try:
            level1 = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:
            continue
        for path in level1:
            if os.path.ismount(path):
                found.append(path)
                continue
            try:
                found.extend(sorted(p for p in path.iterdir() if p.is_dir() and os.path.ismount(p)))
            except OSError:
                continue
    return found
