"""Shop-level actions of the core: enrollment, key rotation, passphrase, printers, poster.

A mixin of :class:`kiosk.core.service.KioskCore`, kept apart so each file has
one job.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kiosk.core import events as ev
from kiosk.core import poster
from kiosk.core.enrollment import ShopProfile, enroll, rotate_key
from kiosk.core.errors import ConfigError, KioskError, PrinterError, WrongPassphrase
from kiosk.core.jobs import PrintOptions
from kiosk.core.keystore import KeyStore
from kiosk.core.printing import (
    PrinterBackend,
    PrinterInfo,
    PrintState,
    PrintStatus,
    list_cups_printers,
)
from kiosk.core.printing.ipp_printer import IppPrinter

if TYPE_CHECKING:
    from pathlib import Path

    from kiosk.core.config import Settings
    from kiosk.core.events import EventHub
    from kiosk.core.printing.fleet import PrinterFleet
    from kiosk.core.relay import RelayClient


class ShopActions:
    """``self`` is a KioskCore."""

    if TYPE_CHECKING:  # provided by KioskCore
        data_dir: Path
        events: EventHub
        keystore: KeyStore
        _profile: ShopProfile | None
        _printer_override: PrinterBackend | None
        _settings: Settings

        def _relay(self) -> RelayClient: ...
        def save_settings(self, settings: Settings) -> None: ...
        def _reset_client(self) -> None: ...
        def fleet(self) -> PrinterFleet: ...

    def enroll(self, relay_address: str, code: str) -> ShopProfile:
        """Enroll with a one-time code; stores key, token, profile and the relay address. [blocking]

        Raises:
            EnrollmentError, KeyStoreError, ConfigError.
        """
        profile = enroll(self.data_dir, self.keystore, relay_address.strip(), code)
        self._profile = profile
        self.save_settings(self._settings.replace(relay_address=relay_address.strip()))
        self._reset_client()
        self.events.emit(ev.ENROLLED)
        return profile

    def rotate_key(self) -> ShopProfile:
        """New key at the relay; old keys stay until their jobs are gone. [blocking]

        Raises:
            ConfigError (not enrolled), RelayError, KeyStoreError.
        """
        if self._profile is None:
            raise ConfigError("the kiosk is not enrolled yet")
        self._profile = rotate_key(self.data_dir, self.keystore, self._relay(), self._profile)
        self.events.emit(ev.ENROLLED, None, "key rotated")
        return self._profile

    def printer(self) -> PrinterBackend:
        """The default printer (the first). Raises: PrinterError (incomplete settings)."""
        return self.fleet().backend()

    def list_printers(self) -> list[PrinterInfo]:
        """Printers for the chosen kind (CUPS queues, the IPP printer, the demo folder). [blocking]

        Raises:
            PrinterError.
        """
        chosen = self._settings.printer
        if chosen.kind == "cups":
            return list_cups_printers(chosen.cups_server)
        if chosen.kind == "ipp" and chosen.uri:
            return IppPrinter(chosen.uri).list_printers()
        return self.printer().list_printers()

    def test_print(self) -> PrintStatus:
        """Print one test page to the configured printer and follow it. [blocking]

        Printer failures come back as a FAILED status.
        """
        from kiosk.core.testpage import test_page_pdf

        name = self._profile.display_name if self._profile else "CloudTab kiosk"
        return self._print_and_follow(lambda: test_page_pdf(name, self._settings.default_media), "cloudtab-test-page")

    def print_poster(self) -> PrintStatus:
        """Print the A4 shop poster and follow it. [blocking]

        Raises:
            ConfigError: not enrolled or no bridge URL. Printer failures come back as a FAILED status.
        """
        pdf = self.poster_pdf()
        return self._print_and_follow(lambda: pdf, "cloudtab-poster", media="A4")

    def _print_and_follow(
        self, make_pdf: Any, name: str, media: str | None = None, timeout: float = 60.0
    ) -> PrintStatus:
        try:
            printer = self.printer()
            handle = printer.print_pdf(make_pdf(), PrintOptions(media=media or self._settings.default_media), name)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                status = printer.status(handle)
                if status.state.done:
                    return status
                time.sleep(0.25)
            return PrintStatus(PrintState.FAILED, f"the printer did not finish within {timeout:.0f} s")
        except PrinterError as exc:
            return PrintStatus(PrintState.FAILED, str(exc))

    # -- passphrase -------------------------------------------------------------------------
    @property
    def needs_passphrase(self) -> bool:
        """True when the current key is encrypted and no (right) passphrase was given."""
        try:
            self.keystore.check_passphrase()
        except WrongPassphrase:
            return True
        except KioskError:
            return False
        return False

    def unlock(self, passphrase: str) -> None:
        """Use this passphrase for the key files (then call start()).

        Raises:
            WrongPassphrase: it does not open the current key.
        """
        store = KeyStore(self.data_dir, passphrase)
        store.check_passphrase()
        self.keystore = store

    def poster_url(self) -> str:
        """https://<bridge>/s/<slug>#f=<key set fingerprint>. Raises: ConfigError."""
        if self._profile is None:
            raise ConfigError("the kiosk is not enrolled yet")
        return poster.shop_url(self._settings.bridge_url, self._profile.slug, self._profile.keyset_param, "f")

    def poster_png(self, scale: int = 10) -> bytes:
        """The QR code of the poster URL as PNG. Raises: ConfigError."""
        return poster.qr_png(self.poster_url(), scale)

    def poster_pdf(self) -> bytes:
        """The printable A4 poster. Raises: ConfigError."""
        if self._profile is None:
            raise ConfigError("the kiosk is not enrolled yet")
        profile = self._profile
        return poster.poster_pdf(profile.display_name, self.poster_url(), profile.keyset_display, profile.keyset_words)
