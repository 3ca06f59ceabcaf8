"""What the core does with one job: fetch and open it, print, complete, reject.

A mixin of :class:`kiosk.core.service.KioskCore`, kept apart so each file has
one job. Every failure lands on the job (``KioskJob.error``) and never stops
other jobs.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cloudtab.v1 import common_pb2

import envelope
from kiosk.core import events as ev
from kiosk.core import reply
from kiosk.core.budget import MemoryBudget
from kiosk.core.counters import (
    ELSEWHERE_RECHECK,
    ForAnotherCounter,
    TakenElsewhere,
    for_no_counter,
    job_key_fingerprint,
    labelled,
    recipient_fingerprints,
    taken_by,
)
from kiosk.core.decrypt import JobManifest, file_print_options, open_job_manifest
from kiosk.core.errors import (
    DecryptError,
    JobError,
    KeyStoreError,
    KioskError,
    PageRangeError,
    PrinterError,
    RelayError,
)
from kiosk.core.formats import office_kind
from kiosk.core.jobs import LocalState, PrintOptions
from kiosk.core.journal import Journal, PrintRecord
from kiosk.core.opened import OpenedJob, open_ciphertexts
from kiosk.core.pricing import Price
from kiosk.core.printing import PrintJobHandle, PrintState, PrintStatus
from kiosk.core.printing.plan import PrintPlan, plan_print
from kiosk.core.printing.wait import WaitReason
from kiosk.core.reasons import RejectReason, reason_for, wording
from kiosk.core.render import wipe_buffer

if TYPE_CHECKING:
    from kiosk.core.config import Settings
    from kiosk.core.events import EventHub
    from kiosk.core.jobs import KioskJob
    from kiosk.core.keystore import KeyStore
    from kiosk.core.printing import PrinterBackend
    from kiosk.core.printing.fleet import PrinterFleet
    from kiosk.core.queue import JobQueue, JobRecord
    from kiosk.core.relay import RelayClient
    from kiosk.core.workers import WorkerPool

log = logging.getLogger(__name__)

MAX_FETCH_ATTEMPTS = 5


def check_declared_sizes(proto: common_pb2.Job, manifest: JobManifest) -> None:
    """Refuse a job whose stored sizes are not the sealed sizes of the manifest's files.

    Checked before anything is downloaded, so a relay (or customer) declaring
    600 MiB for a 10-byte file costs the kiosk nothing.

    Raises:
        DecryptError: a size differs.
    """
    for entry, info in zip(proto.files, manifest.files, strict=True):
        if entry.size != envelope.ciphertext_size(info.size):
            raise DecryptError(f"file {entry.index + 1} does not have the size the manifest says")


def job_footprint(manifest: JobManifest) -> int:
    """Bytes a job holds at its peak: every file's ciphertext and plaintext."""
    return sum(envelope.ciphertext_size(f.size) + f.size for f in manifest.files)


