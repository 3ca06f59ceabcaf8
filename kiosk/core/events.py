"""Events the core sends to its listeners (the UI, the headless runner)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

JOB_ADDED = "job_added"  # a new job arrived: play a sound / flash
JOB_UPDATED = "job_updated"
JOB_REMOVED = "job_removed"
CONNECTION = "connection"  # online/offline changed
PRINT_STATUS = "print_status"
ENROLLED = "enrolled"
SETTINGS = "settings"
PRINTERS = "printers"  # a printer's health changed (queue screen)
PRINTER_STOPPED = "printer_stopped"  # a printer stopped and needs someone (message: its label): chime


@dataclass(frozen=True)
class CoreEvent:
    """Something changed; listeners re-read state from the core."""

    kind: str
    job_id: str | None = None
    message: str = ""


Listener = Callable[[CoreEvent], None]


class EventHub:
    """Listener registry; emit() calls each listener on the calling thread, errors logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def emit(self, kind: str, job_id: str | None = None, message: str = "") -> None:
        event = CoreEvent(kind, job_id, message)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("kiosk listener failed on %s", kind)
