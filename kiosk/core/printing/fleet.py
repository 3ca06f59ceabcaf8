"""The kiosk's printers: one backend per configured printer, their capabilities and health.

:meth:`PrinterFleet.poll` asks every printer for its attributes
(Get-Printer-Attributes: state, reasons, markers and capabilities in one
request) and keeps the answers; the core calls it from its printer-health
thread. The demo printer is always ready and can do anything the kiosk offers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from kiosk.core.config import PrinterSettings
from kiosk.core.errors import PrinterError
from kiosk.core.printing import make_printer
from kiosk.core.printing.base import PrinterBackend
from kiosk.core.printing.caps import ANYTHING, PrinterCaps, caps_from_attributes
from kiosk.core.printing.health import PrinterHealth, health_from_attributes, unreachable

log = logging.getLogger(__name__)


class PrinterFleet:
    """Printers by label, in settings order (the first is the default)."""

    def __init__(
        self,
        settings: Sequence[PrinterSettings],
        data_dir: Path,
        override: PrinterBackend | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._backends: dict[str, PrinterBackend | None] = {}
        self._errors: dict[str, str] = {}
        if override is not None:
            self._backends[settings[0].name if settings else "Printer 1"] = override
        else:
            for printer in settings:
                try:
                    self._backends[printer.name] = make_printer(printer, data_dir)
                except PrinterError as exc:
                    self._backends[printer.name] = None
                    self._errors[printer.name] = str(exc)
        self._caps: dict[str, PrinterCaps | None] = {}
        self._health: dict[str, PrinterHealth] = {}

    @property
    def names(self) -> list[str]:
        return list(self._backends)

    @property
    def default(self) -> str:
        return self.names[0]

    def backend(self, name: str | None = None) -> PrinterBackend:
        """The printer with this label (the default for None).

        Raises:
            PrinterError: unknown label, or its settings are incomplete.
        """
        name = name or self.default
        if name not in self._backends:
            raise PrinterError(f"no printer is called {name!r}")
        backend = self._backends[name]
        if backend is None:
            raise PrinterError(self._errors.get(name, "the printer's settings are incomplete"))
        return backend

    def backend_for(self, printer_uri: str) -> PrinterBackend | None:
        """The backend a print job handle belongs to (by the printer URI it records)."""
        for backend in self._backends.values():
            if backend is not None and printer_uri in (getattr(backend, "uri", None), backend.name):
                return backend
        return None

    def caps(self) -> dict[str, PrinterCaps | None]:
        """Capabilities per printer (None: not read yet)."""
        with self._lock:
            return {name: self._caps.get(name) for name in self._backends}

    def health(self) -> list[PrinterHealth]:
        """Last polled health per printer, in settings order (state 'unknown' before the first poll)."""
        with self._lock:
            return [self._health.get(name) or PrinterHealth(name, "unknown") for name in self._backends]

    def poll(self) -> list[PrinterHealth]:
        """Ask every printer for its state and capabilities. [blocking: one IPP request per printer]"""
        found: dict[str, tuple[PrinterHealth, PrinterCaps | None]] = {}
        for name, backend in list(self._backends.items()):
            ask = getattr(backend, "printer_attributes", None)
            if backend is None:
                found[name] = (unreachable(name), None)
            elif not callable(ask):
                found[name] = (PrinterHealth(name, "idle"), ANYTHING)
            else:
                try:
                    attrs = ask()
                    found[name] = (health_from_attributes(name, attrs), caps_from_attributes(attrs))
                except PrinterError as exc:
                    log.info("printer %s does not answer: %s", name, exc)
                    found[name] = (unreachable(name), None)
        with self._lock:
            for name, (health, caps) in found.items():
                self._health[name] = health
                if caps is not None:
                    self._caps[name] = caps
            return [self._health[name] for name in self._backends]
