"""First start: relay address and one-time code, then Enroll (enrollment.kv).

The kiosk makes its key pair and enrolls on a worker thread; errors from the
core (bad code, unreachable relay) are shown as they are, in plain words.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui import format as fmt
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)


class EnrollmentScreen(Screen):
    """Relay address + code fields, an Enroll button and a plain error line."""

    error = StringProperty("")
    busy = BooleanProperty(False)

    def on_pre_enter(self, *_: Any) -> None:
        app = App.get_running_app()
        if not self.ids.relay.text and app is not None:
            self.ids.relay.text = app.relay_hint

    def enroll(self) -> None:
        """Validate the fields and enroll in the background."""
        relay = self.ids.relay.text.strip()
        code = self.ids.code.text.strip()
        if not relay:
            self.error = "Enter the relay address, e.g. relay.example.com:443"
            return
        if not code:
            self.error = "Enter the one-time code you got from the service operator."
            return
        app = App.get_running_app()
        self.error = ""
        self.busy = True
        run_async(app.core.enroll, relay, code, on_done=self._enrolled, on_error=self._failed)

    def _enrolled(self, shop: Any) -> None:
        self.busy = False
        self.ids.code.text = ""
        App.get_running_app().enrolled(shop)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        log.info("enrollment failed: %s", type(exc).__name__)
        self.error = fmt.plain(str(exc), "Setting up did not work. Check the address and the code.")
