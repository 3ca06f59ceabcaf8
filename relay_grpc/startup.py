"""Start-up checks of ``cloudtab-relay``: a bad setting stops it with one line naming it.

``check_settings`` looks at the configuration alone (addresses, URL, certificate files);
``check_backends`` contacts the database and the blob store once before serving;
``bind_error`` and ``database_error`` turn what the libraries raise into the same kind
of line. The CLI prints ``cloudtab-relay: <message> (<setting>)`` and exits non-zero.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from relay_grpc.config import RelayConfig, split_host_port

BACKEND_TIMEOUT = 20.0
SETTINGS = {
    "listen": "--listen / CLOUDTAB_RELAY_LISTEN",
    "metrics_listen": "--metrics-listen / CLOUDTAB_RELAY_METRICS_LISTEN",
    "database_url": "--database-url / CLOUDTAB_DATABASE_URL",
    "gcs_bucket": "--gcs-bucket / CLOUDTAB_GCS_BUCKET",
    "data_dir": "--data-dir / CLOUDTAB_DATA_DIR",
    "tls_cert": "--tls-cert / CLOUDTAB_RELAY_TLS_CERT",
    "tls_key": "--tls-key / CLOUDTAB_RELAY_TLS_KEY",
}


class StartupError(Exception):
    """A setting that keeps the relay from starting; ``str()`` is the one line to print."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{message} ({SETTINGS[setting]})")
        self.setting = setting


def check_settings(config: RelayConfig) -> None:
    """Check what can be checked without contacting anything.

    Raises:
        StartupError: a malformed address or URL, or an unreadable certificate or key.
    """
    from relay_grpc.store.db import normalize_url

    for name in ("listen", "metrics_listen"):
        value = getattr(config, name)
        if value is None:
            continue
        try:
            _host, port = split_host_port(value)
        except ValueError:
            raise StartupError(name, f"expected HOST:PORT, got {value!r}") from None
        if not 0 <= port < 65536:
            raise StartupError(name, f"port {port} is out of range")
    try:
        normalize_url(config.resolved_database_url)
    except ValueError as exc:
        raise StartupError("database_url", f"bad database URL: {exc}") from None
    if bool(config.tls_cert) != bool(config.tls_key):
        raise StartupError("tls_key" if config.tls_cert else "tls_cert", "--tls-cert and --tls-key go together")
    if config.tls_cert and config.tls_key:
        _check_pem(Path(config.tls_cert), "tls_cert", b"-----BEGIN CERTIFICATE-----")
        _check_pem(Path(config.tls_key), "tls_key", b"PRIVATE KEY-----")


def _check_pem(path: Path, setting: str, marker: bytes) -> None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StartupError(setting, f"no such file: {path}") from None
    except OSError as exc:
        raise StartupError(setting, f"cannot read {path}: {exc.strerror}") from None
    if marker not in data:
        raise StartupError(setting, f"{path} is not a PEM file with a {marker.decode().strip('-')} block")


def database_error(config: RelayConfig, exc: BaseException) -> StartupError:
    """The line for a database that cannot be reached or used."""
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    detail = " ".join(str(cause).split()) or type(cause).__name__
    target = _database_target(config.resolved_database_url)
    return StartupError("database_url", f"cannot use the database {target}: {detail[:300]}")


def _database_target(url: str) -> str:
    """The URL without password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any unparsable URL: say nothing more
        return "(unparsable URL)"


async def check_backends(relay: object, *, database: bool = True) -> None:
    """One round trip to the database (unless `database` is false) and one to the blob store.

    With ``--no-migrate`` the database is not checked: such a relay runs and reports
    NOT_SERVING until its database answers (the migration step, run before it, is
    where a wrong database URL shows).

    Raises:
        StartupError: either does not answer (within BACKEND_TIMEOUT s) or refuses.
    """
    from relay_grpc.app import Relay
    from relay_grpc.store.blobs.base import BlobStoreError

    assert isinstance(relay, Relay)
    config = relay.config
    if database:
        await _check_database(relay)
    setting = "gcs_bucket" if config.gcs_bucket else "data_dir"
    where = f"bucket {config.gcs_bucket!r}" if config.gcs_bucket else f"blob folder in {config.resolved_data_dir}"
    try:
        await asyncio.wait_for(relay.blobs.check(), BACKEND_TIMEOUT)
    except TimeoutError:
        raise StartupError(setting, f"the {where} did not answer within {BACKEND_TIMEOUT:.0f} s") from None
    except BlobStoreError as exc:
        raise StartupError(setting, f"cannot use the {where}: {' '.join(str(exc).split())[:300]}") from None


def check_free(config: RelayConfig, setting: str = "listen") -> None:
    """Bind-test the address of `setting` (as gRPC will, with SO_REUSEADDR), so a port in
    use is one plain line instead of gRPC's own log.

    Raises:
        StartupError: the address is in use or not one of this machine's.
    """
    value = getattr(config, setting)
    if value is None:
        return
    host, port = split_host_port(value)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise StartupError(setting, f"cannot listen on {value}: {exc.strerror or exc}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise StartupError(setting, f"cannot listen on {value}: {exc.strerror or exc}") from None


async def _check_database(relay: Any) -> None:
    config = relay.config
    try:
        await asyncio.wait_for(relay.db.check(), BACKEND_TIMEOUT)
    except TimeoutError:
        raise StartupError(
            "database_url",
            f"the database {_database_target(config.resolved_database_url)} "
            f"did not answer within {BACKEND_TIMEOUT:.0f} s",
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure: say which setting
        raise database_error(config, exc) from None


def bind_error(config: RelayConfig, setting: str = "listen") -> StartupError:
    """The line for an address gRPC or the metrics server could not bind."""
    try:
        check_free(config, setting)
    except StartupError as exc:
        return exc
    return StartupError(setting, f"cannot listen on {getattr(config, setting)}")
