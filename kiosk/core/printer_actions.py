"""The core's printers: the fleet, its health thread, routing and the shop's choice per job.

A mixin of :class:`kiosk.core.service.KioskCore`. The health thread polls
every printer (Get-Printer-Attributes) every ``health_poll`` seconds, emits
``printers`` when what the queue screen shows changes and ``printer_stopped``
when a printer goes from able to print to waiting for someone (the UI
chimes), and republishes the shop's capabilities once the printers' own
capabilities are known or change.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from cloudtab.v1 import common_pb2

from kiosk.core import events as ev
from kiosk.core.errors import JobError, KioskError
from kiosk.core.jobs import LocalState
from kiosk.core.options import PrintOptions
from kiosk.core.printing.caps import PrinterCaps
from kiosk.core.printing.fleet import PrinterFleet
from kiosk.core.printing.health import PrinterHealth
from kiosk.core.printing.routing import route
from kiosk.core.printing.wait import WaitReason

if TYPE_CHECKING:
    from pathlib import Path

    from kiosk.core.config import Settings
    from kiosk.core.events import EventHub
    from kiosk.core.printing import PrinterBackend
    from kiosk.core.queue import JobQueue
    from kiosk.core.relay import RelayClient

log = logging.getLogger(__name__)


class PrinterActions:
    """``self`` is a KioskCore."""

    health_poll: float = 5.0

    if TYPE_CHECKING:  # provided by KioskCore
        data_dir: Path
        events: EventHub
        queue: JobQueue
        _printer_override: PrinterBackend | None
        _settings: Settings
        _stop: threading.Event

        def _submit(self, fn: object, *args: object) -> None: ...
        def _publish_capabilities(self) -> None: ...
        def _update(self, job_id: str, **changes: object) -> object: ...
        def _relay(self) -> RelayClient: ...
        def _received_statement(self, job_id: str, reason: WaitReason) -> common_pb2.KioskStatement: ...

    def _printers_init(self) -> None:
        self._fleet: PrinterFleet | None = None
        self._fleet_lock = threading.Lock()
        self._job_printers: dict[str, str] = {}
        self._health_thread: threading.Thread | None = None
        self._last_health: list[PrinterHealth] = []
        self._last_caps: dict[str, PrinterCaps | None] = {}
        self._print_started: dict[str, float] = {}  # job id -> monotonic time Print was pressed
        self._wait_sent: dict[str, WaitReason] = {}  # job id -> the wait reason the relay has
        self._received_wait: dict[str, WaitReason] = {}  # RECEIVED job id -> the wait reason the relay has

    def fleet(self) -> PrinterFleet:
        """The printers of the current settings (rebuilt when the settings change)."""
        with self._fleet_lock:
            if self._fleet is None:
                self._fleet = PrinterFleet(self._settings.all_printers(), self.data_dir, self._printer_override)
            return self._fleet

    def _printers_changed(self) -> None:
        """Settings were saved: rebuild the fleet, drop choices of printers that are gone, poll soon."""
        with self._fleet_lock:
            self._fleet = None
        names = set(self.fleet().names)
        for job_id, name in list(self._job_printers.items()):
            if name not in names:
                self._job_printers.pop(job_id, None)
        self._last_caps = {}
        self._submit(self.poll_printers)

    def printer_names(self) -> list[str]:
        """The printers' labels in settings order (the first is the default)."""
        return self.fleet().names

    def printer_health(self) -> list[PrinterHealth]:
        """Each printer's last polled health (no I/O)."""
        return self.fleet().health()

    def printer_caps(self) -> dict[str, PrinterCaps | None]:
        """Each printer's capabilities as last read (None: not read yet)."""
        return self.fleet().caps()

    def job_printer(self, job_id: str, options: PrintOptions | None = None) -> str:
        """The printer the job goes to: the shop's choice, else the routing rules on its options."""
        fleet = self.fleet()
        chosen = self._job_printers.get(job_id)
        if chosen in fleet.names:
            return str(chosen)
        if options is None:
            options = self.queue.get(job_id).options
        return route(options, fleet.names, fleet.caps(), self._settings.routes)

    def choose_printer(self, job_id: str, name: str | None) -> None:
        """Send this job to ``name`` (None: back to the routing rules).

        Raises:
            JobNotFound; JobError: no printer has that name.
        """
        self.queue.get(job_id)
        if name is None:
            self._job_printers.pop(job_id, None)
        elif name not in self.fleet().names:
            raise JobError(f"no printer is called {name!r}")
        else:
            self._job_printers[job_id] = name
        self.events.emit(ev.JOB_UPDATED, job_id)

    def printer_wait_reason(self, name: str) -> WaitReason | None:
        """Why a job sent to this printer waits now (None: the printer can print)."""
        for health in self.fleet().health():
            if health.name == name:
                return health.stopping_reason
        return None

    def _watch_print(self, job_id: str, printer_name: str) -> None:
        """While a print runs: flag it stalled after the configured time; tell the customer why it waits."""
        started = self._print_started.get(job_id)
        if started is None:
            return
        elapsed = time.monotonic() - started
        stalled = elapsed >= self._settings.stalled_after_seconds
        if stalled and not self.queue.get(job_id).stalled:
            log.info("print of job %s stalled after %.0f s", job_id, elapsed)
            self._update(job_id, stalled=True)
            self.events.emit(ev.JOB_UPDATED, job_id)
        reason = self.printer_wait_reason(printer_name) if printer_name else None
        if reason is None:
            reason = WaitReason.PRINTING_SLOW if stalled else WaitReason.UNSPECIFIED
        if self._wait_sent.get(job_id, WaitReason.UNSPECIFIED) != reason:
            self._wait_sent[job_id] = reason
            self._send_wait_reason(job_id, reason)

    def _end_watch(self, job_id: str) -> None:
        """The print ended: a wait reason the customer still sees is taken back."""
        self._print_started.pop(job_id, None)
        if self._wait_sent.pop(job_id, WaitReason.UNSPECIFIED) is not WaitReason.UNSPECIFIED:
            self._send_wait_reason(job_id, WaitReason.UNSPECIFIED)

    def _send_wait_reason(self, job_id: str, reason: WaitReason) -> None:
        """Tell the relay (UpdateJob PRINTING with a statement) why the job waits; failures are logged."""
        log.info("job %s waits: %s", job_id, reason.value)
        statement = common_pb2.KioskStatement(wait_reason=common_pb2.WaitReason.Value(reason.proto_name))
        try:
            record = self.queue.record(job_id)
            record.proto = self._relay().update_job(job_id, common_pb2.JOB_STATE_PRINTING, statement=statement)
        except KioskError as exc:
            log.warning("could not tell the relay why job %s waits: %s", job_id, exc)

    def _tell_received_waits(self) -> None:
        """Jobs received but not printing: tell the relay when their printer stops, and when it is ready again."""
        waiting: set[str] = set()
        for record in self.queue.records():
            job_id = record.snapshot.job_id
            if record.proto.state != common_pb2.JOB_STATE_RECEIVED or job_id in self._print_started:
                continue
            if record.snapshot.state is not LocalState.READY:
                continue
            waiting.add(job_id)
            try:
                reason = self.printer_wait_reason(self.job_printer(job_id)) or WaitReason.UNSPECIFIED
            except KioskError:
                continue
            if self._received_wait.get(job_id, WaitReason.UNSPECIFIED) == reason:
                continue
            log.info("received job %s waits: %s", job_id, reason.value)
            try:
                statement = self._received_statement(job_id, reason)
                record.proto = self._relay().update_job(job_id, common_pb2.JOB_STATE_RECEIVED, statement)
            except KioskError as exc:
                log.warning("could not tell the relay why job %s waits: %s", job_id, exc)
                continue
            self._received_wait[job_id] = reason
        for job_id in set(self._received_wait) - waiting:  # printing, done or gone: its new state says enough
            self._received_wait.pop(job_id, None)

    def poll_printers(self) -> list[PrinterHealth]:
        """Poll every printer now and tell listeners what changed. [blocking]"""
        fleet = self.fleet()
        health = fleet.poll()
        before = {h.name: h for h in self._last_health}
        self._last_health = health
        for now in health:
            was = before.get(now.name)
            if now.stopped and (was is None or not was.stopped):
                log.info("printer %s stopped: %s", now.name, ",".join(now.reasons) or now.state)
                self.events.emit(ev.PRINTER_STOPPED, None, now.name)
        if health != [before.get(h.name) for h in health]:
            self.events.emit(ev.PRINTERS)
        self._tell_received_waits()
        caps = fleet.caps()
        connection = getattr(self, "_connection", None)
        online = connection is not None and connection.online
        if online and caps != self._last_caps and any(c is not None for c in caps.values()):
            self._last_caps = caps  # offline: kept unpublished until a poll finds the kiosk online
            self._submit(self._publish_capabilities)
        return health

    def _start_health(self) -> None:
        if self._health_thread is not None and self._health_thread.is_alive():
            return
        self._health_thread = threading.Thread(target=self._health_loop, name="kiosk-printer-health", daemon=True)
        self._health_thread.start()

    def _stop_health(self) -> None:
        thread, self._health_thread = self._health_thread, None
        if thread is not None:
            thread.join(3.0)

    def _health_loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.poll_printers()
            except KioskError as exc:
                log.info("printer poll failed: %s", exc)
            except Exception:
                log.exception("printer poll failed")
            self._stop.wait(max(0.2, self.health_poll - (time.monotonic() - started)))
