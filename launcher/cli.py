"""`cloudtab up`: relay + upload page + kiosk on one machine, with a demo shop.

Embedded defaults (SQLite + local blob folder under the data folder), or the
production backends with ``--postgres URL --gcs-bucket NAME``. A second run
reuses the data folder: same shop, same kiosk key. The upload page runs under
gunicorn, as in production; with ``--lan`` it serves HTTPS on the LAN address
(certificate from a local CA made once in DATA_DIR/tls, or --tls-cert/--tls-key).
Logs go to DATA_DIR/cloudtab.log (``--verbose``: to the terminal).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from launcher.demo import DemoShop, ensure_demo_shop, wait_for_http, wait_for_relay
from launcher.lan import (
    LanError,
    ServerTls,
    check_owner_tls,
    ensure_local_tls,
    lan_address,
)
from launcher.processes import ProcessGroup

BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
LOG_FILE = "cloudtab.log"
PART_NAMES = {"relay": "relay", "bridge": "upload page", "kiosk": "kiosk"}


def _command(name: str) -> list[str]:
    """The console script `name` next to this Python (the venv), else on PATH."""
    path = BIN / name
    return [str(path)] if path.exists() else [name]


def build_parser() -> argparse.ArgumentParser:
    """The `cloudtab` argument parser."""
    parser = argparse.ArgumentParser(prog="cloudtab", description="CloudTab on one machine.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser(
        "up",
        help="start relay, upload page and kiosk with a demo shop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for all state (env CLOUDTAB_DATA_DIR; default ./cloudtab-data)",
    )
    up.add_argument(
        "--headless",
        action="store_true",
        help="no kiosk window: the kiosk core auto-accepts jobs and prints them to "
        "the demo printer (PDF files in DATA_DIR/printed); the default without a display",
    )
    up.add_argument(
        "--lan",
        action="store_true",
        help="serve the upload page over HTTPS on this machine's LAN address, so phones on the "
        "shop's Wi-Fi can open it (certificate from a local CA kept in DATA_DIR/tls)",
    )
    up.add_argument("--lan-address", metavar="ADDRESS", help="with --lan: this address instead of the detected one")
    up.add_argument(
        "--lan-name",
        metavar="NAME",
        action="append",
        default=[],
        help="with --lan: a host name phones use for this machine (in the URL and the certificate)",
    )
    up.add_argument("--tls-cert", type=Path, metavar="FILE", help="with --lan: your own certificate (PEM chain)")
    up.add_argument("--tls-key", type=Path, metavar="FILE", help="with --lan: the key of --tls-cert (PEM)")
    up.add_argument("--postgres", metavar="URL", help="PostgreSQL URL instead of the embedded SQLite")
    up.add_argument("--gcs-bucket", metavar="NAME", help="Google Cloud Storage bucket instead of the local folder")
    up.add_argument("--relay-listen", default="127.0.0.1:50051", metavar="HOST:PORT", help="default %(default)s")
    up.add_argument(
        "--bridge-listen", default=None, metavar="HOST:PORT", help="default 127.0.0.1:8080; with --lan LAN_ADDRESS:8443"
    )
    up.add_argument("--shop-name", default="CloudTab Demo Shop")
    up.add_argument(
        "--verbose", "-v", action="store_true", help="show every part's log here instead of in DATA_DIR/cloudtab.log"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `cloudtab`; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.lan and (args.lan_address or args.lan_name or args.tls_cert or args.tls_key):
        parser.error("--lan-address, --lan-name, --tls-cert and --tls-key go with --lan")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return run_up(args)


@dataclasses.dataclass(frozen=True)
class Bridge:
    """Where the upload page listens and how the launcher and customers reach it."""

    listen: str
    public_url: str  # in the poster and QR
    probe_url: str  # what the launcher polls until it answers
    tls: ServerTls | None


def plan_bridge(args: argparse.Namespace, data_dir: Path) -> Bridge:
    """The bridge's address, public URL and TLS files for these options.

    Raises:
        LanError: --lan cannot work (no LAN address, bad certificate files).
    """
    if not args.lan:
        listen = args.bridge_listen or "127.0.0.1:8080"
        host, _, port = listen.rpartition(":")
        # A wildcard address is no address to open: the QR names this machine's loopback
        # (phones need --lan, which also brings the HTTPS they need for WebCrypto).
        shown = f"127.0.0.1:{port}" if host in ("", "0.0.0.0", "::", "[::]") else listen
        return Bridge(listen, f"http://{shown}", f"http://{shown}/", None)
    host, _, port = (args.bridge_listen or ":8443").rpartition(":")
    address = args.lan_address or (host if host not in ("", "0.0.0.0", "::", "[::]") else lan_address())
    tls = (
        check_owner_tls(args.tls_cert, args.tls_key)
        if args.tls_cert
        else ensure_local_tls(data_dir / "tls", address, args.lan_name)
    )
    bind = f"{host or address}:{port}"
    public = args.lan_name[0] if args.lan_name else address
    return Bridge(bind, f"https://{public}:{port}", f"https://{address}:{port}/", tls)


def run_up(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Start everything, print the customer URL, run until Ctrl-C/SIGTERM or a child's death.

    Returns 0 after a requested stop, 1 when a part failed to start or the relay or the
    upload page died. A kiosk that dies is started again; the other parts keep running.
    """
    out = out or sys.stdout
    data_dir: Path = (args.data_dir or Path(os.environ.get("CLOUDTAB_DATA_DIR", "cloudtab-data"))).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    headless = args.headless or not has_display
    log_path = data_dir / LOG_FILE
    with contextlib.ExitStack() as files:
        log_file = None if args.verbose else files.enter_context(open(log_path, "a", encoding="utf-8"))
        group = ProcessGroup(out, log_file)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            return _run(args, data_dir, headless, group, stop, out, None if args.verbose else log_path)
        finally:
            if group.started:
                group.say("up", "stopping")
                group.stop()
                group.say("up", "stopped")


