"""Start-up errors an operator understands: one line naming the setting, non-zero exit.

For the relay (`cloudtab-relay serve` and `db upgrade`), the bridge (`cloudtab-bridge
serve`) and `cloudtab up`: an unreachable database, a wrong bucket (on the GCS
emulator), a missing certificate file, a port in use, a bad URL or address.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.stack import VENV_BIN, base_env
from tests.fixtures.services import free_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 90) -> tuple[int, list[str]]:
    done = subprocess.run(
        argv,
        env=env or base_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, lines


def _one_line(code: int, lines: list[str], *needles: str) -> None:
    assert code != 0, lines
    assert len(lines) == 1, "\n".join(lines)
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in lines[0]


def _relay(tmp_path: Path, *args: str, command: str = "serve") -> list[str]:
    base = [str(VENV_BIN / "cloudtab-relay"), *command.split(), "--data-dir", str(tmp_path / "relay")]
    if command == "serve":
        base += ["--listen", f"127.0.0.1:{free_port()}"]
    return [*base, *args]


def test_relay_unreachable_database(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/cloudtab"
    for command in ("serve", "db upgrade"):
        code, lines = _run(_relay(tmp_path, "--database-url", url, command=command))
        _one_line(
            code, lines, "cannot use the database", "Connection refused", "(--database-url / CLOUDTAB_DATABASE_URL)"
        )


def test_relay_bad_database_url(tmp_path: Path) -> None:
    code, lines = _run(_relay(tmp_path, "--database-url", "mysql://db/cloudtab"))
    _one_line(code, lines, "unsupported database scheme 'mysql'", "(--database-url / CLOUDTAB_DATABASE_URL)")


def test_relay_wrong_bucket(tmp_path: Path, gcs_emulator: object) -> None:
    code, lines = _run(_relay(tmp_path, "--gcs-bucket", "no-such-bucket-4e1"))
    _one_line(code, lines, "'no-such-bucket-4e1'", "does not exist", "(--gcs-bucket / CLOUDTAB_GCS_BUCKET)")


def test_relay_missing_certificate(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")
    code, lines = _run(_relay(tmp_path, "--tls-cert", str(tmp_path / "missing.crt"), "--tls-key", str(key)))
    _one_line(code, lines, f"no such file: {tmp_path / 'missing.crt'}", "(--tls-cert / CLOUDTAB_RELAY_TLS_CERT)")
    code, lines = _run(
        _relay(tmp_path),
        env=base_env(CLOUDTAB_RELAY_TLS_CERT=str(key), CLOUDTAB_RELAY_TLS_KEY=str(tmp_path / "gone.key")),
    )
    _one_line(code, lines, "(--tls-cert / CLOUDTAB_RELAY_TLS_CERT)", "not a PEM file")


def test_relay_port_in_use(tmp_path: Path, busy_port: int) -> None:
    argv = [
        str(VENV_BIN / "cloudtab-relay"),
        "serve",
        "--data-dir",
        str(tmp_path / "relay"),
        "--listen",
        f"127.0.0.1:{busy_port}",
    ]
    code, lines = _run(argv)
    _one_line(
        code,
        lines,
        f"cannot listen on 127.0.0.1:{busy_port}: Address already in use",
        "(--listen / CLOUDTAB_RELAY_LISTEN)",
    )
    code, lines = _run(_relay(tmp_path, "--metrics-listen", f"127.0.0.1:{busy_port}"))
    _one_line(code, lines, "Address already in use", "(--metrics-listen / CLOUDTAB_RELAY_METRICS_LISTEN)")


def test_relay_bad_listen_address(tmp_path: Path) -> None:
    code, lines = _run(
        [str(VENV_BIN / "cloudtab-relay"), "serve", "--data-dir", str(tmp_path / "r"), "--listen", "relay.example.com"]
    )
    _one_line(code, lines, "expected HOST:PORT, got 'relay.example.com'", "(--listen / CLOUDTAB_RELAY_LISTEN)")


def _bridge(*args: str) -> list[str]:
    return [str(VENV_BIN / "cloudtab-bridge"), "serve", *args]


def test_bridge_port_in_use(busy_port: int) -> None:
    code, lines = _run(_bridge("--listen", f"127.0.0.1:{busy_port}"))
    _one_line(code, lines, "Address already in use", "(--listen / CLOUDTAB_BRIDGE_LISTEN)")


def test_bridge_bad_relay_address() -> None:
    code, lines = _run(_bridge("--relay", "https://relay.example.com/", "--listen", f"127.0.0.1:{free_port()}"))
    _one_line(code, lines, "expected the relay as HOST:PORT", "(--relay / CLOUDTAB_BRIDGE_RELAY_ADDRESS)")


def test_bridge_missing_ca_file(tmp_path: Path) -> None:
    env = base_env(CLOUDTAB_BRIDGE_RELAY_CA_FILE=str(tmp_path / "relay-ca.pem"))
    code, lines = _run(_bridge("--relay-tls", "--listen", f"127.0.0.1:{free_port()}"), env=env)
    _one_line(code, lines, f"no such file: {tmp_path / 'relay-ca.pem'}", "(CLOUDTAB_BRIDGE_RELAY_CA_FILE)")


def test_bridge_bad_rate_limit() -> None:
    code, lines = _run(_bridge("--job-limit", "lots", "--listen", f"127.0.0.1:{free_port()}"))
    _one_line(code, lines, "'lots'", "(--job-limit / CLOUDTAB_BRIDGE_JOB_CREATE_LIMIT)")


def test_cloudtab_up_port_in_use(tmp_path: Path, busy_port: int) -> None:
    code, lines = _run(
        [
            str(VENV_BIN / "cloudtab"),
            "up",
            "--headless",
            "--data-dir",
            str(tmp_path / "data"),
            "--relay-listen",
            f"127.0.0.1:{free_port()}",
            "--bridge-listen",
            f"127.0.0.1:{busy_port}",
        ]
    )
    _one_line(code, lines, f"--bridge-listen 127.0.0.1:{busy_port}: Address already in use")


def test_cloudtab_up_missing_certificate(tmp_path: Path) -> None:
    code, lines = _run(
        [
            str(VENV_BIN / "cloudtab"),
            "up",
            "--headless",
            "--data-dir",
            str(tmp_path / "data"),
            "--lan",
            "--lan-address",
            "127.0.0.1",
            "--tls-cert",
            str(tmp_path / "shop.crt"),
            "--tls-key",
            str(tmp_path / "shop.key"),
        ]
    )
    _one_line(code, lines, f"--tls-cert {tmp_path / 'shop.crt'}: cannot read a PEM certificate")