class JobActions:
    """Job operations; ``self`` is a KioskCore."""

    if TYPE_CHECKING:  # provided by KioskCore
        queue: JobQueue
        events: EventHub
        keystore: KeyStore
        auto_accept: bool
        print_timeout: float
        print_poll: float
        keep_finished: float
        budget: MemoryBudget
        documents: WorkerPool
        _stop: threading.Event
        journal: Journal
        _print_cancels: dict[str, threading.Event]
        _print_started: dict[str, float]

        @property
        def settings(self) -> Settings: ...
        def _relay(self) -> RelayClient: ...
        def _update(self, job_id: str, **changes: Any) -> KioskJob: ...
        def _submit(self, fn: Any, *args: Any) -> None: ...
        def printer(self) -> PrinterBackend: ...
        def fleet(self) -> PrinterFleet: ...
        def job_printer(self, job_id: str, options: PrintOptions | None = None) -> str: ...
        def _watch_print(self, job_id: str, printer_name: str) -> None: ...
        def _end_watch(self, job_id: str) -> None: ...
        def _prune_keys(self) -> None: ...
        @property
        def kiosk_label(self) -> str: ...
        def active_keys(self, max_age: float = ...) -> frozenset[bytes] | None: ...

        _active_keys: frozenset[bytes] | None
        _elsewhere_recheck_at: float

    def _fetch(self, job_id: str) -> None:
        """Download, decrypt, verify and open a job; mark it received. Runs on a worker."""
        try:
            record = self.queue.record(job_id)
        except JobError:
            return
        if record.snapshot.is_terminal or record.opened is not None:
            return
        record.attempts += 1
        self._update(job_id, state=LocalState.FETCHING, error=None)
        ciphertexts: list[bytearray] = []
        try:
            proto = record.proto
            try:
                fp = job_key_fingerprint(
                    bytes(proto.sealed_manifest), bytes(proto.key_fingerprint), self.keystore.holds
                )
                key = self.keystore.private_key(fp)
            except KeyStoreError as exc:
                raise JobError(f"cannot decrypt: {exc}") from None
            manifest = open_job_manifest(bytes(proto.sealed_manifest), key, job_id)
            record.manifest = manifest
            record.reply_key = manifest.reply_key
            journal_entry = self.journal.get(job_id)
            edited = journal_entry.options if journal_entry is not None else None
            self._update(
                job_id,
                customer_name=manifest.customer_name,
                note=manifest.note,
                files=manifest.files,
                options=edited or manifest.options,
            )
            if len(proto.files) != len(manifest.files):
                raise DecryptError("the job's files do not match its manifest")
            check_declared_sizes(proto, manifest)
            if not self._reserve(record, job_id, job_footprint(manifest)):
                return
            client = self._relay()
            for entry in proto.files:
                ciphertexts.append(client.download_file(job_id, entry.index, entry.size))
            opened = open_ciphertexts(
                job_id,
                manifest,
                ciphertexts,
                manifest.options.media,
                self.documents,
                grow=record.grow,
                layout=manifest.options.photo_layout,
            )
        except RelayError as exc:
            self._fetch_failed(job_id, str(exc), transient=not exc.gone, reason=RejectReason.INTERNAL)
            return
        except ForAnotherCounter as exc:  # another counter opens it: not an error, left to that counter
            if self._sealed_for_no_counter(exc.fingerprints):  # ... unless no active counter can: decline
                self._decline_for_no_counter(job_id)
                return
            record.elsewhere = True
            self._update(job_id, state=LocalState.FAILED, error=None, taken_by=taken_by(record.proto, "", True))
            self.events.emit(ev.JOB_UPDATED, job_id, str(exc))
            return
        except KioskError as exc:
            self._fetch_failed(job_id, str(exc), transient=False, reason=reason_for(exc), exc=exc)
            return
        except Exception:
            log.exception("unexpected error opening job %s", job_id)
            self._fetch_failed(
                job_id, "internal error while opening the job", transient=False, reason=RejectReason.INTERNAL
            )
            return
        finally:
            for buffer in ciphertexts:
                wipe_buffer(buffer)
        self._opened(record, opened)

    def _sealed_for_no_counter(self, fingerprints: tuple[bytes, ...]) -> bool:
        """None of the shop's active kiosks holds a key the job is sealed to (a revoked or
        replaced kiosk's key), as the relay lists them now; False while the list is unknown.
        """
        known = self.active_keys(max_age=math.inf)
        if known is None or not for_no_counter(fingerprints, known):
            return False
        fresh = self.active_keys()  # a counter may have joined since the list was read
        return fresh is not None and for_no_counter(fingerprints, fresh)

    def _decline_for_no_counter(self, job_id: str) -> None:
        """Decline at once a job that no active kiosk of the shop can open (code ``old-key``)."""
        message = wording(RejectReason.OLD_KEY)
        self._update(job_id, state=LocalState.FAILED, error=message, taken_by="")
        self._auto_reject(job_id, RejectReason.OLD_KEY)
        self.events.emit(ev.JOB_UPDATED, job_id, message)

    def _decline_orphans(self) -> None:
        """Decline the jobs left to other counters that none of the shop's active kiosks
        holds a key for any more (a counter was removed). Runs after each key set read.
        """
        active = self._active_keys
        if active is None:
            return
        for record in self.queue.records():
            if not record.elsewhere or record.snapshot.is_terminal:
                continue
            proto = record.proto
            try:
                fingerprints = recipient_fingerprints(bytes(proto.sealed_manifest), bytes(proto.key_fingerprint))
            except envelope.WrongKeyError:
                continue
            if for_no_counter(fingerprints, active):
                record.elsewhere = False
                self._decline_for_no_counter(record.snapshot.job_id)

    def _reserve(self, record: JobRecord, job_id: str, size: int) -> bool:
        """Reserve the job's memory, waiting while other open jobs fill the budget.

        False when the kiosk stops or the job ends meanwhile.
        Raises: DocumentTooLarge (larger than the whole budget).
        """
        if record.reserved:
            return True

        def waiting() -> None:
            self._update(job_id, error="waiting: other open jobs fill the kiosk's memory")
            self.events.emit(ev.JOB_UPDATED, job_id)

        def cancelled() -> bool:
            return self._stop.is_set() or record.snapshot.is_terminal

        if not self.budget.acquire(size, cancelled, waiting):
            return False
        record.hold(self.budget, size)
        if record.snapshot.error:
            self._update(job_id, error=None)
        return True

    def _opened(self, record: object, opened: OpenedJob) -> None:
        job_id = opened.job_id
        rec = self.queue.record(job_id)
        if rec.snapshot.is_terminal:  # cancelled while we were decrypting
            opened.wipe()
            return
        rec.opened = opened
        rec.file_pages = reply.file_pages(
            opened.file_page_counts, [office_kind(f.media_type, f.name) is not None for f in rec.snapshot.files]
        )
        options = rec.snapshot.options
        price, error = self._price_or_error(opened, options, rec)
        printed = rec.snapshot.printed_at is not None
        self._update(
            job_id,
            state=LocalState.PRINTED if printed else LocalState.READY,
            page_count=opened.page_count,
            price=price,
            error=error,
        )
        if rec.proto.state == common_pb2.JOB_STATE_QUEUED:
            try:
                statement = self._statement(job_id, reply.Detail(amount_due=_amount(price)), files=True)
                rec.proto = self._relay().update_job(job_id, common_pb2.JOB_STATE_RECEIVED, statement)
            except RelayError as exc:
                log.warning("could not mark job %s received: %s", job_id, exc)
        self.events.emit(ev.JOB_UPDATED, job_id)
        if self.auto_accept:
            self._auto_print(job_id)

    def _fetch_failed(
        self,
        job_id: str,
        message: str,
        transient: bool,
        reason: RejectReason = RejectReason.INTERNAL,
        exc: BaseException | None = None,
    ) -> None:
        try:
            record = self.queue.record(job_id)
        except JobError:
            return
        record.wipe()
        if exc is not None:
            record.located = reply.located(exc)
        if transient and record.attempts < MAX_FETCH_ATTEMPTS:
            record.retry_at = time.monotonic() + min(2**record.attempts, 30)
            self._update(job_id, state=LocalState.NEW, error=f"{message}; retrying")
        else:
            self._update(job_id, state=LocalState.FAILED, error=message)
            if self.auto_accept:
                self._auto_reject(job_id, reason, exc)
        self.events.emit(ev.JOB_UPDATED, job_id, message)

    def _price_or_error(
        self, opened: OpenedJob, options: PrintOptions, record: JobRecord | None = None
    ) -> tuple[Price | None, str | None]:
        try:
            total = self._plan(opened, options).total
        except (PageRangeError, ValueError) as exc:
            if record is not None:
                record.located = reply.located(exc)
            return None, f"requested pages: {exc}; change them before printing"
        if record is not None:
            record.located = None
        return total, None

    def _plan(self, opened: OpenedJob, options: PrintOptions) -> PrintPlan:
        """Raises: PageRangeError, ValueError."""
        return plan_print(
            opened.file_page_counts, options, self.settings.prices, file_print_options(opened.manifest, options)
        )

    def price(self, job_id: str, options: PrintOptions) -> Price:
        """Price of a job with these options (every file on its own sheets).

        Raises:
            JobNotFound, JobError (not opened yet), PageRangeError, ValueError.
        """
        return self.print_plan(job_id, options).total

    def print_plan(self, job_id: str, options: PrintOptions) -> PrintPlan:
        """Per-file pages, options and price lines for these options.

        Raises:
            JobNotFound, JobError (not opened yet), PageRangeError, ValueError.
        """
        record = self.queue.record(job_id)
        if record.opened is None:
            raise JobError("the job is not open yet")
        return self._plan(record.opened, options)

    def edit_options(self, job_id: str, options: PrintOptions) -> Price | None:
        """The shop changed the options: keep them (also in the journal) and reprice.

        Raises:
            JobNotFound, ValueError (invalid options). A range that does not fit
            the document is kept and the price is None.
        """
        options.validate()
        record = self.queue.record(job_id)
        price: Price | None = None
        if record.opened is not None:
            try:
                price = self._plan(record.opened, options).total
                record.located = None
            except PageRangeError as exc:
                price, record.located = None, reply.located(exc)
        self._update(job_id, options=options, price=price)
        self.journal.update(
            job_id,
            options=options,
            price_cents=price.total_cents if price else None,
            currency=price.currency if price else "",
        )
        self.events.emit(ev.JOB_UPDATED, job_id)
        return price

    def open_job(self, job_id: str, timeout: float = 120.0) -> OpenedJob:
        """The opened job (pages to render), waiting while it is still being fetched. [blocking]

        Raises:
            JobNotFound, JobError (failed: the message says why; terminal; timeout).
        """
        deadline = time.monotonic() + timeout
        while True:
            record = self.queue.record(job_id)
            if record.opened is not None and not record.opened.wiped:
                self._submit(self._claim, job_id)
                return record.opened
            snap = record.snapshot
            if snap.is_terminal:
                raise JobError(f"the job is {snap.state.value}")
            if snap.state is LocalState.FAILED:
                if record.elsewhere:
                    raise JobError("the job is for another counter of the shop; open it there")
                raise JobError(snap.error or "the job cannot be opened")
            if time.monotonic() > deadline:
                raise JobError("the job is still being fetched; try again")
            time.sleep(0.05)

    def _claim(self, job_id: str) -> None:
        """The shopkeeper opened the job here: tell the shop's other counters (RECEIVED + this label)."""
        label = self.kiosk_label
        try:
            proto = self.queue.record(job_id).proto
        except JobError:
            return
        statement = proto.kiosk_statement.kiosk_label if proto.HasField("kiosk_statement") else ""
        if not label or statement == label or taken_by(proto, label):
            return
        if proto.state not in (common_pb2.JOB_STATE_QUEUED, common_pb2.JOB_STATE_RECEIVED):
            return
        try:
            updated = self._relay().update_job(job_id, common_pb2.JOB_STATE_RECEIVED, self._received_statement(job_id))
        except RelayError as exc:
            log.warning("could not tell the other counters about job %s: %s", job_id, exc)
            return
        try:
            self.queue.record(job_id).proto = updated
        except JobError:
            pass

    def print_job(self, job_id: str, options: PrintOptions | None = None, *, override: bool = False) -> PrintStatus:
        """Send the job to the printer, each file as its own print job, and follow it. [blocking]

        Each print-system job is purged once it has finished (nothing of the
        document stays in the spool); :meth:`cancel_print` stops it midway.

        Raises:
            JobNotFound, JobError (not ready / gone at the relay), PageRangeError, ValueError.
            TakenElsewhere: another counter opened or is printing it (``override`` prints anyway).
            Printer failures do not raise: they come back as a FAILED status (also on the job).
        """
        record = self.queue.record(job_id)
        other = taken_by(record.proto, self.kiosk_label)
        if other and not override:
            raise TakenElsewhere(other)
        with record.op_lock:
            opened = record.opened
            snap = record.snapshot
            if opened is None or snap.state not in (LocalState.READY, LocalState.PRINTED):
                raise JobError("the job cannot be printed now")
            options = options or snap.options
            plan = self._plan(opened, options)
            printer_name = self.job_printer(job_id, options)
            cancel = threading.Event()
            self._print_cancels[job_id] = cancel
            self._update(
                job_id,
                options=options,
                price=plan.total,
                error=None,
                state=LocalState.PRINTING,
                print_status=PrintStatus(PrintState.PENDING, "Sending to the printer"),
            )
            self.events.emit(ev.JOB_UPDATED, job_id)
            try:
                try:
                    if record.proto.state != common_pb2.JOB_STATE_PRINTING or other:
                        record.proto = self._relay().update_job(
                            job_id, common_pb2.JOB_STATE_PRINTING, labelled(self.kiosk_label)
                        )
                except RelayError as exc:
                    if exc.gone:
                        self._update(
                            job_id,
                            state=LocalState.READY,
                            print_status=None,
                            error="the relay no longer allows this job (withdrawn or expired)",
                        )
                        self.events.emit(ev.JOB_UPDATED, job_id)
                        raise JobError("the relay no longer allows this job (withdrawn or expired)") from None
                    log.warning("could not mark job %s printing: %s", job_id, exc)
                self._print_started[job_id] = time.monotonic()
                status = self._send_plan(job_id, opened, plan, snap.job_code, cancel, printer_name)
            finally:
                self._print_cancels.pop(job_id, None)
                self._end_watch(job_id)
            printed_at = snap.printed_at
            if status.state is PrintState.COMPLETED:
                printed_at = datetime.now(UTC)
                self.journal.update(
                    job_id,
                    printed_at=printed_at.timestamp(),
                    printer=printer_name,
                    options=options,
                    price_cents=plan.total.total_cents,
                    currency=plan.total.currency,
                )
            state = LocalState.PRINTED if printed_at is not None else LocalState.READY
            error = None if status.state is PrintState.COMPLETED else status.message
            self._update(job_id, state=state, print_status=status, error=error, printed_at=printed_at, stalled=False)
            self.events.emit(ev.JOB_UPDATED, job_id)
            return status

    def cancel_print(self, job_id: str) -> bool:
        """Stop the job's printing (the print system's job is cancelled and purged); False if none runs."""
        cancel = self._print_cancels.get(job_id)
        if cancel is None:
            return False
        cancel.set()
        return True

    def _send_plan(
        self, job_id: str, opened: OpenedJob, plan: PrintPlan, code: str, cancel: threading.Event, printer_name: str
    ) -> PrintStatus:
        """Print the plan's files one after another; the first failure stops the rest."""
        status = PrintStatus(PrintState.FAILED, "Nothing to print: no page is selected")
        count = len(plan.files)
        for number, file in enumerate(plan.files, start=1):
            if cancel.is_set():
                return PrintStatus(PrintState.FAILED, "Printing was cancelled")
            name = f"cloudtab-{code}" + (f"-{number}" if count > 1 else "")
            prefix = f"File {number} of {count}: " if count > 1 else ""
            status = self._send_file(job_id, opened, file.index, file.options, name, prefix, cancel, printer_name)
            if status.state is not PrintState.COMPLETED:
                return status
        return status

    def _send_file(
        self,
        job_id: str,
        opened: OpenedJob,
        index: int,
        options: PrintOptions,
        name: str,
        prefix: str,
        cancel: threading.Event,
        printer_name: str,
    ) -> PrintStatus:
        pdf: bytearray | None = None
        try:
            printer = self.fleet().backend(printer_name)
            pdf = opened.file_pdf(index)
            handle = printer.print_pdf(pdf, options, name)
        except (PrinterError, KioskError) as exc:
            return PrintStatus(PrintState.FAILED, prefix + str(exc))
        finally:
            if pdf is not None:
                wipe_buffer(pdf)
        record = PrintRecord(str(handle.printer), handle.job_id, handle.uri)
        self.journal.add_print_job(job_id, record)
        try:
            return self._follow(job_id, printer, handle, prefix, cancel, printer_name)
        finally:
            if printer.purge(handle):
                self.journal.drop_print_job(job_id, record)

    def _follow(
        self,
        job_id: str,
        printer: Any,
        handle: PrintJobHandle,
        prefix: str,
        cancel: threading.Event,
        printer_name: str = "",
    ) -> PrintStatus:
        deadline = time.monotonic() + self.print_timeout
        last = PrintStatus(PrintState.PENDING, "Sent to the printer")
        errors = 0
        while time.monotonic() < deadline:
            if cancel.is_set():
                try:
                    printer.cancel(handle)
                except PrinterError as exc:
                    log.info("cancel of print job %s failed: %s", handle.job_id, exc)
                return PrintStatus(PrintState.FAILED, prefix + "Printing was cancelled")
            try:
                status = printer.status(handle)
                errors = 0
            except PrinterError as exc:
                errors += 1
                if errors >= 10:
                    return PrintStatus(PrintState.FAILED, prefix + str(exc))
                status = last
            if status != last:
                last = status
                shown = PrintStatus(status.state, prefix + status.message, status.reasons)
                self._update(job_id, print_status=shown)
                self.events.emit(ev.PRINT_STATUS, job_id, shown.message)
            if status.state.done:
                return PrintStatus(status.state, prefix + status.message, status.reasons)
            self._watch_print(job_id, printer_name)
            cancel.wait(self.print_poll)
        minutes = max(1, round(self.print_timeout / 60))
        return PrintStatus(
            PrintState.FAILED, f"{prefix}The printer has not finished after {minutes} min (last: {last.message})"
        )

    def purge_print_jobs(self, job_id: str) -> None:
        """Remove what the print system still holds of the job and forget its journal entry. [blocking]"""
        entry = self.journal.get(job_id)
        if entry is None:
            return
        if entry.print_jobs:
            try:
                printer = self.printer()
            except KioskError:
                printer = None
            for record in entry.print_jobs:
                owner = self.fleet().backend_for(record.printer) or printer
                if owner is not None:
                    owner.purge(PrintJobHandle(record.printer, record.job_id, record.uri))
        self.journal.remove(job_id)

    def complete(self, job_id: str) -> None:
        """Complete the job at the relay (which deletes it) and wipe it here. [blocking]

        Raises:
            JobNotFound, RelayError (unreachable: try again).
        """
        record = self.queue.record(job_id)
        with record.op_lock:
            line = self._daybook_line(job_id)  # type: ignore[attr-defined]  # before the relay's event wipes the job
            try:
                statement = self._statement(job_id, reply.Detail(amount_due=_amount(record.snapshot.price)), files=True)
                record.proto = self._relay().complete_job(job_id, statement)
                reason = ""
            except RelayError as exc:
                if not exc.gone:
                    raise
                reason = "already closed at the relay"
            self._record_in_daybook(line)  # type: ignore[attr-defined]  # kiosk.core.counter_payments
            self._finish(job_id, LocalState.COMPLETED, reason)

    def reject(
        self, job_id: str, reason: RejectReason | str, note: str = "", detail: reply.Detail | None = None
    ) -> None:
        """Decline the job with a fixed reason code; wipe it here. [blocking]

        The relay gets only the code. ``note`` (the shopkeeper's words) and
        ``detail`` (which file and page) reach the customer sealed to the
        page's reply key, never in clear.

        Raises:
            JobNotFound, JobError (not a reason code; a note for a page without a
            reply key, or too long), RelayError (unreachable).
        """
        try:
            code = RejectReason(reason)
        except ValueError:
            raise JobError("pick one of the listed reasons") from None
        note = " ".join(note.split())
        if len(note) > reply.MAX_NOTE:
            raise JobError(f"the note is longer than {reply.MAX_NOTE} characters")
        record = self.queue.record(job_id)
        if note and record.reply_key is None:
            raise JobError("this customer's page cannot receive a note; pick a reason only")
        with record.op_lock:
            base = detail or record.located or reply.Detail()
            statement = self._statement(job_id, dataclasses.replace(base, reason=code, note=note))
            try:
                record.proto = self._relay().reject_job(job_id, code.value, statement)
            except RelayError as exc:
                if not exc.gone:
                    raise
            self._finish(job_id, LocalState.REJECTED, wording(code))

    def _statement(self, job_id: str, detail: reply.Detail, files: bool = False) -> common_pb2.KioskStatement | None:
        """What the kiosk attaches to a state change: the detail sealed to the page (None: nothing)."""
        try:
            record = self.queue.record(job_id)
        except JobError:
            return None
        if files:
            detail = dataclasses.replace(detail, files=record.file_pages)
        try:
            sealed = reply.seal(detail, record.reply_key, job_id)
        except (envelope.EnvelopeError, ValueError):
            log.warning("could not seal the detail of job %s for the customer", job_id)
            return None
        return common_pb2.KioskStatement(sealed_detail=sealed) if sealed else None

    def _received_statement(self, job_id: str, wait: WaitReason | None = None) -> common_pb2.KioskStatement:
        """The RECEIVED statement again (sealed amount due, counter label), with why the job waits now if it does.

        The relay keeps only a job's latest statement, so a wait reason alone would drop the rest.
        """
        price = self.queue.get(job_id).price
        sealed = self._statement(job_id, reply.Detail(amount_due=_amount(price)), files=True)
        out = labelled(self.kiosk_label, sealed) or common_pb2.KioskStatement()
        if wait is not None:
            out.wait_reason = common_pb2.WaitReason.Value(wait.proto_name)
        return out

    def _finish(self, job_id: str, state: LocalState, reason: str = "") -> None:
        """Mark a job terminal and wipe what the kiosk holds of it."""
        try:
            record = self.queue.record(job_id)
        except JobError:
            return
        record.wipe()
        record.terminal_at = time.monotonic()
        self._update(job_id, state=state, reason=reason)
        self.events.emit(ev.JOB_UPDATED, job_id, state.value)
        self._prune_keys()
        self._submit(self.purge_print_jobs, job_id)

    def _auto_print(self, job_id: str) -> None:
        """Headless mode: print with the customer's options, then complete or reject."""
        try:
            status = self.print_job(job_id)
            if status.state is PrintState.COMPLETED:
                self.complete(job_id)
            else:
                self._auto_reject(job_id, RejectReason.PRINTER)
        except (KioskError, ValueError) as exc:
            self._auto_reject(job_id, reason_for(exc), exc)

    def _auto_reject(self, job_id: str, reason: RejectReason, exc: BaseException | None = None) -> None:
        """Decline with a fixed code; which file and page only sealed to the page."""
        detail = reply.located(exc) if exc is not None else None
        try:
            self.reject(job_id, reason, detail=detail)
        except KioskError as error:
            log.warning("could not reject job %s: %s", job_id, type(error).__name__)

    def _housekeeping_tick(self) -> None:
        """Expire overdue jobs, retry failed fetches, forget old terminal jobs."""
        now_mono = time.monotonic()
        now = datetime.now(UTC)
        for record in self.queue.records():
            snap = record.snapshot
            if snap.is_terminal:
                if record.terminal_at is not None and now_mono - record.terminal_at > self.keep_finished:
                    self.queue.remove(snap.job_id)
                    self.events.emit(ev.JOB_REMOVED, snap.job_id)
                continue
            if snap.expire_time is not None and snap.expire_time <= now:
                self._finish(snap.job_id, LocalState.EXPIRED, "not completed in time")
            elif snap.state is LocalState.NEW and record.retry_at is not None and now_mono >= record.retry_at:
                record.retry_at = None
                self._submit(self._fetch, snap.job_id)
            elif record.elsewhere and now_mono >= self._elsewhere_recheck_at:
                # A job waits for another counter: read the key set again now and then, so a
                # job whose counter was removed is declined (refresh_keyset -> _decline_orphans).
                self._elsewhere_recheck_at = now_mono + ELSEWHERE_RECHECK
                self._submit(self.active_keys, 0.0)


def _amount(price: Price | None) -> tuple[int, str] | None:
    """The amount due for the sealed detail (minor units, currency), or None when not priced."""
    return (price.total_cents, price.currency) if price is not None else None
