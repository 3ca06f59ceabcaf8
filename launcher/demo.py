"""The demo shop of `cloudtab up`: created and enrolled once, reused afterwards."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class DemoShop:
    """What the launcher tells the person at the terminal."""

    slug: str
    customer_url: str
    fingerprint_display: str


def wait_for_relay(address: str, timeout: float) -> None:
    """Wait until the relay's health service says SERVING.

    Raises:
        TimeoutError: it did not within `timeout` seconds.
    """
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"relay at {address} not serving after {timeout:.0f} s")


def wait_for_http(url: str, timeout: float) -> None:
    """Wait until `url` answers HTTP 200.

    Raises:
        TimeoutError: it did not within `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not answering after {timeout:.0f} s")


def ensure_demo_shop(
    *,
    relay_command: Sequence[str],
    relay_flags: Sequence[str],
    relay_address: str,
    bridge_url: str,
    kiosk_dir: Path,
    printed_dir: Path,
    shop_name: str,
    say: Callable[[str], None],
) -> DemoShop:
    """Create the demo shop and enroll the kiosk on first run; reuse both afterwards.

    Raises:
        subprocess.CalledProcessError: the relay's admin CLI failed.
        kiosk.core.errors.KioskError: enrollment failed.
    """
    from kiosk.core.config import PrinterSettings, load_settings, save_settings
    from kiosk.core.service import KioskCore

    kiosk_dir.mkdir(parents=True, exist_ok=True)
    core = KioskCore(kiosk_dir)
    if not core.enrolled:
        say(f"first run: creating the shop {shop_name!r} and enrolling the kiosk")
        out = subprocess.run(
            [*relay_command, "shop", "add", shop_name, "--json", *relay_flags],
            check=True, capture_output=True, text=True,
        ).stdout
        added = json.loads(out)
        core.enroll(relay_address, added["enrollment_code"])
    settings = load_settings(kiosk_dir)
    printed_dir.mkdir(parents=True, exist_ok=True)
    settings = dataclasses.replace(
        settings,
        relay_address=relay_address,
        bridge_url=bridge_url,
        printer=PrinterSettings(kind="folder", folder=str(printed_dir))
        if settings.printer.kind == "folder" else settings.printer,
    )
    save_settings(kiosk_dir, settings)
    shop = core.shop
    if shop is None:  # enrolled above or before; a profile is always stored with the token
        raise RuntimeError("kiosk data folder has a token but no shop profile")
    core = KioskCore(kiosk_dir)
    return DemoShop(slug=shop.slug, customer_url=core.poster_url(), fingerprint_display=shop.fingerprint_display)
