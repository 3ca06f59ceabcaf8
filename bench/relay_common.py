"""Shared parts of the relay benches: a relay child process and its memory.

No ``run()`` here, so ``python -m bench`` skips this module.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without CLOUDTAB_* settings, with the repo on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
    env["CLOUDTAB_RELAY_CREATE_JOB_RATE"] = "0"
    env["CLOUDTAB_RELAY_LOG_LEVEL"] = "WARNING"
    env.update(extra or {})
    return env


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


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


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def json_line(rows: list[dict]) -> str:
    return json.dumps(rows, indent=1)
