"""The kiosk's local job journal: what the shop did to each job, so a restart does not forget it.

After a crash (kill -9, power cut) the decrypted documents are gone by design,
but the shop must still know that a job was already printed, keep the options
it edited and the price it agreed, and remove the print system's copy of the
document later. The journal keeps exactly that, per job id: when it was
printed, on which printer, the print system's job ids, the edited options and
the price. Metadata only: never document bytes, file names, the customer's
name or note.

One JSON file (``journal.json``, mode 0600) rewritten atomically on each change.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.core.config import read_json, write_private
from kiosk.core.errors import ConfigError
from kiosk.core.options import PrintOptions

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.json"
MAX_AGE_SECONDS = 2 * 24 * 3600  # jobs live 30 minutes at the relay; older entries are leftovers


@dataclass(frozen=True)
class PrintRecord:
    """One job in the print system: the printer's address and its job id there."""

    printer: str
    job_id: int | str
    uri: str = ""


@dataclass(frozen=True)
class JournalEntry:
    """The kiosk-side state of one job."""

    job_id: str
    updated_at: float = 0.0
    printed_at: float | None = None  # epoch seconds of the last completed print
    printer: str = ""  # the printer's name as the kiosk shows it (an address, never a person)
    print_jobs: tuple[PrintRecord, ...] = ()  # not yet purged from the print system
    options: PrintOptions | None = None  # the shop's edits (None: the customer's)
    price_cents: int | None = None
    currency: str = ""
    paid_at: float | None = None  # the shop marked it paid at the counter (kiosk.core.counter_payments)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["print_jobs"] = [dataclasses.asdict(p) for p in self.print_jobs]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalEntry:
        """Raises: ValueError / TypeError for a malformed entry."""
        options = data.get("options")
        opts = PrintOptions(**options) if isinstance(options, dict) else None
        if opts is not None:
            opts.validate()
        return cls(
            job_id=str(data["job_id"]),
            updated_at=float(data.get("updated_at") or 0.0),
            printed_at=float(data["printed_at"]) if data.get("printed_at") is not None else None,
            printer=str(data.get("printer") or ""),
            print_jobs=tuple(PrintRecord(**p) for p in data.get("print_jobs") or ()),
            options=opts,
            price_cents=int(data["price_cents"]) if data.get("price_cents") is not None else None,
            currency=str(data.get("currency") or ""),
            paid_at=float(data["paid_at"]) if data.get("paid_at") is not None else None,
        )


@dataclass
class Journal:
    """Thread-safe journal backed by ``<data_dir>/journal.json``."""

    path: Path
    _entries: dict[str, JournalEntry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, data_dir: Path) -> Journal:
        """Read the journal; a missing or unreadable file starts empty (logged, never fatal)."""
        journal = cls(data_dir / JOURNAL_FILE)
        try:
            data = read_json(journal.path) or {}
        except ConfigError as exc:
            log.warning("the job journal cannot be read, starting empty: %s", exc)
            data = {}
        cutoff = time.time() - MAX_AGE_SECONDS
        for raw in data.get("jobs", []) if isinstance(data.get("jobs"), list) else []:
            try:
                entry = JournalEntry.from_json(raw)
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("skipping a malformed journal entry: %s", type(exc).__name__)
                continue
            if entry.updated_at >= cutoff or entry.print_jobs:
                journal._entries[entry.job_id] = entry
        return journal

    def get(self, job_id: str) -> JournalEntry | None:
        with self._lock:
            return self._entries.get(job_id)

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries.values())

    def update(self, job_id: str, **changes: Any) -> JournalEntry:
        """Change (or create) a job's entry and write the file."""
        with self._lock:
            entry = self._entries.get(job_id) or JournalEntry(job_id=job_id)
            entry = dataclasses.replace(entry, updated_at=time.time(), **changes)
            self._entries[job_id] = entry
            self._write_locked()
            return entry

    def add_print_job(self, job_id: str, record: PrintRecord) -> None:
        with self._lock:
            entry = self._entries.get(job_id) or JournalEntry(job_id=job_id)
            self._entries[job_id] = dataclasses.replace(
                entry, updated_at=time.time(), print_jobs=(*entry.print_jobs, record)
            )
            self._write_locked()

    def drop_print_job(self, job_id: str, record: PrintRecord) -> None:
        with self._lock:
            entry = self._entries.get(job_id)
            if entry is None:
                return
            left = tuple(p for p in entry.print_jobs if p != record)
            self._entries[job_id] = dataclasses.replace(entry, print_jobs=left)
            self._write_locked()

    def remove(self, job_id: str) -> None:
        with self._lock:
            if self._entries.pop(job_id, None) is not None:
                self._write_locked()

    def _write_locked(self) -> None:
        data = {"jobs": [e.to_json() for e in self._entries.values()]}
        try:
            write_private(self.path, json.dumps(data, indent=1).encode())
        except ConfigError as exc:  # a full disk must not stop printing; the next change retries
            log.warning("cannot write the job journal: %s", exc)