def _run(
    args: argparse.Namespace,
    data_dir: Path,
    headless: bool,
    group: ProcessGroup,
    stop: threading.Event,
    out: TextIO,
    log_path: Path | None,
) -> int:
    admin_flags = ["--data-dir", str(data_dir / "relay")]
    if args.postgres:
        admin_flags += ["--database-url", args.postgres]
    serve_flags = [*admin_flags, *(["--gcs-bucket", args.gcs_bucket] if args.gcs_bucket else [])]
    relay = _command("cloudtab-relay")
    see_log = f" (details in {log_path})" if log_path else ""

    def alive() -> bool:
        return not stop.is_set() and not group.exited()

    try:
        bridge = plan_bridge(args, data_dir)
        for flag, address in (("--relay-listen", args.relay_listen), ("--bridge-listen", bridge.listen)):
            problem = _bind_problem(address)
            if problem:
                group.say("up", f"cannot start: {flag} {address}: {problem}")
                return 1
        if log_path:
            group.say("up", f"logs go to {log_path} (--verbose shows them here)")
        if args.postgres:
            group.say("up", "upgrading the database schema")
            if group.run("db", [*relay, "db", "upgrade", *admin_flags]) != 0:
                group.say("up", f"the database upgrade failed{see_log}")
                return 1
        ready = data_dir / "relay.ready"
        ready.unlink(missing_ok=True)
        group.start("relay", [*relay, "serve", "--listen", args.relay_listen, "--ready-file", str(ready), *serve_flags])
        wait_for_relay(args.relay_listen, ready, START_TIMEOUT, alive)
        shop = ensure_demo_shop(
            relay_command=relay,
            admin_flags=admin_flags,
            relay_address=args.relay_listen,
            bridge_url=bridge.public_url,
            kiosk_dir=data_dir / "kiosk",
            printed_dir=data_dir / "printed",
            shop_name=args.shop_name,
            say=lambda m: group.say("up", m),
        )
        group.start("bridge", _bridge_argv(bridge), env={"CLOUDTAB_BRIDGE_RELAY_ADDRESS": args.relay_listen})
        wait_for_http(
            bridge.probe_url,
            START_TIMEOUT,
            alive,
            cafile=str(bridge.tls.ca) if bridge.tls and bridge.tls.ca else None,
            verify=not (bridge.tls and bridge.tls.ca is None),
        )
        kiosk_argv = [*_command("cloudtab-kiosk"), "--data-dir", str(data_dir / "kiosk"), "--relay", args.relay_listen]
        kiosk_argv += ["--headless", "--printer-folder", str(data_dir / "printed")] if headless else ["--windowed"]
        kiosk_env = {"KIVY_NO_ARGS": "1"}
        group.start("kiosk", kiosk_argv, env=kiosk_env)
        _announce(group, shop, headless, data_dir, bridge, out)
        restarts = KioskRestarts()
        while not stop.wait(0.5):
            for name, code in group.exited():
                if name != "kiosk":
                    group.say("up", f"the {PART_NAMES[name]} stopped (status {code}); stopping everything{see_log}")
                    _why(group, name)
                    return 1
                delay = restarts.next_delay()
                group.say(
                    "up",
                    f"the kiosk stopped (status {code}); starting it again in {delay:.0f} s"
                    f"{see_log}; the upload page stays up",
                )
                if stop.wait(delay):
                    return 0
                group.start("kiosk", kiosk_argv, env=kiosk_env)
        return 0
    except LanError as exc:
        group.say("up", f"cannot serve on the LAN: {exc}")
        return 1
    except (TimeoutError, subprocess.SubprocessError, OSError) as exc:
        if stop.is_set():
            return 0
        dead = group.exited()
        if dead:
            name, code = dead[0]
            group.say("up", f"cannot start: the {PART_NAMES.get(name, name)} stopped (status {code}){see_log}")
            _why(group, name)
        else:
            group.say("up", f"cannot start: {exc}{see_log}")
        return 1
    except Exception as exc:  # noqa: BLE001 - kiosk errors: say why, then stop the rest
        if stop.is_set():
            return 0
        group.say("up", f"cannot start: {type(exc).__name__}: {exc}{see_log}")
        return 1


