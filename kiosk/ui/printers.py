"""The kiosk's printers on screen (printers.kv): health on the queue screen, the job view's printer chooser.

Both read the core without I/O (``printer_health()``, ``job_printer()``);
the core's printer-health thread polls the printers and the app refreshes
these widgets on its ``printers`` events. A printer that stops chimes once
(:func:`printer_stopped`).
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.core.errors import KioskError

log = logging.getLogger(__name__)


class PrinterLine(BoxLayout):
    """One printer: a coloured mark, its label and its state in words."""

    name = StringProperty("")
    words = StringProperty("")
    tone = StringProperty("ok")  # ok | warning | stopped


class PrinterHealthBar(BoxLayout):
    """Every printer's health, one line each (hidden until the first poll of a single ready printer)."""

    def refresh(self) -> None:
        """Rebuild from the core's last poll."""
        app = App.get_running_app()
        core = getattr(app, "core", None)
        if core is None or not hasattr(core, "printer_health"):
            return
        self.clear_widgets()
        for health in core.printer_health():
            line = PrinterLine(name=health.name, words=health.words)
            line.tone = "stopped" if health.stopped else ("warning" if health.low_supplies else "ok")
            self.add_widget(line)


class PrinterChooser(BoxLayout):
    """The printer a job goes to (the routing rule's choice until the shopkeeper picks another)."""

    job_id = StringProperty("")
    options: Any = ObjectProperty(None, allownone=True)
    names = ListProperty([])
    chosen = StringProperty("")
    words = StringProperty("")
    stopped = BooleanProperty(False)

    def on_job_id(self, *_: Any) -> None:
        self.refresh()

    def on_options(self, *_: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Re-read the job's printer and that printer's health."""
        core = getattr(App.get_running_app(), "core", None)
        if core is None or not self.job_id or not hasattr(core, "job_printer"):
            return
        try:
            self.names = core.printer_names()
            self.chosen = core.job_printer(self.job_id, self.options)
        except KioskError:
            return
        health = {h.name: h for h in core.printer_health()}.get(self.chosen)
        self.stopped = bool(health and health.stopped)
        self.words = health.words if health is not None and health.state != "unknown" else ""

    def choose(self, name: str) -> None:
        """The shopkeeper picked ``name`` in the list."""
        core = getattr(App.get_running_app(), "core", None)
        if core is None or not name or name == self.chosen:
            return
        try:
            core.choose_printer(self.job_id, name)
        except KioskError as exc:
            log.info("printer choice refused: %s", exc)
        self.refresh()


def printer_stopped(app: Any) -> None:
    """A printer stopped and needs someone: chime once when sound is on."""
    chime = getattr(app, "_chime", None)
    if chime is not None and getattr(app.core.settings, "sound", False):
        chime.play()


def refresh_all(app: Any) -> None:
    """After a ``printers`` event: every health bar and chooser on screen."""
    for screen in app.screens.screens:
        for widget in screen.walk(restrict=True):
            if isinstance(widget, (PrinterHealthBar, PrinterChooser)):
                widget.refresh()
