"""Relay configuration: one dataclass, filled from defaults, environment and flags.

Nothing is read from the environment at import time; ``RelayConfig.from_env()``
does it when asked. Flags (see ``relay_grpc.cli``) override the environment.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

GIB = 1 << 30
MIB = 1 << 20
KIB = 1 << 10

ENV_PREFIX = "CLOUDTAB_"
# field name -> environment variable (all prefixed with CLOUDTAB_)
ENV_FIELDS = {
    "listen": "RELAY_LISTEN",
    "data_dir": "DATA_DIR",
    "database_url": "DATABASE_URL",
    "gcs_bucket": "GCS_BUCKET",
    "gcs_prefix": "GCS_PREFIX",
    "tls_cert": "RELAY_TLS_CERT",
    "tls_key": "RELAY_TLS_KEY",
    "metrics_listen": "RELAY_METRICS_LISTEN",
    "retention_seconds": "RELAY_RETENTION_SECONDS",
    "upload_retention_seconds": "RELAY_UPLOAD_RETENTION_SECONDS",
    "heartbeat_seconds": "RELAY_HEARTBEAT_SECONDS",
    "reaper_interval_seconds": "RELAY_REAPER_INTERVAL_SECONDS",
    "create_job_rate_per_minute": "RELAY_CREATE_JOB_RATE",
    "shutdown_grace_seconds": "RELAY_SHUTDOWN_GRACE_SECONDS",
    "upload_idle_seconds": "RELAY_UPLOAD_IDLE_SECONDS",
    "max_uploads_per_peer": "RELAY_MAX_UPLOADS_PER_PEER",
    "log_level": "RELAY_LOG_LEVEL",
    "database_pool_size": "DATABASE_POOL_SIZE",
    "database_max_overflow": "DATABASE_MAX_OVERFLOW",
    "workers": "RELAY_WORKERS",
}


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/cloudtab/relay`` (or ``~/.local/share/...``); ``./cloudtab-data`` without a home."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "cloudtab" / "relay"
    home = os.environ.get("HOME")
    if home and Path(home).is_dir():
        return Path(home) / ".local" / "share" / "cloudtab" / "relay"
    return Path.cwd() / "cloudtab-data"


@dataclasses.dataclass
class RelayConfig:
    """Everything the relay can be told. Sizes are ciphertext bytes."""

    listen: str = "127.0.0.1:50051"
    data_dir: Path | None = None
    database_url: str | None = None
    gcs_bucket: str | None = None
    gcs_prefix: str = ""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    metrics_listen: str | None = None
    retention_seconds: int = 1800
    upload_retention_seconds: int = 1800
    heartbeat_seconds: float = 10.0
    reaper_interval_seconds: float = 30.0
    create_job_rate_per_minute: int = 600
    shutdown_grace_seconds: float = 5.0
    upload_idle_seconds: float = 120.0
    log_level: str = "INFO"
    max_file_bytes: int = 2 * GIB
    max_job_bytes: int = 4 * GIB
    max_files_per_job: int = 20
    max_chunk_bytes: int = 4 * MIB + 4 * KIB
    max_manifest_bytes: int = 64 * KIB
    download_chunk_bytes: int = 1 * MIB
    record_size: int = 65536
    min_chunk_bytes: int = 65536 + 16  # one sealed record; only a stream's last chunk may be shorter
    max_short_chunks: int = 64  # short stream tails per file, so parts per file stay bounded
    max_uploads_per_peer: int = 256  # concurrent UploadFile streams per client address (IPv6 per /64); 0 = off
    accepted_media_types: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/png")
    min_kiosk_version: str = "0.1.0"
    event_retention_seconds: int = 7 * 24 * 3600
    # PostgreSQL connections per relay process; -1 overflow means twice the pool.
    database_pool_size: int = 10
    database_max_overflow: int = -1
    # Relay processes on one port (PostgreSQL only; see relay_grpc/workers.py).
    workers: int = 1
    # Set in the worker processes of ``--workers``: bind with SO_REUSEPORT.
    reuse_port: bool = False

    @property
    def resolved_data_dir(self) -> Path:
        """The data folder (the default one when none was given)."""
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    @property
    def resolved_database_url(self) -> str:
        """The database URL; the embedded SQLite file in the data folder by default."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_data_dir / 'relay.db'}"

    @property
    def max_receive_message_bytes(self) -> int:
        """gRPC receive limit: one chunk plus framing headroom (~5 MiB)."""
        return max(self.max_chunk_bytes + 1 * MIB, 5 * MIB)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> RelayConfig:
        """Defaults, then ``CLOUDTAB_*`` variables, then non-None ``overrides``.

        Raises:
            ValueError: a variable or override has the wrong type.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, var in ENV_FIELDS.items():
            raw = env.get(ENV_PREFIX + var)
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**_coerce(values))  # type: ignore[arg-type]


def _coerce(values: dict[str, object]) -> dict[str, object]:
    fields = {f.name: f for f in dataclasses.fields(RelayConfig)}
    out: dict[str, object] = {}
    for name, value in values.items():
        if name not in fields:
            raise ValueError(f"unknown setting {name!r}")
        default = fields[name].default
        if isinstance(value, str):
            if name in ("data_dir", "tls_cert", "tls_key"):
                value = Path(value).expanduser()
            elif isinstance(default, bool):
                value = value.lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                value = int(value)
            elif isinstance(default, float):
                value = float(value)
        out[name] = value
    return out


def split_host_port(listen: str) -> tuple[str, int]:
    """``"HOST:PORT"`` -> (host, port); IPv6 hosts in brackets.

    Raises:
        ValueError: no port or a bad port.
    """
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)
