"""The kiosk's data folder and its settings file (JSON).

The data folder holds ``settings.json``, the key store (``keys/``), the shop
token and profile, and the subscription cursor. Nothing decrypted is ever
written here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.core.errors import ConfigError
from kiosk.core.options import COLORS, PAGES_PER_SHEET, PAPER_SIZES, SIDES

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
PRINTER_KINDS = ("folder", "ipp", "cups")


def default_data_dir() -> Path:
    """~/.local/share/cloudtab/kiosk (XDG_DATA_HOME honoured); %LOCALAPPDATA%\\CloudTab\\kiosk on Windows."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "CloudTab" / "kiosk"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cloudtab" / "kiosk"


def ensure_data_dir(path: Path) -> Path:
    """Create the data folder (mode 0700) if needed.

    Raises:
        ConfigError: if it cannot be created.
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create the data folder {path}: {exc.strerror}") from exc
    return path


@dataclass(frozen=True)
class PriceTable:
    """Price per printed sheet in cents, black-and-white and colour, with exceptions by paper and sides."""

    bw_cents: int = 10
    colour_cents: int = 50
    currency: str = "EUR"
    # Exceptions by paper, colour mode and sides: [media, color, duplex, cents] (kiosk.core.pricing.PriceList).
    sheets: tuple[tuple[str, str, bool, int], ...] = ()

    def format(self, cents: int) -> str:
        """'EUR 1.20' style display of an amount."""
        sign = "-" if cents < 0 else ""
        cents = abs(cents)
        return f"{self.currency} {sign}{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class PrinterSettings:
    """One printer the kiosk prints to; ``name`` is the shop's own label ("Laser", "Colour")."""

    kind: str = "folder"  # folder | ipp | cups
    uri: str = ""  # ipp: ipp://host:631/ipp/print
    queue: str = ""  # cups: queue name
    cups_server: str = "localhost:631"
    folder: str = ""  # folder: output dir ("" = <data_dir>/demo-printer)
    name: str = ""  # label on screens and in routing rules ("" = "Printer N")


@dataclass(frozen=True)
class RouteRule:
    """Send jobs whose options match to ``printer`` (a printer's label); "" matches anything.

    Rules are tried in order; the first that matches and whose printer can
    print the job wins (kiosk.core.printing.routing).
    """

    printer: str
    color: str = ""  # "" | monochrome | color
    media: str = ""  # "" | A4 | Letter | A3 | Legal
    sides: str = ""  # "" | one-sided | two-sided (either edge)


@dataclass(frozen=True)
class Offer:
    """What the shop's printer offers customers (words of kiosk.core.options), published to the page."""

    media: tuple[str, ...] = ("A4",)
    color: tuple[str, ...] = COLORS
    sides: tuple[str, ...] = SIDES
    pages_per_sheet: tuple[int, ...] = PAGES_PER_SHEET

    def validate(self) -> None:
        """Raises ConfigError for an empty list or a word outside the vocabulary."""
        checks = (
            ("paper sizes", self.media, tuple(PAPER_SIZES)),
            ("colour modes", self.color, COLORS),
            ("sides", self.sides, SIDES),
            ("pages per sheet", self.pages_per_sheet, PAGES_PER_SHEET),
        )
        for name, values, allowed in checks:
            if not values or len(set(values)) != len(values) or any(v not in allowed for v in values):
                raise ConfigError(f"the offered {name} must be some of {', '.join(map(str, allowed))}")


