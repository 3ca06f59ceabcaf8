"""Shared parts of the benches: relay processes, shops, kiosks, customers, CPU and memory.

No ``run()`` here, so ``python -m bench`` skips this module. Everything runs on
127.0.0.1 with free ports; relays are real ``cloudtab-relay serve`` processes
whose memory and CPU time are read from /proc.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from cloudtab.v1 import customer_jobs_pb2, shop_jobs_pb2

import envelope

ROOT = Path(__file__).resolve().parents[1]
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Benches turn the relay's per-peer CreateJob limit off: every client is 127.0.0.1,
# and a bench creates far more than the default 600 jobs per minute from it.
CREATE_JOB_RATE = 0
CREATE_JOB_RATE_NOTE = "CreateJob rate limit off in benches (--create-job-rate 0; default 600 per peer per minute)"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without CLOUDTAB_* settings, with the repo on PYTHONPATH and
    the CreateJob rate limit at ``CREATE_JOB_RATE``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
    env["CLOUDTAB_RELAY_CREATE_JOB_RATE"] = str(CREATE_JOB_RATE)
    env["CLOUDTAB_RELAY_LOG_LEVEL"] = "WARNING"
    env.update(extra or {})
    return env


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, tree: bool = True) -> float:
    """User + system CPU time of a process (and, with ``tree``, of its live children,
    e.g. the workers of ``serve --workers N``) from /proc."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
        if tree:
            for task in Path(f"/proc/{current}/task").glob("*/children"):
                try:
                    pids += [int(c) for c in task.read_text().split()]
                except OSError:
                    pass
    return total


@dataclass
class RelayChild:
    """A ``cloudtab-relay serve`` child on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    address: str
    data_dir: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def relay_child(extra_args: list[str] | None = None, env: dict[str, str] | None = None) -> Iterator[RelayChild]:
    """Start an embedded relay (SQLite + local folder in a temp dir); stop it afterwards."""
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        ready = Path(tmp) / "ready"
        log_path = Path(tmp) / "relay.log"
        address = f"127.0.0.1:{free_port()}"
        cmd = [sys.executable, "-m", "relay_grpc.cli", "serve", "--listen", address, "--data-dir", str(data_dir),
               "--ready-file", str(ready), *(extra_args or [])]  # fmt: skip
        with open(log_path, "wb") as log:
            process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env(env), cwd=tmp)
        try:
            deadline = time.monotonic() + 30
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"relay did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.02)
            yield RelayChild(process, address, data_dir, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def add_shops(data_dir: Path, count: int) -> list[tuple[str, str]]:
    """Add ``count`` shops straight on the relay's SQLite file; (slug, code) each."""
    import asyncio

    from relay_grpc.config import RelayConfig
    from relay_grpc.shops import ShopService
    from relay_grpc.store.db import Database

    async def go() -> list[tuple[str, str]]:
        config = RelayConfig(data_dir=data_dir)
        db = Database.open(config.resolved_database_url)
        try:
            shops = ShopService(db, config)
            return [await shops.add_shop(f"Bench Shop {i}") for i in range(count)]
        finally:
            await db.dispose()

    return asyncio.run(go())


@dataclass
class RssSampler:
    """Samples a process's VmRSS every ``interval`` s in a thread; ``peak`` is the max."""

    pid: int
    interval: float = 0.01
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except OSError:
                return
            time.sleep(self.interval)


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

    def __init__(
        self,
        data_dir: Path,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.cwd = cwd  # another checkout's relay: run from there (``-m`` puts the cwd first)
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
                [
                    sys.executable,
                    "-m",
                    "relay_grpc.cli",
                    "serve",
                    "--listen",
                    self.address,
                    *self._db_args(),
                    "--ready-file",
                    str(ready),
                    *args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                cwd=self.cwd,
            )
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
        out = subprocess.run(
            [sys.executable, "-m", "relay_grpc.cli", "shop", "add", name, "--json", *self._db_args()],
            capture_output=True,
            text=True,
            env=self._env,
            timeout=60,
            check=True,
            cwd=self.cwd,
        ).stdout
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
    reply = stub.Enroll(
        shop_jobs_pb2.EnrollRequest(enrollment_code=code, public_key=public, kiosk_version="0.1.0"), timeout=30
    )
    return Shop(slug=slug, token=reply.shop_token, public_key=public, private_key=private)


@dataclass(frozen=True)
class SealedFile:
    """One file sealed the way the browser does, ready to upload (content key kept for the manifest)."""

    content_key: bytes
    ciphertext: bytes
    entry: envelope.FileEntry


def seal_file(data: bytes, name: str = "doc.pdf", media_type: str = "application/pdf") -> SealedFile:
    key = envelope.new_content_key()
    return SealedFile(
        key,
        envelope.seal_bytes(envelope.file_key(key, 0), data),
        envelope.FileEntry(name=name, type=media_type, size=len(data), sha256=hashlib.sha256(data).hexdigest()),
    )


def upload_requests(
    job_id: str, ciphertext: bytes, chunk: int = UPLOAD_CHUNK
) -> Iterator[customer_jobs_pb2.UploadFileRequest]:
    yield customer_jobs_pb2.UploadFileRequest(header=customer_jobs_pb2.UploadFileHeader(job_id=job_id, file_index=0))
    view = memoryview(ciphertext)
    for start in range(0, len(ciphertext), chunk):
        yield customer_jobs_pb2.UploadFileRequest(data=bytes(view[start : start + chunk]))


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
