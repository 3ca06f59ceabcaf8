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
            if isinstance(widget, (PrinterHealthBar, PrinterChooser, PrintersPanel)):
                widget.refresh()


ANY = "Any printer"
# The rules the settings screen edits, most specific first: (label, rule words).
RULE_ROWS: tuple[tuple[str, dict[str, str]], ...] = (
    ("A3 jobs go to", {"media": "A3"}),
    ("Colour jobs go to", {"color": "color"}),
    ("Black-and-white jobs go to", {"color": "monochrome"}),
)


def _shape(rule: Any) -> dict[str, str]:
    return {k: v for k, v in (("color", rule.color), ("media", rule.media), ("sides", rule.sides)) if v}


def rule_choices(settings: Any) -> tuple[list[str], list[str], tuple[Any, ...]]:
    """(printer labels when there are several, the printer per RULE_ROWS row or ANY, other rules kept)."""
    printers = settings.all_printers()
    names = [p.name for p in printers] if len(printers) > 1 else []
    choices = []
    for _label, words in RULE_ROWS:
        rule = next((r for r in settings.routes if _shape(r) == words), None)
        choices.append(rule.printer if rule is not None and rule.printer in names else ANY)
    others = tuple(r for r in settings.routes if _shape(r) not in [w for _l, w in RULE_ROWS])
    return names, choices, others


def routes_from(names: list[str], choices: list[str], others: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """The rules to save (kiosk.core.config.RouteRule): the rows' choices, then the other rules."""
    from kiosk.core.config import RouteRule

    chosen = tuple(
        RouteRule(printer=name, **words)
        for (_label, words), name in zip(RULE_ROWS, choices, strict=True)
        if name != ANY and name in names
    )
    return chosen + tuple(others)


class RoutingPanel(BoxLayout):
    """The settings screen's routing rules: which printer gets A3, colour and black-and-white jobs.

    Shown when the kiosk has several printers. Rules of other shapes (set in
    settings.json) are kept as they are, after these.
    """

    names = ListProperty([])
    choices = ListProperty([ANY, ANY, ANY])

    def load(self, settings: Any) -> None:
        """Show the rules of ``settings``."""
        self.names, choices, self._others = rule_choices(settings)
        self.choices = choices

    def pick(self, row: int, name: str) -> None:
        """A spinner changed."""
        if 0 <= row < len(self.choices) and self.choices[row] != name:
            choices = list(self.choices)
            choices[row] = name
            self.choices = choices

    def routes(self) -> tuple[Any, ...]:
        """The rules to save (kiosk.core.config.RouteRule)."""
        return routes_from(list(self.names), list(self.choices), getattr(self, "_others", ()))

    def keep(self, settings: Any) -> None:
        """The printers changed (added or removed): keep the rows' choices, a removed printer's row goes to ANY."""
        self.names, _choices, self._others = rule_choices(settings)
        self.choices = [c if c in self.names else ANY for c in self.choices]


def address_words(printer: Any) -> str:
    """Where a printer is, for its row: the IPP address, the CUPS queue, or the demo folder."""
    if printer.kind == "ipp":
        return str(printer.uri)
    if printer.kind == "cups":
        return f"queue {printer.queue}"
    return "demo, no paper"


class PrinterListRow(BoxLayout):
    """One printer in the settings list: its health line and a Remove button."""

    name = StringProperty("")
    words = StringProperty("")
    tone = StringProperty("ok")
    address = StringProperty("")
    panel: Any = ObjectProperty(None, allownone=True)


class PrintersPanel(BoxLayout):
    """The settings screen's Printers section: every printer with its health, add one, remove one.

    Adding and removing save at once (kiosk.core.printing.printer_list) so
    the health poll checks the new printer; ``saved_hook`` (the screen's hook)
    then updates the routing rows. Errors are shown in ``error``.
    """

    error = StringProperty("")
    notice = StringProperty("")
    saved_hook: Any = ObjectProperty(None, allownone=True)

    def refresh(self) -> None:
        """Rebuild the rows from the core's settings and last health poll."""
        core = getattr(App.get_running_app(), "core", None)
        box = self.ids.get("rows") if hasattr(self, "ids") else None
        if core is None or box is None:
            return
        health = {h.name: h for h in core.printer_health()} if hasattr(core, "printer_health") else {}
        box.clear_widgets()
        for printer in core.settings.all_printers():
            h = health.get(printer.name)
            row = PrinterListRow(name=printer.name, address=address_words(printer), panel=self)
            if h is None or h.state == "unknown":
                row.words = "Checking the printer..."
            else:
                row.words = h.words
                row.tone = "stopped" if h.stopped else ("warning" if h.low_supplies else "ok")
            box.add_widget(row)

    def add(self) -> None:
        """Add the printer typed in the name and address fields (saved at once)."""
        from kiosk.core.printing.printer_list import add_printer

        core = App.get_running_app().core
        name, address = self.ids.new_name.text, self.ids.new_address.text
        try:
            core.save_settings(add_printer(core.settings, name, address))
        except KioskError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.ids.new_name.text = self.ids.new_address.text = ""
        self.error, self.notice = "", f"Added {name.strip()}. Its line above shows whether the kiosk can reach it."
        self._saved()

    def ask_remove(self, name: str) -> None:
        """Remove ``name`` after asking."""
        from kiosk.ui.widgets import ConfirmPopup

        ConfirmPopup(
            lambda: self.remove(name),
            title=f"Remove the printer {name}?",
            confirm_text="Remove printer",
            message="Jobs that went to this printer by a rule will go to any printer. You can add it again later.",
        ).open()

    def remove(self, name: str) -> None:
        """Remove the printer ``name`` (saved at once); rules naming it are dropped."""
        from kiosk.core.printing.printer_list import remove_printer

        core = App.get_running_app().core
        try:
            core.save_settings(remove_printer(core.settings, name))
        except KioskError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.error, self.notice = "", f"Removed {name}."
        self._saved()

    def _saved(self) -> None:
        self.refresh()
        if self.saved_hook is not None:
            self.saved_hook()
