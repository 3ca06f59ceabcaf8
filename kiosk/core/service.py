"""KioskCore: the one object the Kivy UI and the headless mode drive.

It owns the data folder, key store, relay client, subscription thread, job
queue and printer, and tells listeners what changed (see kiosk.core docs for
the threading contract).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudtab.v1 import common_pb2

from kiosk.core import events as ev
from kiosk.core.actions import JobActions
from kiosk.core.budget import MemoryBudget
from kiosk.core.capabilities import shop_capabilities
from kiosk.core.config import (
    Settings,
    default_data_dir,
    ensure_data_dir,
    load_settings,
    read_json,
    save_settings,
    write_private,
)
from kiosk.core.convert import configure_soffice
from kiosk.core.counter_payments import CounterPayments
from kiosk.core.counters import ELSEWHERE_RECHECK, KEYSET_RECHECK, active_fingerprints, taken_by
from kiosk.core.enrollment import ShopProfile, load_profile, save_profile, shop_keyset_fingerprint
from kiosk.core.errors import ConfigError, KioskError
from kiosk.core.events import CoreEvent, EventHub, Listener
from kiosk.core.jobs import KioskJob, LocalState
from kiosk.core.journal import Journal
from kiosk.core.keystore import KeyStore
from kiosk.core.printer_actions import PrinterActions
from kiosk.core.printing import (
    PrinterBackend,
)
from kiosk.core.queue import JobQueue, JobRecord
from kiosk.core.receipts import ReceiptSigner
from kiosk.core.relay import RelayClient
from kiosk.core.shop_actions import ShopActions
from kiosk.core.subscription import ConnectionState, Subscription
from kiosk.core.version import update_needed
from kiosk.core.workers import Limits, WorkerPool

log = logging.getLogger(__name__)

CURSOR_FILE = "cursor.json"
JOURNAL_GRACE_SECONDS = 120.0  # after start, jobs not replayed by then are gone at the relay
TERMINAL = {
    common_pb2.JOB_STATE_COMPLETED: LocalState.COMPLETED,
    common_pb2.JOB_STATE_REJECTED: LocalState.REJECTED,
    common_pb2.JOB_STATE_CANCELLED: LocalState.CANCELLED,
    common_pb2.JOB_STATE_EXPIRED: LocalState.EXPIRED,
}
ACTIVE = (common_pb2.JOB_STATE_QUEUED, common_pb2.JOB_STATE_RECEIVED, common_pb2.JOB_STATE_PRINTING)

__all__ = ["CoreEvent", "KioskCore"]


def _ts(value: Any) -> datetime | None:
    if value is None or (value.seconds == 0 and value.nanos == 0):
        return None
    return value.ToDatetime(tzinfo=UTC)


class KioskCore(JobActions, ShopActions, CounterPayments, PrinterActions):
    """The kiosk's domain core. See the package docstring for the API contract."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        passphrase: str | None = None,
        printer: PrinterBackend | None = None,
        auto_accept: bool = False,
        print_timeout: float = 600.0,
        idle_timeout: float = 45.0,
        memory_budget: int | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.data_dir = ensure_data_dir(Path(data_dir) if data_dir else default_data_dir())
        self.keystore = KeyStore(self.data_dir, passphrase)
        self._settings = load_settings(self.data_dir)
        configure_soffice(self._settings.soffice)
        self._profile = load_profile(self.data_dir)
        self._printer_override = printer
        self.auto_accept = auto_accept
        self.print_timeout = print_timeout
        self.print_poll = 0.25
        self.keep_finished = 600.0
        self.idle_timeout = idle_timeout
        self.queue = JobQueue()
        self.budget = MemoryBudget(memory_budget)
        self.journal = Journal.load(self.data_dir)
        self._print_cancels: dict[str, threading.Event] = {}
        self._started_at = 0.0
        self._journal_swept = False
        self.limits = limits or Limits()
        self.documents = WorkerPool(limits=self.limits)
        self.events = EventHub()
        self._client: RelayClient | None = None
        self._client_lock = threading.Lock()
        self._subscription: Subscription | None = None
        self._workers: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self._connection = ConnectionState()
        # The shop's active kiosk keys as the relay last listed them (None until it has).
        self._active_keys: frozenset[bytes] | None = None
        self._active_keys_at = 0.0
        self._elsewhere_recheck_at = time.monotonic() + ELSEWHERE_RECHECK
        self._printers_init()

    # -- state -------------------------------------------------------------------------
    @property
    def enrolled(self) -> bool:
        return (
            self._profile is not None
            and self.keystore.token is not None
            and self.keystore.current_fingerprint is not None
        )

    @property
    def shop(self) -> ShopProfile | None:
        return self._profile

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def connection(self) -> ConnectionState:
        return self._connection

    @property
    def relay_address(self) -> str:
        return self._settings.relay_address or (self._profile.relay_address if self._profile else "")

    def save_settings(self, settings: Settings) -> None:
        """Validate and store settings; a changed relay address reconnects. Raises: ConfigError."""
        old = self._settings
        save_settings(self.data_dir, settings)
        self._settings = settings
        configure_soffice(settings.soffice)
        if (settings.all_printers(), settings.routes) != (old.all_printers(), old.routes):
            self._printers_changed()
        self.events.emit(ev.SETTINGS)
        if self._connection.online:
            self._submit(self._publish_capabilities)
        if settings.relay_address != old.relay_address and self._subscription is not None:
            self._reset_client()
            self._subscription.reconnect()

    def add_listener(self, listener: Listener) -> None:
        self.events.add(listener)

    def remove_listener(self, listener: Listener) -> None:
        self.events.remove(listener)

    def jobs(self) -> list[KioskJob]:
        """Every job, newest first."""
        return self.queue.jobs()

    def job(self, job_id: str) -> KioskJob:
        """Raises: JobNotFound."""
        return self.queue.get(job_id)

    def dismiss(self, job_id: str) -> None:
        """Remove a finished job from the list (active jobs stay)."""
        if self.queue.get(job_id).is_terminal:
            self.queue.remove(job_id)
            self.events.emit(ev.JOB_REMOVED, job_id)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the subscription and housekeeping threads (non-blocking).

        Raises:
            ConfigError: not enrolled; WrongPassphrase / KeyStoreError: keys unusable.
        """
        if not self.enrolled:
            raise ConfigError("the kiosk is not enrolled yet")
        if self._subscription is not None:
            return
        self.keystore.check_passphrase()
        self._stop.clear()
        self._started_at = time.monotonic()
        self._journal_swept = False
        self._sweep_printer(everything=True)
        if self.documents.closed:
            self.documents = WorkerPool(limits=self.limits)
        threading.Thread(target=self.documents.warm, args=(2,), name="kiosk-warm-workers", daemon=True).start()
        # Four fetches at once: two jobs stuck at a document limit do not hold up the next one.
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kiosk-job")
        # Decrypted jobs live only in this process's memory, so a new process
        # must replay every active job (after_sequence=0); within a process the
        # subscription resumes after the last sequence it handled.
        self._subscription = Subscription(
            self._relay,
            self._on_event,
            self._on_connection,
            after_sequence=0,
            on_sequence=self._save_cursor,
            idle_timeout=self.idle_timeout,
        )
        self._subscription.start()
        self._housekeeper = threading.Thread(target=self._housekeeping, name="kiosk-housekeeping", daemon=True)
        self._housekeeper.start()
        self._start_health()

    def stop(self) -> None:
        """Stop threads and wipe every decrypted job. [blocking, a few seconds at most]"""
        self._stop.set()
        if self._subscription is not None:
            self._subscription.stop()
            self._subscription = None
        if self._workers is not None:
            self._workers.shutdown(wait=True, cancel_futures=True)
            self._workers = None
        if self._housekeeper is not None:
            self._housekeeper.join(3.0)
            self._housekeeper = None
        self._stop_health()
        for record in self.queue.records():
            record.wipe()
        self.documents.close()
        self._reset_client()

    def _relay(self) -> RelayClient:
        with self._client_lock:
            if self._client is None:
                self._client = RelayClient(self.relay_address, self.keystore.token, ReceiptSigner(self.keystore))
            return self._client

    def _reset_client(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _submit(self, fn: Any, *args: Any) -> None:
        workers = self._workers
        if workers is None or self._stop.is_set():
            return
        try:
            workers.submit(fn, *args)
        except RuntimeError:  # shut down meanwhile
            pass

    def _housekeeping(self) -> None:
        ticks = 0
        while not self._stop.wait(1.0):
            ticks += 1
            try:
                self._housekeeping_tick()
                if ticks % 60 == 0:
                    self._sweep_printer()
                if not self._journal_swept and time.monotonic() - self._started_at > JOURNAL_GRACE_SECONDS:
                    self._journal_swept = True
                    self._sweep_journal()
            except Exception:
                log.exception("housekeeping failed")

    def _sweep_printer(self, everything: bool = False) -> None:
        """The demo printer's output is deleted after its keep time, and all of it at start."""
        try:
            sweep = getattr(self.printer(), "sweep", None)
        except KioskError:
            return
        if callable(sweep):
            removed = sweep(everything=everything)
            if removed:
                log.info("demo printer: removed %d old output file(s)", removed)

    def _sweep_journal(self) -> None:
        """Journal entries of jobs the relay no longer replays: purge their print jobs, forget them."""
        for entry in self.journal.entries():
            if entry.job_id not in self.queue:
                self.purge_print_jobs(entry.job_id)

    # -- relay events ------------------------------------------------------------------------
    def _on_connection(self, state: ConnectionState) -> None:
        if self._profile is not None and update_needed(self._profile.min_kiosk_version):
            state = ConnectionState(state.online, state.status, state.message, True, state.since)
        if state.online and not self._connection.online:
            self._submit(self._publish_capabilities)
        self._connection = state
        self.events.emit(ev.CONNECTION, None, state.message)

    def _publish_capabilities(self) -> None:
        """Tell the relay what the shop offers and charges (public); on failure it is tried at the next connect."""
        try:
            caps = [c for c in self.printer_caps().values() if c is not None]
            response = self._relay().publish_capabilities(shop_capabilities(self._settings, printer_caps=caps))
        except KioskError as exc:
            log.warning("could not publish the shop's prices and choices: %s", exc)
            return
        self.refresh_keyset(response.shop)

    def refresh_keyset(self, shop: common_pb2.Shop) -> None:
        """Show the key set the relay now lists (another counter joined or left; docs/envelope.md §2.1).

        Taken only when it lists this kiosk's own key; the poster, the idle screen and the
        customer's page then show the same fingerprint and words.
        """
        profile = self._profile
        if profile is None or not any(bytes(k.public_key) == profile.public_key for k in shop.kiosk_keys):
            return
        self._active_keys = active_fingerprints(shop)
        self._active_keys_at = time.monotonic()
        self._decline_orphans()
        try:
            digest = shop_keyset_fingerprint(shop)
        except KioskError as exc:
            log.warning("the relay's key set is unusable: %s", exc)
            return
        if digest == profile.keyset_digest:
            return
        self._profile = dataclasses.replace(profile, keyset_fingerprint=digest)
        try:
            save_profile(self.data_dir, self._profile)
        except ConfigError as exc:
            log.warning("cannot store the shop's key set: %s", exc)
        log.info("the shop's key set changed: %d kiosk(s)", len(shop.kiosk_keys))
        self.events.emit(ev.ENROLLED, None, "key set changed")

    def active_keys(self, max_age: float = KEYSET_RECHECK) -> frozenset[bytes] | None:
        """Fingerprints of the shop's active kiosk keys, read again from the relay when older
        than ``max_age`` seconds (a counter may have joined since); None while unknown. [blocking]
        """
        if self._active_keys is None or time.monotonic() - self._active_keys_at > max_age:
            self._publish_capabilities()
        return self._active_keys

    def _save_cursor(self, sequence: int) -> None:
        try:
            write_private(self.data_dir / CURSOR_FILE, json.dumps({"sequence": sequence}).encode())
        except ConfigError as exc:
            log.warning("cannot save the subscription cursor: %s", exc)

    def last_sequence(self) -> int:
        """The persisted sequence of the last event handled (0 if none)."""
        try:
            data = read_json(self.data_dir / CURSOR_FILE) or {}
        except ConfigError:
            return 0
        seq = data.get("sequence", 0)
        return seq if isinstance(seq, int) else 0

    def _update(self, job_id: str, **changes: Any) -> KioskJob:
        return self.queue.update(job_id, **changes)

    @property
    def kiosk_label(self) -> str:
        """This kiosk's counter name in the shop ("" for a shop's only kiosk enrolled before counters)."""
        return self._profile.kiosk_label if self._profile is not None else ""

    def _on_event(self, event: common_pb2.JobEvent) -> None:
        job = event.job
        job_id = job.job_id
        if job_id not in self.queue:
            if job.state not in ACTIVE:
                return
            entry = self.journal.get(job_id)
            printed_at = (
                datetime.fromtimestamp(entry.printed_at, UTC)
                if entry is not None and entry.printed_at is not None
                else None
            )
            snap = KioskJob(
                job_id=job_id,
                job_code=job.job_code,
                state=LocalState.NEW,
                received_time=datetime.now(UTC),
                expire_time=_ts(job.expire_time),
                submit_time=_ts(job.submit_time),
                key_fingerprint=bytes(job.key_fingerprint),
                taken_by=taken_by(job, self.kiosk_label),
                sequence=event.sequence,
                options=self._default_options(),
                printed_at=printed_at,
            )
            if self.queue.add(JobRecord(snapshot=snap, proto=job)):
                self.events.emit(ev.JOB_ADDED, job_id)
                self._submit(self._fetch, job_id)
            return
        record = self.queue.record(job_id)
        if not job.sealed_manifest and record.proto.sealed_manifest:
            job.sealed_manifest = record.proto.sealed_manifest
        record.proto = job
        if job.state in TERMINAL and not record.snapshot.is_terminal:
            self._finish(job_id, TERMINAL[job.state], job.reason)
        elif not record.snapshot.is_terminal:
            self._update(
                job_id,
                expire_time=_ts(job.expire_time),
                sequence=event.sequence,
                taken_by=taken_by(job, self.kiosk_label, record.elsewhere),
            )
            self.events.emit(ev.JOB_UPDATED, job_id)

    def _default_options(self) -> Any:
        from kiosk.core.options import PAPER_SIZES, PrintOptions

        media = self._settings.default_media if self._settings.default_media in PAPER_SIZES else "A4"
        return PrintOptions(media=media)

    def _prune_keys(self) -> None:
        try:
            retention = self._profile.retention_seconds if self._profile else 1800
            self.keystore.prune(self.queue.fingerprints_in_use(), retention)
        except KioskError as exc:
            log.warning("key pruning failed: %s", exc)
