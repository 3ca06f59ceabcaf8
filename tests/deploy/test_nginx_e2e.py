"""The production shape end to end, TLS on every leg, behind a real nginx.

nginx runs deploy/nginx/cloudtab.conf (TLS + HTTP/2; the upload page with nginx's
default client_max_body_size; grpc_pass over TLS to two relays). The relays run the
ExecStart of deploy/systemd/cloudtab-relay@.service on PostgreSQL and the GCS
emulator, after cloudtab-migrate.service's command; the bridge runs
cloudtab-bridge.service's gunicorn command and reaches the relays through nginx over
TLS; the headless kiosk dials grpcs:// to nginx and prints on ippeveprinter. A phone in
Chromium (trusting the test CA through an NSS database, shop.test mapped to
127.0.0.1) uploads a 1.5 MB PDF through nginx. Then each relay in turn is restarted
behind nginx while a job is sent: the kiosk misses none of them.
"""

from __future__ import annotations

import functools
import io
import random
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.deploy.stack import (
    BRIDGE_NAME,
    RELAY_NAME,
    VENV_BIN,
    Nginx,
    Service,
    base_env,
    make_pki,
    unit_command,
)
from tests.e2e.customer import Options, Phone, Upload, wait_until
from tests.e2e.trust import trusting_home
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, chromium_available
from tests.fixtures.services import free_port, service_missing


def big_pdf(seed: int, size: int = 1_500_000) -> bytes:
    """A one-page PDF of about `size` bytes (a noisy JPEG that does not compress)."""
    from PIL import Image

    rng = random.Random(seed)
    side = int((size / 1.1) ** 0.5)
    img = Image.frombytes("L", (side, side), rng.randbytes(side * side)).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="PDF", resolution=150.0, quality=95)
    return out.getvalue()


def relay_healthy(port: int, ca: bytes) -> bool:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    credentials = grpc.ssl_channel_credentials(ca)
    try:
        with grpc.secure_channel(f"{RELAY_NAME}:{port}", credentials) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


@pytest.fixture
def services() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for service in reversed(started):
        service.stop()


@pytest.fixture
def chromium_trusting(tmp_path: Path) -> Iterator[Callable[[Path], Any]]:
    if not chromium_available():
        service_missing(f"Chromium at {CHROMIUM} with the playwright package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browsers: list[Any] = []

        def launch(ca: Path) -> Any:
            home = trusting_home(tmp_path / "phone-home", ca)
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {BRIDGE_NAME} 127.0.0.1"],
                env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
            )
            browsers.append(browser)
            return browser

        yield launch
        for browser in browsers:
            browser.close()


