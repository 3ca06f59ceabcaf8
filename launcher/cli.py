"""`cloudtab up`: relay + upload page + kiosk on one machine, with a demo shop.

Embedded defaults (SQLite + local blob folder under the data folder), or the
production backends with ``--postgres URL --gcs-bucket NAME``. A second run
reuses the data folder: same shop, same kiosk key.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from launcher.demo import DemoShop, ensure_demo_shop, wait_for_http, wait_for_relay
from launcher.processes import ProcessGroup

BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0


def _command(name: str) -> list[str]:
    """The console script `name` next to this Python (the venv), else on PATH."""
    path = BIN / name
    return [str(path)] if path.exists() else [name]


def build_parser() -> argparse.ArgumentParser:
    """The `cloudtab` argument parser."""
    parser = argparse.ArgumentParser(prog="cloudtab", description="CloudTab on one machine.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start relay, upload page and kiosk with a demo shop", description=__doc__)
    up.add_argument("--data-dir", type=Path, default=None,
                    help="folder for all state (env CLOUDTAB_DATA_DIR; default ./cloudtab-data)")
    up.add_argument("--headless", action="store_true",
                    help="no kiosk window: the kiosk core auto-accepts jobs and prints them to "
                         "the demo printer (PDF files in DATA_DIR/printed); the default without a display")
    up.add_argument("--postgres", metavar="URL", help="PostgreSQL URL instead of the embedded SQLite")
    up.add_argument("--gcs-bucket", metavar="NAME", help="Google Cloud Storage bucket instead of the local folder")
    up.add_argument("--relay-listen", default="127.0.0.1:50051", metavar="HOST:PORT", help="default %(default)s")
    up.add_argument("--bridge-listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="default %(default)s")
    up.add_argument("--shop-name", default="CloudTab Demo Shop")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `cloudtab`; returns the exit status."""
    args = build_parser().parse_args(argv)
    return run_up(args)


def run_up(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Start everything, print the customer URL, run until Ctrl-C/SIGTERM or a child's death.

    Returns 0 after a requested stop, 1 when a part failed to start or died.
    """
    data_dir: Path = (args.data_dir or Path(os.environ.get("CLOUDTAB_DATA_DIR", "cloudtab-data"))).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    headless = args.headless or not has_display
    group = ProcessGroup(out or sys.stdout)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    admin_flags = ["--data-dir", str(data_dir / "relay")]
    if args.postgres:
        admin_flags += ["--database-url", args.postgres]
    serve_flags = [*admin_flags, *(["--gcs-bucket", args.gcs_bucket] if args.gcs_bucket else [])]
    relay = _command("cloudtab-relay")

    def alive() -> bool:
        return not stop.is_set() and not group.exited()

    try:
        if args.postgres:
            group.say("up", "upgrading the database schema")
            if group.run("db", [*relay, "db", "upgrade", *admin_flags]) != 0:
                group.say("up", "the database upgrade failed")
                return 1
        ready = data_dir / "relay.ready"
        ready.unlink(missing_ok=True)
        group.start("relay", [*relay, "serve", "--listen", args.relay_listen, "--ready-file", str(ready),
                              *serve_flags])
        wait_for_relay(args.relay_listen, ready, START_TIMEOUT, alive)
        bridge_url = f"http://{args.bridge_listen}"
        shop = ensure_demo_shop(
            relay_command=relay, admin_flags=admin_flags, relay_address=args.relay_listen,
            bridge_url=bridge_url, kiosk_dir=data_dir / "kiosk", printed_dir=data_dir / "printed",
            shop_name=args.shop_name, say=lambda m: group.say("up", m),
        )
        group.start("bridge", [*_command("cloudtab-bridge"), "serve", "--relay", args.relay_listen,
                               "--listen", args.bridge_listen])
        wait_for_http(bridge_url + "/", START_TIMEOUT, alive)
        kiosk_argv = [*_command("cloudtab-kiosk"), "--data-dir", str(data_dir / "kiosk"),
                      "--relay", args.relay_listen]
        kiosk_argv += ["--headless", "--printer-folder", str(data_dir / "printed")] if headless else ["--windowed"]
        group.start("kiosk", kiosk_argv, env={"KIVY_NO_ARGS": "1"})
        _announce(group, shop, headless, data_dir, out or sys.stdout)
        while not stop.wait(0.5):
            dead = group.exited()
            if dead and not stop.wait(0.3):  # why wait: Ctrl-C reaches the children too
                name, code = dead[0]
                group.say("up", f"{name} exited with status {code}; stopping everything")
                return 1
        return 0
    except (TimeoutError, subprocess.SubprocessError, OSError) as exc:
        if stop.is_set():
            return 0
        group.say("up", f"cannot start: {exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - kiosk errors: say why, then stop the rest
        group.say("up", f"cannot start: {type(exc).__name__}: {exc}")
        return 1
    finally:
        group.say("up", "stopping")
        group.stop()


def _announce(group: ProcessGroup, shop: DemoShop, headless: bool, data_dir: Path, out: TextIO) -> None:
    import segno

    group.say("up", "CloudTab is up.")
    group.say("up", f"Customer upload page: {shop.customer_url}")
    group.say("up", f"Shop key fingerprint: {shop.fingerprint_display}")
    if headless:
        group.say("up", f"Kiosk: headless; the demo printer writes each job to {data_dir / 'printed'}")
    text = io.StringIO()
    segno.make(shop.customer_url, error="L").terminal(out=text, compact=True)
    out.write(text.getvalue())
    group.say("up", "Press Ctrl-C to stop.")
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
