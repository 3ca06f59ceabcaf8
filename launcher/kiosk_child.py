"""The kiosk as a child process of `cloudtab up`.

Headless: the kiosk core auto-accepts every job and prints it to the demo
printer (a PdfFolderPrinter writing PDFs into a folder). With a display: the
Kivy kiosk window. Stops cleanly on SIGTERM/SIGINT.

    python -m launcher.kiosk_child --data-dir DIR [--headless --printed DIR]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("launcher.kiosk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudtab-up-kiosk", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="the kiosk's (enrolled) data folder")
    parser.add_argument("--relay", default="", help="relay address (pre-fills the window's enrollment)")
    parser.add_argument("--headless", action="store_true", help="no window: auto-accept and print to --printed")
    parser.add_argument("--printed", type=Path, help="the demo printer's output folder (headless)")
    return parser


def run_headless(data_dir: Path, printed: Path, stop: threading.Event) -> int:
    """Run the core with auto-accept until `stop` is set.

    Raises:
        kiosk.core.errors.KioskError: the data folder is not enrolled or unusable.
    """
    from kiosk.core.printing import PdfFolderPrinter
    from kiosk.core.service import CoreEvent, KioskCore

    core = KioskCore(data_dir, printer=PdfFolderPrinter(printed), auto_accept=True)
    said: dict[str, str] = {}

    def on_event(event: CoreEvent) -> None:
        if event.kind == "connection":
            state = core.connection
            log.info("relay %s%s", "online" if state.online else "offline",
                     f": {state.message}" if state.message else "")
        elif event.job_id and event.kind in ("job_added", "job_updated"):
            try:
                job = core.job(event.job_id)
            except Exception:  # noqa: BLE001 - removed meanwhile
                return
            line = job.state.value + (f" ({job.error})" if job.error else "")
            if said.get(job.job_id) != line:  # several events per state change: say it once
                said[job.job_id] = line
                log.info("job %s: %s", job.job_code or event.job_id, line)

    core.add_listener(on_event)
    core.start()
    log.info("headless kiosk for %r: auto-accepting jobs, demo printer writes to %s",
             core.shop.display_name if core.shop else "?", printed)
    stop.wait()
    log.info("stopping")
    core.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if not args.headless:
        from kiosk.app import run_app

        return run_app(args.data_dir, args.relay or None, fullscreen=False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    printed = args.printed or args.data_dir / "demo-printer"
    from kiosk.core.errors import KioskError

    try:
        return run_headless(args.data_dir, printed, stop)
    except KioskError as exc:
        log.error("kiosk cannot start: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
