"""Pay at the counter and the day book, as the core sees them.

A mixin of :class:`kiosk.core.service.KioskCore`: the amount due of a job
(kiosk.core.pricing through the print plan), the shop's Paid mark (kept in
the job journal while the job is live, in the day book once it is completed),
the line each completed job leaves in the day book, and the book itself,
opened on first use with the key from the kiosk's key store.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from kiosk.core import events as ev
from kiosk.core.daybook import DAYBOOK_FILE, Clock, DayBook, DayBookError, DayEntry, local_now
from kiosk.core.daybook_key import daybook_key
from kiosk.core.errors import JobError, KioskError
from kiosk.core.pricing import Price

if TYPE_CHECKING:
    from pathlib import Path

    from kiosk.core.config import Settings
    from kiosk.core.events import EventHub
    from kiosk.core.jobs import KioskJob
    from kiosk.core.journal import Journal
    from kiosk.core.keystore import KeyStore
    from kiosk.core.queue import JobQueue

log = logging.getLogger(__name__)


class CounterPayments:
    """Amount due, Paid, and the day book; ``self`` is a KioskCore."""

    daybook_clock: Clock = staticmethod(local_now)  # type: ignore[assignment]
    _daybook_book: DayBook | None = None
    _daybook_lock = threading.Lock()

    if TYPE_CHECKING:  # provided by KioskCore
        data_dir: Path
        keystore: KeyStore
        journal: Journal
        queue: JobQueue
        events: EventHub

        @property
        def settings(self) -> Settings: ...
        def job(self, job_id: str) -> KioskJob: ...
        def print_plan(self, job_id: str, options: Any) -> Any: ...
        def job_printer(self, job_id: str, options: Any = None) -> str: ...

    def daybook(self) -> DayBook:
        """The day book, opened on first use.

        Raises:
            DayBookError: it cannot be opened with this kiosk's key (damaged, or the key is gone).
            KeyStoreError, WrongPassphrase: no key to open it with (not enrolled, locked).
        """
        with self._daybook_lock:
            if self._daybook_book is None:
                path, key = self.data_dir / DAYBOOK_FILE, daybook_key(self.keystore)
                days = self.settings.daybook_retention_days
                try:
                    self._daybook_book = DayBook.open(path, key, self.daybook_clock, days)
                except DayBookError as exc:  # damaged: keep it aside, start a new book rather than lose each day
                    aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
                    try:
                        path.replace(aside)
                    except OSError:
                        raise exc from None
                    log.warning("the day book could not be opened (%s); kept as %s, starting a new one", exc, aside)
                    self._daybook_book = DayBook.open(path, key, self.daybook_clock, days)
            else:
                daybook_key(self.keystore)  # re-wrapped to the current key after a rotation
                if self._daybook_book.retention_days != self.settings.daybook_retention_days:
                    self._daybook_book.set_retention(self.settings.daybook_retention_days)
            return self._daybook_book

    def amount_due(self, job_id: str) -> Price | None:
        """What the customer pays for the job as it stands (None: no price yet, e.g. not opened).

        Raises:
            JobNotFound.
        """
        job = self.job(job_id)
        try:
            return self.print_plan(job_id, job.options).total  # type: ignore[no-any-return]
        except (KioskError, ValueError):
            return job.price

    def paid_at(self, job_id: str) -> float | None:
        """When the shop marked the job paid (epoch seconds), or None."""
        entry = self.journal.get(job_id)
        if entry is not None and entry.paid_at is not None:
            return entry.paid_at
        try:
            line = self.daybook().get(job_id)
        except KioskError:
            return None
        return line.paid_at if line is not None else None

    def mark_paid(self, job_id: str, paid: bool = True) -> None:
        """The customer paid (cash or card at the till), or undo it.

        A live job keeps the mark in the job journal until it is completed; a
        completed one is changed in the day book.

        Raises:
            JobError: the job is neither live nor in the day book; DayBookError.
        """
        try:
            live = not self.job(job_id).is_terminal
        except JobError:
            live = False
        if live:
            self.journal.update(job_id, paid_at=self.daybook_clock().timestamp() if paid else None)
        else:
            try:
                self.daybook().mark_paid(job_id, paid)
            except KeyError:
                raise JobError("this job is not in the day book") from None
        self.events.emit(ev.JOB_UPDATED, job_id, "paid" if paid else "unpaid")

    def _daybook_line(self, job_id: str) -> DayEntry | None:
        """The day book line of a job about to be completed (None if it cannot be made: logged)."""
        try:
            job = self.job(job_id)
            price = self.amount_due(job_id)
            journal = self.journal.get(job_id)
            return DayEntry(
                job_id=job_id,
                time=self.daybook_clock().timestamp(),
                job_code=job.job_code,
                files=len(job.files),
                pages=price.pages if price is not None else job.page_count,
                sheets=price.sheets if price is not None else None,
                colour=job.options.color == "color",
                paper=job.options.media,
                printer=journal.printer if journal is not None and journal.printer else self._routed(job_id),
                price_cents=price.total_cents if price is not None else None,
                currency=price.currency if price is not None else self.settings.prices.currency,
                paid_at=journal.paid_at if journal is not None else None,
            )
        except KioskError as exc:
            log.warning("no day book line for job %s: %s", job_id, exc)
            return None

    def _routed(self, job_id: str) -> str:
        """The printer the job would go to (it was never printed), or ''."""
        try:
            return self.job_printer(job_id)
        except (KioskError, ValueError):
            return ""

    def _record_in_daybook(self, line: DayEntry | None) -> None:
        """Write a completed job's line, stamped now (failures are logged, never raised)."""
        if line is None:
            return
        try:
            self.daybook().append(dataclasses.replace(line, time=self.daybook_clock().timestamp()))
        except KioskError as exc:
            log.warning("the day book did not get job %s: %s", line.job_id, exc)
