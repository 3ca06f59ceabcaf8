"""Printer, prices, relay, sound; key fingerprint, retention; test print and key rotation (settings.kv)."""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.errors import KioskError
from kiosk.ui import format as fmt
from kiosk.ui.widgets import ConfirmPopup
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)


class SettingsScreen(Screen):
    """Edits core.settings; saves with core.save_settings."""

    printer_kind = StringProperty("folder")
    status = StringProperty("")
    fingerprint = StringProperty("")
    retention = StringProperty("")
    sound = BooleanProperty(True)
    busy = BooleanProperty(False)
    printers = ListProperty([])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._found_printers: list[Any] = []

    def on_pre_enter(self, *_: Any) -> None:
        self.load()

    def load(self) -> None:
        """Fill the fields from the core's settings and shop profile."""
        core = App.get_running_app().core
        settings = core.settings
        self.printer_kind = settings.printer.kind
        self.ids.printer_uri.text = settings.printer.uri
        self.ids.printer_queue.text = settings.printer.queue
        self.ids.cups_server.text = settings.printer.cups_server
        self.ids.price_bw.text = f"{settings.prices.bw_cents / 100:.2f}"
        self.ids.price_colour.text = f"{settings.prices.colour_cents / 100:.2f}"
        self.ids.currency.text = settings.prices.currency
        self.ids.relay.text = settings.relay_address
        self.ids.bridge.text = settings.bridge_url
        self.sound = settings.sound
        shop = core.shop
        self.fingerprint = fmt.fingerprint_text(shop.fingerprint_display if shop else "")
        minutes = (shop.retention_seconds // 60) if shop else 0
        self.retention = f"{minutes} minutes" if shop else "-"
        self.status = ""

    def save(self) -> bool:
        """Validate and save; the message says what was wrong."""
        core = App.get_running_app().core
        settings = core.settings
        try:
            prices = type(settings.prices)(
                bw_cents=fmt.parse_cents(self.ids.price_bw.text, "B/W price"),
                colour_cents=fmt.parse_cents(self.ids.price_colour.text, "Colour price"),
                currency=self.ids.currency.text.strip() or settings.prices.currency,
            )
            printer = type(settings.printer)(
                kind=self.printer_kind,
                uri=self.ids.printer_uri.text.strip(),
                queue=self.ids.printer_queue.text.strip(),
                cups_server=self.ids.cups_server.text.strip() or "localhost:631",
                folder=settings.printer.folder,
            )
            new = settings.replace(
                printer=printer,
                prices=prices,
                relay_address=self.ids.relay.text.strip(),
                bridge_url=self.ids.bridge.text.strip(),
                sound=self.sound,
            )
            core.save_settings(new)
        except (KioskError, ValueError) as exc:  # shown as is
            self.status = str(exc)
            return False
        self.status = "Saved."
        return True

    def test_print(self) -> None:
        if not self.save():
            return
        self.busy = True
        self.status = "Test print: sending..."
        run_async(App.get_running_app().core.test_print, on_done=self._printed, on_error=self._failed)

    def find_printers(self) -> None:
        if not self.save():
            return
        self.busy = True
        run_async(App.get_running_app().core.list_printers, on_done=self._found, on_error=self._failed)

    def ask_rotate_key(self) -> None:
        ConfirmPopup(
            self.rotate_key, title="Rotate the shop key?", confirm_text="Rotate key",
            message="New customers will use a new key. Jobs already sent still open. "
                    "Print the new poster afterwards: the old QR code stops working for new jobs.",
        ).open()

    def ask_quit(self) -> None:
        ConfirmPopup(
            App.get_running_app().stop, title="Quit the kiosk?", confirm_text="Quit",
            message="No new jobs are received until the kiosk is started again. "
                    "Jobs in the queue stay at the relay until they expire.",
        ).open()

    def rotate_key(self) -> None:
        self.busy = True
        self.status = "Rotating the key..."
        run_async(App.get_running_app().core.rotate_key, on_done=self._rotated, on_error=self._failed)

    def pick_printer(self, name: str) -> None:
        for printer in self._found_printers:
            if printer.name == name:
                if self.printer_kind == "cups":
                    self.ids.printer_queue.text = printer.name
                else:
                    self.ids.printer_uri.text = printer.uri

    def _found(self, printers: list[Any]) -> None:
        self.busy = False
        self._found_printers = list(printers)
        self.printers = [p.name for p in printers]
        self.status = f"{len(printers)} printer(s) found." if printers else "No printers found."

    def _printed(self, status: Any) -> None:
        self.busy = False
        state_name = getattr(status.state, "value", str(status.state))
        message = getattr(status, "message", "")
        self.status = f"Test print: {state_name}" + (f" - {message}" if message else "")

    def _rotated(self, shop: Any) -> None:
        self.busy = False
        self.fingerprint = fmt.fingerprint_text(shop.fingerprint_display)
        self.status = "New key in use. Print a new poster: the old QR code no longer works for new jobs."
        App.get_running_app().shop_changed(shop)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        log.info("settings action failed: %s", type(exc).__name__)
        self.status = fmt.sentence(str(exc)) or "That did not work."
