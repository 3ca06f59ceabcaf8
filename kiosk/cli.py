"""``cloudtab-kiosk``: the shop's kiosk (Kivy UI), or its core alone with ``--headless``.

Headless mode accepts every job: it prints with the customer's options to the
chosen printer (by default the demo printer, a folder of PDFs), completes the
job when the printer reports completion, and rejects with a reason what
cannot be printed. ``cloudtab up --headless`` runs it this way.

The key passphrase, when the key files have one, is read from the
environment variable CLOUDTAB_KIOSK_PASSPHRASE (never from the command line).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from kiosk.core.version import KIOSK_VERSION

log = logging.getLogger("kiosk.cli")
PASSPHRASE_ENV = "CLOUDTAB_KIOSK_PASSPHRASE"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudtab-kiosk", description="CloudTab print-shop kiosk.")
    parser.add_argument("--version", action="version", version=f"cloudtab-kiosk {KIOSK_VERSION}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data folder (default: ~/.local/share/cloudtab/kiosk, %%LOCALAPPDATA%%\\CloudTab\\kiosk)",
    )
    parser.add_argument("--relay", default=None, help="relay address, host:port or grpcs://host (saved in settings)")
    parser.add_argument("--headless", action="store_true", help="run the core only: auto-accept and print jobs")
    parser.add_argument(
        "--enroll",
        metavar="CODE",
        default=None,
        help="enroll with this one-time code first if not enrolled (needs --relay)",
    )
    parser.add_argument("--bridge-url", default=None, help="web bridge base URL for the poster (saved in settings)")
    printer = parser.add_mutually_exclusive_group()
    printer.add_argument("--printer-folder", type=Path, default=None, help="demo printer: write PDFs to this folder")
    printer.add_argument("--printer-uri", default=None, help="IPP Everywhere printer, ipp://host:631/ipp/print")
    printer.add_argument("--cups-queue", default=None, help="print to this queue of the CUPS server")
    parser.add_argument("--cups-server", default=None, help="CUPS server host:port (default localhost:631)")
    parser.add_argument("--windowed", action="store_true", help="UI in a window instead of full screen")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING")
    return parser


def apply_options(core: object, args: argparse.Namespace) -> None:
    """Store --relay/--bridge-url/printer choices in the settings."""
    from kiosk.core.config import PrinterSettings

    settings = core.settings  # type: ignore[attr-defined]
    changes: dict[str, object] = {}
    if args.relay:
        changes["relay_address"] = args.relay
    if args.bridge_url:
        changes["bridge_url"] = args.bridge_url
    printer = settings.printer
    if args.printer_folder:
        printer = PrinterSettings(kind="folder", folder=str(args.printer_folder.resolve()))
    elif args.printer_uri:
        printer = PrinterSettings(kind="ipp", uri=args.printer_uri)
    elif args.cups_queue:
        printer = PrinterSettings(
            kind="cups", queue=args.cups_queue, cups_server=args.cups_server or settings.printer.cups_server
        )
    if printer != settings.printer:
        changes["printer"] = printer
    if changes:
        core.save_settings(settings.replace(**changes))  # type: ignore[attr-defined]


def run_headless(core: object, args: argparse.Namespace) -> int:
    """Enroll if asked, start, print events until SIGINT/SIGTERM."""
    from kiosk.core.events import CoreEvent

    if not core.enrolled:  # type: ignore[attr-defined]
        if not (args.enroll and (args.relay or core.relay_address)):  # type: ignore[attr-defined]
            print("cloudtab-kiosk: not enrolled; pass --relay ADDRESS --enroll CODE", file=sys.stderr)
            return 2
        profile = core.enroll(args.relay or core.relay_address, args.enroll)  # type: ignore[attr-defined]
        print(f"enrolled as {profile.display_name} ({profile.slug}), key {profile.fingerprint_display}", flush=True)
    stop = threading.Event()

    def on_event(event: CoreEvent) -> None:
        if event.kind == "connection":
            print(f"relay: {core.connection.message}", flush=True)  # type: ignore[attr-defined]
        elif event.job_id and event.kind in ("job_added", "job_updated"):
            try:
                job = core.job(event.job_id)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - removed meanwhile
                return
            extra = f": {job.error}" if job.error else ""
            print(f"job {job.job_code} {job.state.value}{extra}", flush=True)

    core.add_listener(on_event)  # type: ignore[attr-defined]
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    core.start()  # type: ignore[attr-defined]
    print(f"kiosk running headless, printer: {core.printer().name}", flush=True)  # type: ignore[attr-defined]
    try:
        while not stop.wait(0.5):
            pass
    finally:
        core.stop()  # type: ignore[attr-defined]
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from kiosk.core.errors import KioskError
    from kiosk.core.service import KioskCore

    try:
        core = KioskCore(args.data_dir, passphrase=os.environ.get(PASSPHRASE_ENV) or None, auto_accept=args.headless)
        apply_options(core, args)
        if args.headless:
            return run_headless(core, args)
        os.environ.setdefault("KIVY_NO_ARGS", "1")
        from kiosk.app import run_app

        return run_app(core.data_dir, relay=args.relay, fullscreen=not args.windowed, core=core)
    except KioskError as exc:
        print(f"cloudtab-kiosk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
