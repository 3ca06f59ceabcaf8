"""The demo shop of `cloudtab up`: created and enrolled once, reused afterwards."""

from __future__ import annotations

import dataclasses
import json
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class DemoShop:
    """What the launcher tells the person at the terminal."""

    slug: str
    customer_url: str
    fingerprint_display: str


def wait_for_relay(address: str, ready_file: Path, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Wait until our relay wrote `ready_file` and its health service says SERVING.

    The ready file matters: a health check alone also succeeds against another
    process already listening on that port.

    Raises:
        TimeoutError: not within `timeout` seconds, or `alive()` turned false.
    """
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline and alive():
            if ready_file.exists():
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
            time.sleep(0.1)
    raise TimeoutError(f"relay at {address} not serving")


def wait_for_http(
    url: str,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    *,
    cafile: str | None = None,
    verify: bool = True,
) -> None:
    """Wait until `url` answers HTTP 200 (https: checked against `cafile`, or not at all
    when `verify` is false).

    Raises:
        TimeoutError: it did not within `timeout` seconds, or `alive()` turned false.
    """
    context = None
    if url.startswith("https://"):
        context = ssl.create_default_context(cafile=cafile)
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} not answering")


def _relay_admin(relay_command: Sequence[str], args: Sequence[str], flags: Sequence[str]) -> Any:
    """Run an admin subcommand with --json and parse its last output line."""
    out = subprocess.run(
        [*relay_command, *args, "--json", *flags], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def ensure_demo_shop(
    *,
    relay_command: Sequence[str],
    admin_flags: Sequence[str],
    relay_address: str,
    bridge_url: str,
    kiosk_dir: Path,
    printed_dir: Path,
    shop_name: str,
    say: Callable[[str], None],
) -> DemoShop:
    """Create the demo shop and enroll the kiosk on first run; reuse both afterwards.

    `admin_flags` select the relay's database for `cloudtab-relay shop ...`. A kiosk
    folder whose shop the relay no longer knows (the relay's data was removed) is
    enrolled again with a new shop.

    Raises:
        subprocess.CalledProcessError: the relay's admin CLI failed.
        kiosk.core.errors.KioskError: enrollment failed or the kiosk folder is unusable.
    """
    from kiosk.core.config import PrinterSettings, load_settings, save_settings
    from kiosk.core.service import KioskCore

    kiosk_dir.mkdir(parents=True, exist_ok=True)
    core = KioskCore(kiosk_dir)
    known = (
        core.enrolled
        and core.shop is not None
        and any(
            isinstance(row, dict) and row.get("slug") == core.shop.slug and not row.get("revoked")
            for row in _relay_admin(relay_command, ["shop", "list"], admin_flags)
        )
    )
    if not known:
        say(f"first run: creating the shop {shop_name!r} and enrolling the kiosk")
        added = _relay_admin(relay_command, ["shop", "add", shop_name], admin_flags)
        if not isinstance(added, dict):
            raise subprocess.CalledProcessError(1, "cloudtab-relay shop add", "unexpected output")
        core.enroll(relay_address, str(added["enrollment_code"]))
    else:
        say("reusing the demo shop and kiosk key from the data folder")
    printed_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(kiosk_dir)
    printer = settings.printer
    if printer.kind == "folder":
        printer = PrinterSettings(kind="folder", folder=str(printed_dir))
    save_settings(kiosk_dir, settings.replace(relay_address=relay_address, bridge_url=bridge_url, printer=printer))
    core = KioskCore(kiosk_dir)
    shop = core.shop
    if shop is None:
        raise RuntimeError("the kiosk data folder has a token but no shop profile")
    return DemoShop(slug=shop.slug, customer_url=core.poster_url(), fingerprint_display=shop.fingerprint_display)
