"""The shopkeeper's list of printers: add one by name and address, remove one (domain only, no I/O).

An address is a CUPS queue name ("Office_Laser") or a printer's own IPP
address ("ipp://printer.local:631/ipp/print"). Adding a printer that cannot
be reached is allowed: it is saved and the health line says so. Removing a
printer drops the routing rules that named it, so those jobs go to any
printer. Errors are :class:`ConfigError` in plain words for the screen.
"""

from __future__ import annotations

import dataclasses
import re

from kiosk.core.config import PrinterSettings, Settings
from kiosk.core.errors import ConfigError

IPP_SCHEMES = ("ipp://", "ipps://")
# CUPS queue names: printable characters except space, tab, "/", "\\", "'", '"', "#" (lpadmin -p).
_QUEUE = re.compile(r"^[^\s/\\'\"#]{1,127}$")
MAX_NAME = 40


def printer_from_address(name: str, address: str, cups_server: str = "localhost:631") -> PrinterSettings:
    """A printer named ``name`` at ``address`` (ipp:// or ipps:// address, or a CUPS queue name).

    Raises:
        ConfigError: empty or too long name, or an address that is neither.
    """
    name, address = name.strip(), address.strip()
    if not name:
        raise ConfigError("Type a name for the printer, for example Laser.")
    if len(name) > MAX_NAME:
        raise ConfigError(f"The printer's name is too long: at most {MAX_NAME} letters.")
    if not address:
        raise ConfigError("Type the print server's queue name or the printer's address (ipp://...).")
    if address.lower().startswith(IPP_SCHEMES):
        if len(address) <= len("ipps://") or " " in address:
            raise ConfigError("That printer address is not complete, for example ipp://printer.local/ipp/print.")
        return PrinterSettings(kind="ipp", uri=address, name=name)
    if "://" in address or not _QUEUE.match(address):
        raise ConfigError(
            "That is neither a queue name (no spaces or slashes) nor a printer address starting with ipp://."
        )
    return PrinterSettings(kind="cups", queue=address, cups_server=cups_server, name=name)


def add_printer(settings: Settings, name: str, address: str) -> Settings:
    """``settings`` with one more printer (last in the list; the first stays the default).

    Raises:
        ConfigError: a bad name or address, or a name already used (any case).
    """
    current = settings.all_printers()
    cups_server = next((p.cups_server for p in current if p.kind == "cups"), "localhost:631")
    new = printer_from_address(name, address, cups_server)
    if new.name.casefold() in {p.name.casefold() for p in current}:
        raise ConfigError(f"There is already a printer called {new.name}. Choose another name.")
    return settings.replace(printers=(*current, new))


def remove_printer(settings: Settings, name: str) -> Settings:
    """``settings`` without the printer ``name``; routing rules naming it are dropped (jobs go to any printer).

    Raises:
        ConfigError: no such printer, or it is the kiosk's only printer.
    """
    current = settings.all_printers()
    if name not in {p.name for p in current}:
        raise ConfigError(f"There is no printer called {name}.")
    if len(current) == 1:
        raise ConfigError("The kiosk needs at least one printer. Add another before removing this one.")
    kept = tuple(p for p in current if p.name != name)
    routes = tuple(r for r in settings.routes if r.printer != name)
    return settings.replace(printers=kept, routes=routes, printer=dataclasses.replace(kept[0], name=""))
