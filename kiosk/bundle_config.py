"""Install-time settings: ``cloudtab-kiosk --configure --printer SPEC --relay ADDR``.

The install script (scripts/install-kiosk) calls the installed bundle with
``--configure`` so the settings file is written by the kiosk's own settings
code (:mod:`kiosk.core.config`: ``<data dir>/settings.json``), not by a copy
of its format in shell. Existing settings are kept; only what is given changes.

Printer specs::

    cups:QUEUE                 a queue of the local CUPS server (localhost:631)
    cups:QUEUE@HOST:PORT       a queue of another CUPS server
    ipp://host:631/ipp/print   a printer spoken to directly over IPP (also ipps://)
    folder:PATH                the demo printer: PDFs written to PATH
    demo                       the demo printer in <data dir>/demo-printer
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.core.config import (
    PrinterSettings,
    default_data_dir,
    load_settings,
    save_settings,
)
from kiosk.core.errors import ConfigError

# CUPS queue names: printable, no space, slash, '#' or quotes (lpadmin(8)).
_QUEUE = re.compile(r"^[A-Za-z0-9_.+-]{1,127}$")
_SERVER = re.compile(r"^[A-Za-z0-9_.:\[\]-]{1,255}$")


def parse_printer(spec: str) -> PrinterSettings:
    """The PrinterSettings a printer spec stands for (see the module docstring).

    Raises:
        ConfigError: for a spec that names no usable printer.
    """
    spec = spec.strip()
    if spec == "demo":
        return PrinterSettings(kind="folder")
    if spec.startswith("folder:"):
        folder = spec[len("folder:") :]
        if not folder:
            raise ConfigError("folder: needs a path, e.g. folder:/srv/prints")
        return PrinterSettings(kind="folder", folder=str(Path(folder).expanduser()))
    if spec.startswith("cups:"):
        queue, _, server = spec[len("cups:") :].partition("@")
        if not _QUEUE.match(queue):
            raise ConfigError(f"not a CUPS queue name: {queue!r}")
        if server and not _SERVER.match(server):
            raise ConfigError(f"not a CUPS server address (host:port): {server!r}")
        return PrinterSettings(kind="cups", queue=queue, cups_server=server or "localhost:631")
    parts = urlsplit(spec)
    if parts.scheme in ("ipp", "ipps"):
        try:
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise ConfigError(f"bad port in printer address {spec!r}") from exc
        if not parts.hostname:
            raise ConfigError(f"printer address without a host: {spec!r}")
        return PrinterSettings(kind="ipp", uri=spec)
    raise ConfigError(f"unknown printer {spec!r}: use cups:QUEUE, ipp://host:631/ipp/print, folder:PATH or demo")


def configure(data_dir: Path, printer: str | None = None, relay: str | None = None) -> Path:
    """Update ``<data_dir>/settings.json`` with a printer spec and/or relay address.

    Returns the settings file's path. Raises:
        ConfigError: bad printer spec, unreadable settings, or the file cannot be written.
    """
    settings = load_settings(data_dir)
    changes: dict[str, object] = {}
    if printer is not None:
        changes["printer"] = parse_printer(printer)
    if relay is not None:
        changes["relay_address"] = relay.strip()
    if changes or not (data_dir / "settings.json").exists():
        save_settings(data_dir, dataclasses.replace(settings, **changes))  # type: ignore[arg-type]
    return data_dir / "settings.json"


def main(argv: list[str]) -> int:
    """``--configure [--data-dir D] [--printer SPEC] [--relay ADDR] [--check]``; prints the file written.

    Exit status 2 (and a sentence on stderr) for a bad printer spec or unusable settings.
    """
    parser = argparse.ArgumentParser(
        prog="cloudtab-kiosk --configure", description="Write the kiosk's printer and relay settings."
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--printer", default=None, help="cups:QUEUE | ipp://host:631/ipp/print | folder:PATH | demo")
    parser.add_argument("--relay", default=None, help="relay address, e.g. relay.example.com:443")
    parser.add_argument("--check", action="store_true", help="only check the printer spec; write nothing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if args.printer is not None:
                parse_printer(args.printer)
            return 0
        path = configure(args.data_dir or default_data_dir(), args.printer, args.relay)
    except ConfigError as exc:
        print(f"cloudtab-kiosk: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0
