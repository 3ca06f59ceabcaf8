"""The kiosk's job queue: one record per job, thread-safe, listed newest first.

A record holds the public snapshot (:class:`KioskJob`) and the private parts
(the relay's Job message, the opened manifest and documents). Each record has
its own operation lock so printing, completing and rejecting one job never
wait on another job.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from cloudtab.v1 import common_pb2

from kiosk.core.budget import MemoryBudget
from kiosk.core.decrypt import JobManifest
from kiosk.core.errors import JobNotFound
from kiosk.core.jobs import KioskJob
from kiosk.core.opened import OpenedJob
from kiosk.core.reply import Detail, FilePages


@dataclass
class JobRecord:
    """Everything the kiosk holds for one job."""

    snapshot: KioskJob
    proto: common_pb2.Job
    manifest: JobManifest | None = None
    opened: OpenedJob | None = None
    attempts: int = 0
    retry_at: float | None = None
    terminal_at: float | None = None
    op_lock: threading.Lock = field(default_factory=threading.Lock)
    budget: MemoryBudget | None = None
    reserved: int = 0
    elsewhere: bool = False  # sealed to other counters of the shop only (kiosk.core.counters)
    reply_key: bytes | None = None  # the page's public key (manifest "reply"); kept after wipe
    file_pages: tuple[FilePages, ...] = ()  # each file's page count, for the sealed detail
    located: Detail | None = None  # which file and page the job's last error is about

    def hold(self, budget: MemoryBudget, size: int) -> None:
        """Keep a memory reservation until :meth:`wipe`."""
        self.budget, self.reserved = budget, size

    def grow(self, extra: int) -> None:
        """Add what the job made while opening (a converted PDF) to its reservation.

        Raises:
            DocumentTooLarge: the job alone would exceed the whole budget.
        """
        if self.budget is not None and extra > 0:
            self.budget.grow(extra, self.reserved)
            self.reserved += extra

    def wipe(self) -> None:
        """Drop and zero everything decrypted, and give back its memory reservation."""
        if self.opened is not None:
            self.opened.wipe()
        self.opened = None
        self.manifest = None
        budget, size = self.budget, self.reserved
        self.budget, self.reserved = None, 0
        if budget is not None and size:
            budget.release(size)


class JobQueue:
    """Thread-safe map of job id -> JobRecord."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, JobRecord] = {}

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._records

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def add(self, record: JobRecord) -> bool:
        """Add a record; False if the job is already there."""
        with self._lock:
            if record.snapshot.job_id in self._records:
                return False
            self._records[record.snapshot.job_id] = record
            return True

    def record(self, job_id: str) -> JobRecord:
        """Raises: JobNotFound."""
        with self._lock:
            try:
                return self._records[job_id]
            except KeyError:
                raise JobNotFound("this job is no longer in the queue") from None

    def get(self, job_id: str) -> KioskJob:
        """The job's snapshot. Raises: JobNotFound."""
        return self.record(job_id).snapshot

    def update(self, job_id: str, **changes: Any) -> KioskJob:
        """Replace the snapshot with a changed copy. Raises: JobNotFound."""
        with self._lock:
            record = self._records.get(job_id)
            if record is None:
                raise JobNotFound("this job is no longer in the queue")
            record.snapshot = record.snapshot.replace(**changes)
            return record.snapshot

    def remove(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._records.pop(job_id, None)

    def records(self) -> list[JobRecord]:
        with self._lock:
            return list(self._records.values())

    def jobs(self) -> list[KioskJob]:
        """Snapshots, newest first (by submit time, then arrival)."""
        with self._lock:
            snaps = [r.snapshot for r in self._records.values()]
        return sorted(
            snaps, key=lambda j: (j.submit_time or j.received_time, j.received_time, j.sequence), reverse=True
        )

    def fingerprints_in_use(self) -> set[bytes]:
        with self._lock:
            return {r.snapshot.key_fingerprint for r in self._records.values() if not r.snapshot.is_terminal}