@dataclass(frozen=True)
class Settings:
    """Everything the shopkeeper can change in the settings screen."""

    relay_address: str = ""
    bridge_url: str = ""
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    # Several printers: when set they replace ``printer`` (old single-printer files keep ``printer`` only).
    printers: tuple[PrinterSettings, ...] = ()
    routes: tuple[RouteRule, ...] = ()
    stalled_after_seconds: int = 300  # a print not finished after this long is flagged as stalled
    prices: PriceTable = field(default_factory=PriceTable)
    offer: Offer = field(default_factory=Offer)
    sound: bool = True
    chime_repeat_seconds: int = 30  # repeat the new-job chime until someone looks (0: once)
    default_media: str = "A4"
    daybook_retention_days: int = 90  # day book lines older than this are dropped (kiosk.core.daybook)
    soffice: str = ""  # full path to LibreOffice's soffice / soffice.exe; "" = look for it (kiosk.core.convert)

    def all_printers(self) -> tuple[PrinterSettings, ...]:
        """The kiosk's printers, each with a label (the first is the default)."""
        chosen = self.printers or (self.printer,)
        return tuple(
            dataclasses.replace(p, name=p.name.strip() or f"Printer {n}") for n, p in enumerate(chosen, start=1)
        )

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated)."""
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        """Raises ConfigError for values that cannot work."""
        for printer in (self.printer, *self.printers):
            if printer.kind not in PRINTER_KINDS:
                raise ConfigError(f"unknown printer kind {printer.kind!r}")
        names = [p.name for p in self.all_printers()]
        if len(set(names)) != len(names):
            raise ConfigError("two printers have the same name")
        for rule in self.routes:
            if rule.printer not in names:
                raise ConfigError(f"a routing rule names no printer of this kiosk: {rule.printer!r}")
            if rule.color not in ("", *COLORS) or rule.media not in ("", *PAPER_SIZES):
                raise ConfigError("a routing rule must use the colour and paper words of the print options")
            if rule.sides not in ("", "one-sided", "two-sided"):
                raise ConfigError("a routing rule's sides must be one-sided or two-sided")
        if not isinstance(self.stalled_after_seconds, int) or not 30 <= self.stalled_after_seconds <= 86400:
            raise ConfigError("the stalled-print time must be 30 seconds to a day")
        if self.prices.bw_cents < 0 or self.prices.colour_cents < 0:
            raise ConfigError("prices cannot be negative")
        if not self.prices.currency.strip():
            raise ConfigError("the currency is empty")
        for entry in self.prices.sheets:
            if (
                not isinstance(entry, (list, tuple))
                or len(entry) != 4
                or entry[0] not in PAPER_SIZES
                or entry[1] not in COLORS
                or not isinstance(entry[2], bool)
                or not isinstance(entry[3], int)
                or entry[3] < 0
            ):
                raise ConfigError("a sheet price must be [paper, colour mode, two-sided, cents >= 0]")
        self.offer.validate()
        if not isinstance(self.chime_repeat_seconds, int) or not 0 <= self.chime_repeat_seconds <= 3600:
            raise ConfigError("the chime repeat must be 0 to 3600 seconds")
        if not isinstance(self.daybook_retention_days, int) or not 1 <= self.daybook_retention_days <= 3660:
            raise ConfigError("the day book keeps lines for 1 to 3660 days")
        if not isinstance(self.soffice, str) or len(self.soffice) > 1000:
            raise ConfigError("the LibreOffice path must be text")


def _from_dict(data: dict[str, Any]) -> Settings:
    def pick(cls: type, raw: object) -> dict[str, Any]:
        if not isinstance(raw, dict):
            return {}
        names = {f.name for f in dataclasses.fields(cls)}
        return {k: v for k, v in raw.items() if k in names}

    top = pick(Settings, data)
    top["printer"] = PrinterSettings(**pick(PrinterSettings, data.get("printer")))
    raw_printers = data.get("printers")
    top["printers"] = tuple(
        PrinterSettings(**pick(PrinterSettings, p)) for p in (raw_printers if isinstance(raw_printers, list) else [])
    )
    raw_routes = data.get("routes")
    top["routes"] = tuple(
        RouteRule(**pick(RouteRule, r))
        for r in (raw_routes if isinstance(raw_routes, list) else [])
        if isinstance(r, dict) and "printer" in r
    )
    prices = pick(PriceTable, data.get("prices"))
    if isinstance(prices.get("sheets"), list):
        prices["sheets"] = tuple(tuple(entry) if isinstance(entry, list) else entry for entry in prices["sheets"])
    top["prices"] = PriceTable(**prices)
    top["offer"] = Offer(**{k: tuple(v) for k, v in pick(Offer, data.get("offer")).items()})
    settings = Settings(**top)
    settings.validate()
    return settings


def load_settings(data_dir: Path) -> Settings:
    """Settings from ``<data_dir>/settings.json``; defaults if the file is missing.

    Raises:
        ConfigError: if the file exists but is not valid settings.
    """
    path = data_dir / SETTINGS_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return _from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not valid settings: {exc}") from exc


def save_settings(data_dir: Path, settings: Settings) -> None:
    """Write the settings atomically.

    Raises:
        ConfigError: if invalid or the file cannot be written.
    """
    settings.validate()
    ensure_data_dir(data_dir)
    write_private(data_dir / SETTINGS_FILE, json.dumps(dataclasses.asdict(settings), indent=2).encode())


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file atomically with the given mode (created with it, never wider).

    Raises:
        ConfigError: if the file cannot be written.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            if hasattr(os, "fchmod"):  # not on Windows
                os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object file, or None when missing.

    Raises:
        ConfigError: if unreadable or not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return data
