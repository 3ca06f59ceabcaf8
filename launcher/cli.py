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
import sys
import threading
from pathlib import Path

from launcher.demo import DemoShop, ensure_demo_shop, wait_for_http, wait_for_relay
from launcher.processes import ProcessGroup

BIN = Path(sys.executable).parent


def _command(name: str) -> list[str]:
    """The console script `name` next to this Python (the venv), else on PATH."""
    path = BIN / name
    return [str(path)] if path.exists() else [name]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudtab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start relay, upload page and kiosk with a demo shop")
    up.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CLOUDTAB_DATA_DIR", "cloudtab-data")),
                    help="folder for all state (default: ./cloudtab-data)")
    up.add_argument("--headless", action="store_true",
                    help="no kiosk window: the kiosk core auto-accepts jobs and prints them to "
                         "the demo printer (PDF files in DATA_DIR/printed)")
    up.add_argument("--postgres", metavar="URL", help="PostgreSQL URL instead of the embedded SQLite")
    up.add_argument("--gcs-bucket", metavar="NAME", help="Google Cloud Storage bucket instead of the local folder")
    up.add_argument("--relay-listen", default="127.0.0.1:50051", metavar="HOST:PORT")
    up.add_argument("--bridge-listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    up.add_argument("--shop-name", default="CloudTab Demo Shop")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_up(args)


def run_up(args: argparse.Namespace) -> int:
    """Start everything, print the customer URL, wait for Ctrl-C or a child's death."""
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    headless = args.headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    group = ProcessGroup()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    relay_flags = ["--data-dir", str(data_dir / "relay")]
    if args.postgres:
        relay_flags += ["--database-url", args.postgres]
    if args.gcs_bucket:
        relay_flags += ["--gcs-bucket", args.gcs_bucket]
    try:
        if args.postgres:
            group.say("up", "upgrading the database schema")
            group.start("db", [*_command("cloudtab-relay"), "db", "upgrade", *relay_flags]).wait()
        group.start("relay", [*_command("cloudtab-relay"), "serve", "--listen", args.relay_listen, *relay_flags])
        wait_for_relay(args.relay_listen, timeout=60)
        bridge_url = f"http://{args.bridge_listen}"
        shop = ensure_demo_shop(
            relay_command=[*_command("cloudtab-relay")], relay_flags=relay_flags,
            relay_address=args.relay_listen, bridge_url=bridge_url,
            kiosk_dir=data_dir / "kiosk", printed_dir=data_dir / "printed", shop_name=args.shop_name, say=lambda m: group.say("up", m),
        )
        group.start("bridge", [*_command("cloudtab-bridge"), "serve", "--relay", args.relay_listen,
                               "--listen", args.bridge_listen])
        wait_for_http(bridge_url + "/", timeout=60)
        kiosk_argv = [*_command("cloudtab-kiosk"), "--data-dir", str(data_dir / "kiosk"), "--relay", args.relay_listen]
        if headless:
            kiosk_argv += ["--headless"]
        group.start("kiosk", kiosk_argv, env={"KIVY_NO_ARGS": "1"})
        _announce(group, shop, headless, data_dir)
        while not stop.wait(0.5):
            dead = group.exited()
            if dead:
                name, code = dead[0]
                group.say("up", f"{name} exited with status {code}; stopping everything")
                return 1
        return 0
    finally:
        group.say("up", "stopping")
        group.stop()


def _announce(group: ProcessGroup, shop: DemoShop, headless: bool, data_dir: Path) -> None:
    import segno

    group.say("up", "CloudTab is up.")
    group.say("up", f"Customer upload page: {shop.customer_url}")
    group.say("up", f"Shop key fingerprint: {shop.fingerprint_display}")
    if headless:
        group.say("up", f"Kiosk: headless; printed jobs land in {data_dir / 'printed'}")
    text = io.StringIO()
    segno.make(shop.customer_url, error="L").terminal(out=text, compact=True)
    sys.stdout.write(text.getvalue())
    group.say("up", "Press Ctrl-C to stop.")