def test_behind_nginx_tls_everywhere(
    make_pg_database: Callable[[], str],
    gcs_bucket: str,
    ipp_printer: Any,
    chromium_trusting: Callable[[Path], Any],
    services: list[Any],
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path / "pki")
    ca = pki["ca"].read_bytes()
    creds = tmp_path / "credentials"  # what systemd's LoadCredential= hands the relay (%d)
    creds.mkdir()
    (creds / "tls.crt").write_bytes(pki["cert"].read_bytes())
    (creds / "tls.key").write_bytes(pki["key"].read_bytes())
    relay_env = base_env(
        CLOUDTAB_DATABASE_URL=make_pg_database(),
        CLOUDTAB_GCS_BUCKET=gcs_bucket,
        CLOUDTAB_DATA_DIR=str(tmp_path / "relay-state"),
        CLOUDTAB_RELAY_HEARTBEAT_SECONDS="2",
    )

    # Start order: migrate, then the relays, then the bridge.
    migrate = subprocess.run(
        unit_command("cloudtab-migrate.service"),
        env=relay_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    relay_ports = (free_port(), free_port())
    relays = [
        Service(
            f"relay-{port}",
            unit_command("cloudtab-relay@.service", str(port), creds),
            relay_env,
            tmp_path / f"relay-{port}.log",
        )
        for port in relay_ports
    ]
    for relay in relays:
        relay.start()
        services.append(relay)
    for relay, port in zip(relays, relay_ports, strict=True):
        assert wait_until(functools.partial(relay_healthy, port, ca), timeout=40), relay.text()[-3000:]

    nginx_port, bridge_port = free_port(), free_port()
    bridge_env = base_env(
        CLOUDTAB_BRIDGE_RELAY_ADDRESS=f"{RELAY_NAME}:{nginx_port}",
        CLOUDTAB_BRIDGE_RELAY_TLS="true",
        CLOUDTAB_BRIDGE_RELAY_CA_FILE=str(pki["ca"]),
        CLOUDTAB_BRIDGE_PROXY_FIX_X_FOR="1",
        CLOUDTAB_BRIDGE_PROXY_FIX_X_PROTO="1",
        CLOUDTAB_BRIDGE_JOB_CREATE_LIMIT="100 per minute",
    )
    bridge = Service(
        "bridge",
        unit_command(
            "cloudtab-bridge.service",
            replace={"--bind 127.0.0.1:8080": f"--bind 127.0.0.1:{bridge_port}", "--workers 4": "--workers 1"},
        ),
        bridge_env,
        tmp_path / "bridge.log",
    )
    bridge.start()
    services.append(bridge)
    nginx = Nginx(nginx_port, pki, bridge_port, relay_ports)
    nginx.start()
    services.append(nginx)

    added = subprocess.run(
        [str(VENV_BIN / "cloudtab-relay"), "shop", "add", "Corner Copy", "--json"],
        env=relay_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code = added.stdout.strip().splitlines()[-1].split('"enrollment_code": "')[1].split('"')[0]

    # The kiosk dials out to nginx over TLS (grpcs://), trusting the test CA.
    kiosk_dir = tmp_path / "kiosk"
    kiosk = Service(
        "kiosk",
        [
            str(VENV_BIN / "cloudtab-kiosk"),
            "--headless",
            "--data-dir",
            str(kiosk_dir),
            "--relay",
            f"grpcs://{RELAY_NAME}:{nginx_port}",
            "--enroll",
            code,
            "--bridge-url",
            f"https://{BRIDGE_NAME}:{nginx_port}",
            "--printer-uri",
            ipp_printer.uri,
        ],
        base_env(GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(pki["ca"]), KIVY_NO_ARGS="1"),
        tmp_path / "kiosk.log",
    )
    kiosk.start()
    services.append(kiosk)
    assert kiosk.wait_for(r"relay: connected$", 40), kiosk.text()[-3000:] + nginx.error_log()

    from kiosk.core.service import KioskCore

    url = KioskCore(kiosk_dir).poster_url()
    assert url.startswith(f"https://{BRIDGE_NAME}:{nginx_port}/s/corner-copy#f="), url

    browser = chromium_trusting(pki["ca"])
    phone = Phone(browser, "nginx")
    sent: list[bytes] = []

    def send_job(n: int) -> None:
        pdf = big_pdf(n)
        sent.append(pdf)
        try:
            phone.send(url, [Upload(f"scan-{n}.pdf", "application/pdf", pdf)], Options(copies=1))
        except AssertionError as exc:
            raise AssertionError(f"job {n}: {exc}\n{nginx.error_log()}\n{bridge.text()[-2000:]}") from None
        jobs = ipp_printer.wait_for_jobs(len(sent), timeout=60)
        assert len(jobs) == len(sent), f"job {n} not printed:\n{kiosk.text()[-3000:]}\n{nginx.error_log()}"
        phone.wait_done(timeout_ms=30_000)

    try:
        send_job(1)
        phone.shot("done-through-nginx")
        assert phone.page.evaluate("() => window.isSecureContext") is True
        assert len(sent[0]) > 1_048_576  # more than nginx's default body limit, in chunks below it
        access = nginx.access_log()
        assert " 413 " not in access, access[-2000:]
        assert '"PUT /api/jobs/' in access and "HTTP/2.0" in access, access[-2000:]
        assert "/cloudtab.v1." in access  # gRPC calls went through nginx too

        # Restart each relay behind nginx while a job is sent: no event is lost.
        for index, relay in enumerate(relays):
            assert relay.stop() == 0, relay.text()[-2000:]
            send_job(2 + index)
            relay.start()
            assert wait_until(functools.partial(relay_healthy, relay_ports[index], ca), timeout=40), relay.text()[
                -3000:
            ]
    finally:
        phone.close()

    printed = ipp_printer.jobs()
    assert len(printed) == 3
    assert all(job.document.startswith(b"%PDF") for job in printed)
    for relay in relays:
        assert "method=CreateJob" in relay.text()  # both relays served customers
    assert "Traceback" not in kiosk.text() + bridge.text(), kiosk.text()[-3000:] + bridge.text()[-3000:]
    assert kiosk.stop() == 0
    assert bridge.stop() == 0


@pytest.mark.parametrize(("heartbeat", "survives"), [("1", True), ("30", False)])
def test_subscription_outlives_grpc_read_timeout(
    heartbeat: str, survives: bool, relay_factory: Any, services: list[Any], tmp_path: Path
) -> None:
    """nginx cuts a gRPC stream that is quiet for grpc_read_timeout; the relay's heartbeat
    keeps a kiosk's subscription from ever being quiet that long. Here the timeout is
    3 s instead of the file's 1 h: with a 1 s heartbeat the kiosk stays connected on one
    stream for 12 s; with a 30 s heartbeat nginx cuts every stream after 3 s ("upstream
    timed out ... reading response header": the relay sends no headers before its first
    message) and the kiosk never gets connected."""
    pki = make_pki(tmp_path / "pki")
    relay = relay_factory(
        name="hb",
        args=("--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]), "--heartbeat-seconds", heartbeat),
        start=False,
    )
    relay.healthy = functools.partial(relay_healthy, relay.port, pki["ca"].read_bytes())
    relay.start()
    nginx_port = free_port()
    nginx = Nginx(
        nginx_port, pki, free_port(), (relay.port, relay.port), extra={"grpc_read_timeout 1h;": "grpc_read_timeout 3s;"}
    )
    nginx.start()
    services.append(nginx)
    _slug, code = relay.add_shop("Quiet Shop")
    kiosk = Service(
        "kiosk",
        [
            str(VENV_BIN / "cloudtab-kiosk"),
            "--headless",
            "--data-dir",
            str(tmp_path / "k"),
            "--relay",
            f"grpcs://{RELAY_NAME}:{nginx_port}",
            "--enroll",
            code,
            "--printer-folder",
            str(tmp_path / "printed"),
        ],
        base_env(GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(pki["ca"]), KIVY_NO_ARGS="1"),
        tmp_path / "kiosk.log",
    )
    kiosk.start()
    services.append(kiosk)
    assert kiosk.wait_for(r"relay: connecting", 40), kiosk.text()[-3000:]
    time.sleep(12)  # four times nginx's (test) read timeout
    text = kiosk.text()
    if survives:
        assert text.count("relay: connected") == 1 and "subscription ended" not in text, text[-3000:]
        assert "upstream timed out" not in nginx.error_log()
    else:
        # Nothing within 3 s (not even the response headers): nginx ends the stream.
        assert text.count("subscription ended") >= 2, text[-3000:]
        assert "upstream timed out" in nginx.error_log(), nginx.error_log()
