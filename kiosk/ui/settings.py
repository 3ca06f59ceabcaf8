"""Printer, prices, new-job chime; technical settings (addresses, key) under Advanced (settings.kv).

Leaving with unsaved edits asks first. Rotate key sits in Advanced, away from
Quit; both ask before acting. Prices are typed on the kiosk's keypad.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from kivy.app import App
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.screenmanager import Screen

from kiosk.core.errors import KioskError
from kiosk.ui import format as fmt
from kiosk.ui.widgets import ConfirmPopup, NumberPad
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)

REPEAT_CHOICES = (0, 15, 30, 60)


class SettingsScreen(Screen):
    """Edits core.settings; saves with core.save_settings."""

    printer_kind = StringProperty("folder")
    status = StringProperty("")
    status_tone = StringProperty("muted")
    fingerprint = StringProperty("")
    retention = StringProperty("")
    price_bw = StringProperty("")
    price_colour = StringProperty("")
    sound = BooleanProperty(True)
    chime_repeat = NumericProperty(30)
    busy = BooleanProperty(False)
    show_advanced = BooleanProperty(False)
    printers = ListProperty([])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._found_printers: list[Any] = []
        self._loading = False
        self._saved: dict[str, Any] = {}

    def on_kv_post(self, *_: Any) -> None:
        self._advanced_box = self.ids.advanced.__self__  # a strong reference: ids are weak
        self._advanced_parent = self._advanced_box.parent
        self.on_show_advanced(self, self.show_advanced)

    def on_show_advanced(self, _instance: Any, shown: bool) -> None:
        """Advanced settings are in the tree only while shown (hidden widgets must not take touches)."""
        box, parent = getattr(self, "_advanced_box", None), getattr(self, "_advanced_parent", None)
        if parent is None or box is None:
            return
        if shown and box.parent is None:
            parent.add_widget(box)
        elif not shown and box.parent is not None:
            parent.remove_widget(box)

    def on_pre_enter(self, *_: Any) -> None:
        self.show_advanced = False
        self.load()

    def load(self) -> None:
        """Fill the fields from the core's settings and shop profile."""
        core = App.get_running_app().core
        settings = core.settings
        self._loading = True
        default = settings.all_printers()[0]  # the Printer section edits the default (first) printer
        self.printer_kind = default.kind
        self.ids.printer_uri.text = default.uri
        self.ids.printer_queue.text = default.queue
        self.ids.cups_server.text = default.cups_server
        self.price_bw = f"{settings.prices.bw_cents / 100:.2f}"
        self.price_colour = f"{settings.prices.colour_cents / 100:.2f}"
        self.ids.currency.text = settings.prices.currency
        self.ids.relay.text = settings.relay_address
        self.ids.bridge.text = settings.bridge_url
        self.sound = settings.sound
        self.chime_repeat = int(getattr(settings, "chime_repeat_seconds", 30))
        self.ids.routing.load(settings)
        self.ids.printer_list.refresh()
        self._loading = False
        shop = core.shop
        self.fingerprint = fmt.fingerprint_text(shop.keyset_display if shop else "")
        minutes = (shop.retention_seconds // 60) if shop else 0
        self.retention = f"{minutes} minutes" if shop else "a limited time"
        self._set_status("")
        self._saved = self._form()

    def _form(self) -> dict[str, Any]:
        ids = self.ids
        return {
            "kind": self.printer_kind,
            "uri": ids.printer_uri.text,
            "queue": ids.printer_queue.text,
            "server": ids.cups_server.text,
            "bw": self.price_bw,
            "colour": self.price_colour,
            "currency": ids.currency.text,
            "relay": ids.relay.text,
            "bridge": ids.bridge.text,
            "sound": self.sound,
            "repeat": int(self.chime_repeat),
            "routes": self.ids.routing.routes(),
        }

    @property
    def dirty(self) -> bool:
        """True when the form differs from what was loaded or last saved."""
        return bool(self._saved) and self._form() != self._saved

    def mark_changed(self) -> None:
        """A field changed (kept for kv bindings; ``dirty`` compares the whole form)."""

    def _set_status(self, text: str, tone: str = "muted") -> None:
        self.status = text
        self.status_tone = tone

    def leave(self, target: str = "queue") -> None:
        """Back to the queue (or on to ``target``, e.g. the day book); unsaved edits ask first."""
        app = App.get_running_app()
        if not self.dirty:
            app.show(target)
            return
        ConfirmPopup(
            lambda: app.show(target),
            title="Leave without saving?",
            confirm_text="Discard changes",
            cancel_text="Stay here",
            message="You changed settings and did not save them. Tap Stay here, then Save, to keep them.",
        ).open()

    def toggle_sound(self) -> None:
        self.sound = not self.sound

    def cycle_repeat(self) -> None:
        now = int(self.chime_repeat)
        later = [c for c in REPEAT_CHOICES if c > now]
        self.chime_repeat = later[0] if later else REPEAT_CHOICES[0]

    def ask_price(self, which: str, title: str) -> None:
        """The kiosk's keypad for a price."""

        def apply(text: str) -> None:
            cents = fmt.parse_cents(text or "0", title)
            setattr(self, which, f"{cents / 100:.2f}")

        pad = NumberPad(apply, keys=".", title=title, hint="e.g. 0.10", max_length=8)
        pad.value = getattr(self, which)
        pad.open()

    def save(self) -> bool:
        """Validate and save; the message says what was wrong."""
        core = App.get_running_app().core
        settings = core.settings
        try:
            prices = type(settings.prices)(
                bw_cents=fmt.parse_cents(self.price_bw, "B/W price"),
                colour_cents=fmt.parse_cents(self.price_colour, "Colour price"),
                currency=self.ids.currency.text.strip() or settings.prices.currency,
            )
            default = settings.all_printers()[0]
            printer = type(settings.printer)(
                kind=self.printer_kind,
                uri=self.ids.printer_uri.text.strip(),
                queue=self.ids.printer_queue.text.strip(),
                cups_server=self.ids.cups_server.text.strip() or "localhost:631",
                folder=default.folder,
            )
            printers = settings.printers
            if printers:  # several printers: the Printer section edits the first one (the default)
                printers = (dataclasses.replace(printer, name=printers[0].name), *printers[1:])
            new = settings.replace(
                printer=printer,
                printers=printers,
                prices=prices,
                relay_address=self.ids.relay.text.strip(),
                bridge_url=self.ids.bridge.text.strip(),
                sound=self.sound,
                chime_repeat_seconds=int(self.chime_repeat),
                routes=self.ids.routing.routes(),
            )
            core.save_settings(new)
        except (KioskError, ValueError) as exc:
            self._set_status(fmt.plain(str(exc), "These settings cannot be saved."), "warning")
            return False
        self._saved = self._form()
        self._set_status("Saved.", "success")
        return True

    def printers_saved(self) -> None:
        """The Printers section added or removed a printer (already saved): update the routing rows."""
        if not self.dirty:
            status, tone = self.status, self.status_tone
            self.load()  # nothing unsaved: show the saved settings (the default printer may have changed)
            self._set_status(status, tone)
            return
        settings = App.get_running_app().core.settings
        self.ids.routing.keep(settings)
        names = {p.name for p in settings.all_printers()}
        self._saved["routes"] = tuple(r for r in self._saved["routes"] if r.printer in names)

    def test_print(self) -> None:
        if not self.save():
            return
        self.busy = True
        self._set_status("Test print: sending...")
        run_async(App.get_running_app().core.test_print, on_done=self._printed, on_error=self._failed)

    def find_printers(self) -> None:
        if not self.save():
            return
        self.busy = True
        run_async(App.get_running_app().core.list_printers, on_done=self._found, on_error=self._failed)

    def ask_rotate_key(self) -> None:
        ConfirmPopup(
            self.rotate_key,
            title="Rotate the shop key?",
            confirm_text="Rotate key",
            message="New customers will use a new key. Jobs already sent still open. "
            "Print the new poster afterwards: the old QR code stops working for new jobs.",
        ).open()

    def ask_quit(self) -> None:
        ConfirmPopup(
            App.get_running_app().stop,
            title="Quit the kiosk?",
            confirm_text="Quit",
            message="No new jobs are received until the kiosk is started again. "
            "Jobs in the queue stay at the relay until they expire.",
        ).open()

    def rotate_key(self) -> None:
        self.busy = True
        self._set_status("Rotating the key...")
        run_async(App.get_running_app().core.rotate_key, on_done=self._rotated, on_error=self._failed)

    def pick_printer(self, name: str) -> None:
        for printer in self._found_printers:
            if printer.name == name:
                if self.printer_kind == "cups":
                    self.ids.printer_queue.text = printer.name
                else:
                    self.ids.printer_uri.text = printer.uri
                self._set_status(f"Chosen: {printer.name}. Save to keep it.")

    def _found(self, printers: list[Any]) -> None:
        from kiosk.core.printing.words import printer_words

        self.busy = False
        self._found_printers = list(printers)
        self.printers = [p.name for p in printers]
        if printers:
            states = ", ".join(f"{p.name}: {printer_words(p.state)}" for p in printers[:3])
            self._set_status(f"{len(printers)} printer(s) found ({states}).", "success")
        else:
            self._set_status("No printers found.", "warning")

    def _printed(self, status: Any) -> None:
        self.busy = False
        tone = fmt.print_status_tone(status)
        self._set_status("Test page: " + fmt.print_status_text(status), tone)

    def _rotated(self, shop: Any) -> None:
        self.busy = False
        self.fingerprint = fmt.fingerprint_text(shop.keyset_display)
        self._set_status("New key in use. Print a new poster: the old QR code no longer works for new jobs.", "success")
        App.get_running_app().shop_changed(shop)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        log.info("settings action failed: %s", type(exc).__name__)
        self._set_status(fmt.plain(str(exc), "That did not work."), "warning")
