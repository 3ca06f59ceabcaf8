"""The shop poster: name, QR code of the upload page with the key set, fingerprint and words (poster.kv).

The QR image comes from the core as PNG bytes and is decoded in memory; "Print
poster" sends the core's A4 PDF to the configured printer.
"""

from __future__ import annotations

import io
import logging
import time
from typing import Any

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.errors import KioskError
from kiosk.ui import format as fmt
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)


def print_poster(core: Any, timeout: float = 60.0, poll: float = 0.25) -> Any:
    """Print the A4 poster on the kiosk's printer and follow it; returns a PrintStatus.  [blocking]

    Uses ``core.print_poster()`` when the core has it; otherwise the core's
    printer and poster PDF directly (a thin adapter until it does).

    Raises:
        KioskError: the poster cannot be made (not enrolled, no bridge URL).
    """
    direct = getattr(core, "print_poster", None)
    if callable(direct):
        return direct()
    from kiosk.core.errors import PrinterError
    from kiosk.core.options import PrintOptions
    from kiosk.core.printing import PrintState, PrintStatus

    pdf = core.poster_pdf()
    try:
        printer = core.printer()
        handle = printer.print_pdf(pdf, PrintOptions(media="A4"), "cloudtab-poster")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = printer.status(handle)
            if status.state in (PrintState.COMPLETED, PrintState.FAILED):
                return status
            time.sleep(poll)
    except PrinterError as exc:
        return PrintStatus(PrintState.FAILED, str(exc))
    return PrintStatus(PrintState.FAILED, f"the printer did not finish the poster within {timeout:.0f} s")


class PosterScreen(Screen):
    """Shows what the printed poster shows, and prints it."""

    qr_texture: Any = ObjectProperty(None, allownone=True)
    shop_name = StringProperty("")
    fingerprint = StringProperty("")
    key_words = StringProperty("")
    url = StringProperty("")
    status = StringProperty("")
    status_tone = StringProperty("muted")
    busy = BooleanProperty(False)

    def on_pre_enter(self, *_: Any) -> None:
        self.load()

    def load(self) -> None:
        """Build the QR texture and the texts from the core."""
        core = App.get_running_app().core
        shop = core.shop
        self.shop_name = shop.display_name if shop else ""
        self.fingerprint = fmt.fingerprint_text(shop.keyset_display if shop else "")
        self.key_words = " ".join(shop.keyset_words) if shop else ""
        self.status = ""
        self.status_tone = "muted"
        try:
            url = core.poster_url()
            png = core.poster_png(12)
        except KioskError as exc:  # no bridge URL yet, not enrolled: say so
            self.qr_texture = None
            self.url = ""
            self.status = fmt.plain(str(exc), "The poster cannot be made yet.")
            self.status_tone = "warning"
            return
        # The key is public, but the line shown stays short: address without the fragment.
        self.url = url.split("#", 1)[0]
        self.qr_texture = CoreImage(io.BytesIO(png), ext="png", nocache=True).texture
        self.qr_texture.mag_filter = "nearest"

    def print(self) -> None:
        self.busy = True
        self.status = "Printing the poster..."
        self.status_tone = "muted"
        run_async(print_poster, App.get_running_app().core, on_done=self._printed, on_error=self._failed)

    def _printed(self, status: Any) -> None:
        self.busy = False
        self.status = "Poster: " + fmt.print_status_text(status)
        self.status_tone = fmt.print_status_tone(status)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        log.info("poster print failed: %s", type(exc).__name__)
        self.status = fmt.plain(str(exc), "The poster could not be printed.")
        self.status_tone = "warning"