def _bind_problem(address: str) -> str | None:
    """Why `address` (HOST:PORT) cannot be listened on, or None when it can."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return "expected HOST:PORT"
    try:
        family, kind, proto, _name, sockaddr = socket.getaddrinfo(
            host.strip("[]") or "0.0.0.0", int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(sockaddr)
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


def _why(group: ProcessGroup, name: str) -> None:
    """Repeat the last line a part wrote (its one-line start-up error) on the terminal."""
    group.wait_output()
    line = group.last_line(name)
    if line:
        group.say(name, line)


class KioskRestarts:
    """Back-off for restarting a kiosk that died: 1, 2, 4 ... 30 s, reset after 5 quiet minutes."""

    def __init__(self) -> None:
        self._delay = 0.0
        self._last = 0.0

    def next_delay(self) -> float:
        now = time.monotonic()
        if now - self._last > 300:
            self._delay = 0.0
        self._last = now
        self._delay = min(30.0, max(1.0, self._delay * 2))
        return self._delay


def _bridge_argv(bridge: Bridge) -> list[str]:
    """gunicorn serving the bridge, as in production: the asyncio worker (status streams cost
    no thread; header deadline, body time budget) running the ASGI app."""
    argv = [
        *_command("gunicorn"),
        "--worker-class",
        "web_bridge.server.BridgeWorker",
        "--workers",
        "1",
        "--keep-alive",
        "5",
        "--bind",
        bridge.listen,
        "--no-control-socket",
        "--graceful-timeout",
        "3",
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
    ]
    if bridge.tls is not None:
        argv += ["--certfile", str(bridge.tls.cert), "--keyfile", str(bridge.tls.key)]
    return [*argv, "web_bridge.asgi:create_asgi_app()"]


def _announce(group: ProcessGroup, shop: DemoShop, headless: bool, data_dir: Path, bridge: Bridge, out: TextIO) -> None:
    import segno

    group.say("up", "CloudTab is up.")
    group.say("up", f"Customer upload page: {shop.customer_url}")
    group.say("up", f"Shop key fingerprint: {shop.fingerprint_display}")
    if headless:
        group.say("up", f"Kiosk: headless; the demo printer writes each job to {data_dir / 'printed'}")
    if bridge.tls is not None and bridge.tls.ca is not None:
        group.say(
            "up",
            f"Phones: install {bridge.tls.ca} once as a trusted certificate authority "
            "(Android: Settings > Security > Install a certificate > CA; iPhone: open it, then "
            "General > About > Certificate Trust Settings).",
        )
        group.say(
            "up",
            "Without it, each phone warns once that the connection is not private: "
            "that is this machine's own certificate; choose Advanced > Proceed.",
        )
    text = io.StringIO()
    segno.make(shop.customer_url, error="L").terminal(out=text, compact=True)
    out.write(text.getvalue())
    group.say("up", "Press Ctrl-C to stop.")
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
