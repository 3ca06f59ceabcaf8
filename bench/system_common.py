"""Shared parts of the system benches: relay processes, shops, kiosks and customers.

No ``run()`` here, so ``python -m bench`` skips this module. Everything runs on
127.0.0.1 with free ports; relays are real ``cloudtab-relay serve`` processes
whose memory is read from /proc.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cloudtab.v1 import customer_jobs_pb2, shop_jobs_pb2

import envelope
from bench.relay_common import CHANNEL_OPTIONS, child_env, free_port, rss_bytes  # noqa: F401 - re-exported

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("CLOUDTAB_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
UPLOAD_CHUNK = 4 << 20


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards.

    Raises:
        psycopg.OperationalError: no PostgreSQL server.
    """
    import psycopg

    name = "cloudtab_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(PG_SERVER + "/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Relay:
    """A `cloudtab-relay serve` process on a free port."""

    def __init__(self, data_dir: Path, database_url: str | None = None, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._env = child_env(env)
        data_dir.mkdir(parents=True, exist_ok=True)
        ready = data_dir / "ready.json"
        ready.unlink(missing_ok=True)
        self.log_path = data_dir / "relay.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "relay_grpc.cli", "serve", "--listen", self.address, *self._db_args(),
                 "--ready-file", str(ready), *args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env)
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"relay did not start:\n{self.log_path.read_text()[-2000:]}")
            time.sleep(0.02)

    def _db_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)] + (["--database-url", self.database_url] if self.database_url else [])

    def rss(self) -> int:
        return rss_bytes(self.process.pid)

    def add_shop(self, name: str) -> tuple[str, str]:
        """(slug, enrollment code) from `shop add --json`."""
        out = subprocess.run([sys.executable, "-m", "relay_grpc.cli", "shop", "add", name, "--json", *self._db_args()],
                             capture_output=True, text=True, env=self._env, timeout=60, check=True).stdout
        data = json.loads(out.strip().splitlines()[-1])
        return data["slug"], data["enrollment_code"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Shop:
    """An enrolled shop as its kiosk knows it."""

    slug: str
    token: str
    public_key: bytes
    private_key: object

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)


def enroll(channel: object, slug: str, code: str) -> Shop:
    """Enroll a fresh kiosk key with `code` over a sync channel."""
    from cloudtab.v1 import shop_jobs_pb2_grpc

    private = envelope.generate_private_key()
    public = envelope.public_key_bytes(private)
    stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    reply = stub.Enroll(shop_jobs_pb2.EnrollRequest(enrollment_code=code, public_key=public, kiosk_version="0.1.0"),
                        timeout=30)
    return Shop(slug=slug, token=reply.shop_token, public_key=public, private_key=private)


@dataclass(frozen=True)
class SealedFile:
    """One file sealed the way the browser does, ready to upload (content key kept for the manifest)."""

    content_key: bytes
    ciphertext: bytes
    entry: envelope.FileEntry


def seal_file(data: bytes, name: str = "doc.pdf", media_type: str = "application/pdf") -> SealedFile:
    key = envelope.new_content_key()
    return SealedFile(key, envelope.seal_bytes(envelope.file_key(key, 0), data),
                      envelope.FileEntry(name=name, type=media_type, size=len(data),
                                         sha256=hashlib.sha256(data).hexdigest()))


def upload_requests(job_id: str, ciphertext: bytes, chunk: int = UPLOAD_CHUNK) -> Iterator[customer_jobs_pb2.UploadFileRequest]:
    yield customer_jobs_pb2.UploadFileRequest(header=customer_jobs_pb2.UploadFileHeader(job_id=job_id, file_index=0))
    view = memoryview(ciphertext)
    for start in range(0, len(ciphertext), chunk):
        yield customer_jobs_pb2.UploadFileRequest(data=bytes(view[start:start + chunk]))


def sealed_manifest(sealed: SealedFile, shop: Shop, job_id: str) -> bytes:
    manifest = envelope.Manifest(content_key=sealed.content_key, files=(sealed.entry,))
    return envelope.seal_manifest(manifest, envelope.public_key_from_bytes(shop.public_key), job_id)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def save_plot(fig: object, name: str) -> str:
    """Save a matplotlib figure as docs/<name>.png; returns the path relative to docs/."""
    out = ROOT / "docs" / f"{name}.png"
    fig.savefig(out, dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(fig)  # type: ignore[arg-type]
    return out.name
