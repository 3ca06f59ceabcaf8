"""TLS paths straight to a relay serving --tls-cert/--tls-key (no proxy in between).

* the bridge with --relay-tls and CLOUDTAB_BRIDGE_RELAY_CA_FILE reaches it; without the
  CA file it does not (the certificate is really checked);
* the kiosk reaches it by ``grpcs://host:port`` and by ``https://host:port/``, trusting
  the CA through gRPC's roots file; without that trust enrollment fails plainly;
* a kiosk whose key is protected by a passphrase: the key file is encrypted, the kiosk
  refuses to start without the passphrase or with a wrong one, starts with the right one
  (CLOUDTAB_KIOSK_PASSPHRASE), and the core's unlock() opens it.
"""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.deploy.stack import VENV_BIN, Service, base_env, make_pki
from tests.fixtures.services import free_port, wait_for_port

PASSPHRASE = "counter top 4921"


def _tls_healthy(port: int, ca: bytes) -> bool:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    try:
        with grpc.secure_channel(f"localhost:{port}", grpc.ssl_channel_credentials(ca)) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    except grpc.RpcError:
        return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def tls_relay(relay_factory: Any, tmp_path: Path) -> Any:
    pki = make_pki(tmp_path / "pki")
    relay = relay_factory(name="tls", args=("--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"])), start=False)
    relay.healthy = functools.partial(_tls_healthy, relay.port, pki["ca"].read_bytes())
    relay.start()
    relay.pki = pki
    return relay


def _kiosk(tmp_path: Path, name: str, relay: str, *extra: str, **env: str) -> Service:
    argv = [
        str(VENV_BIN / "cloudtab-kiosk"),
        "--headless",
        "--data-dir",
        str(tmp_path / name),
        "--relay",
        relay,
        "--printer-folder",
        str(tmp_path / f"{name}-printed"),
        *extra,
    ]
    return Service(name, argv, base_env(KIVY_NO_ARGS="1", **env), tmp_path / f"{name}.log")


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_kiosk_addresses_and_bridge_over_tls(tls_relay: Any, tmp_path: Path) -> None:
    ca = str(tls_relay.pki["ca"])
    port = tls_relay.port
    trusted = {"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": ca}

    slugs = []
    for name, address in (("grpcs", f"grpcs://localhost:{port}"), ("https", f"https://localhost:{port}/")):
        slug, code = tls_relay.add_shop(f"Shop {name}")
        slugs.append(slug)
        kiosk = _kiosk(tmp_path, name, address, "--enroll", code, **trusted)
        kiosk.start()
        try:
            assert kiosk.wait_for(r"relay: connected$", 40), kiosk.text()[-3000:]
        finally:
            assert kiosk.stop() == 0, kiosk.text()[-2000:]

    # Not trusting the relay's CA: enrollment fails with a plain message.
    slug, code = tls_relay.add_shop("Shop untrusted")
    untrusted = _kiosk(tmp_path, "untrusted", f"grpcs://localhost:{port}", "--enroll", code)
    untrusted.start()
    assert untrusted.process is not None
    assert untrusted.process.wait(90) != 0
    assert "cloudtab-kiosk:" in untrusted.text() and "connected" not in untrusted.text(), untrusted.text()

    # The bridge over TLS to the relay, trusting the CA file.
    for with_ca, expected in ((True, 200), (False, 503)):
        listen = free_port()
        env = base_env(**({"CLOUDTAB_BRIDGE_RELAY_CA_FILE": ca} if with_ca else {}))
        bridge = Service(
            f"bridge-{with_ca}",
            [
                str(VENV_BIN / "cloudtab-bridge"),
                "serve",
                "--relay",
                f"localhost:{port}",
                "--relay-tls",
                "--listen",
                f"127.0.0.1:{listen}",
            ],
            env,
            tmp_path / f"bridge-{with_ca}.log",
        )
        bridge.start()
        try:
            assert wait_for_port(listen, timeout=30), bridge.text()
            status, body = _get(f"http://127.0.0.1:{listen}/api/shops/{slugs[0]}")
            assert status == expected, (status, body, bridge.text()[-2000:])
            if with_ca:
                assert body.get("display_name") == "Shop grpcs" or "Shop grpcs" in json.dumps(body), body
        finally:
            bridge.stop()


def test_kiosk_key_passphrase_unlock(tls_relay: Any, tmp_path: Path) -> None:
    from kiosk.core.errors import WrongPassphrase
    from kiosk.core.service import KioskCore

    ca = str(tls_relay.pki["ca"])
    address = f"grpcs://localhost:{tls_relay.port}"
    _slug, code = tls_relay.add_shop("Locked Shop")
    first = _kiosk(
        tmp_path,
        "locked",
        address,
        "--enroll",
        code,
        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=ca,
        CLOUDTAB_KIOSK_PASSPHRASE=PASSPHRASE,
    )
    first.start()
    assert first.wait_for(r"relay: connected$", 40), first.text()[-3000:]
    assert first.stop() == 0
    keys = list((tmp_path / "locked").rglob("*.pem"))
    assert keys and all(b"ENCRYPTED PRIVATE KEY" in key.read_bytes() for key in keys), keys

    for label, extra in (("none", {}), ("wrong", {"CLOUDTAB_KIOSK_PASSPHRASE": "guess"})):
        refused = _kiosk(tmp_path, "locked", address, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=ca, **extra)
        refused.log = tmp_path / f"locked-{label}.log"
        refused.start()
        assert refused.process is not None and refused.process.wait(60) == 1, refused.text()
        assert "passphrase" in refused.text() and "Traceback" not in refused.text(), refused.text()

    again = _kiosk(
        tmp_path, "locked", address, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=ca, CLOUDTAB_KIOSK_PASSPHRASE=PASSPHRASE
    )
    again.log = tmp_path / "locked-again.log"
    again.start()
    try:
        assert again.wait_for(r"relay: connected$", 40), again.text()[-3000:]
    finally:
        assert again.stop() == 0

    # The kiosk screen's path: the core asks, a wrong passphrase is refused, the right one opens.
    core = KioskCore(tmp_path / "locked")
    assert core.needs_passphrase
    with pytest.raises(WrongPassphrase):
        core.unlock("guess")
    assert core.needs_passphrase
    core.unlock(PASSPHRASE)
    assert not core.needs_passphrase
