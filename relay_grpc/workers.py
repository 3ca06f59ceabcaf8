"""``cloudtab-relay serve --workers N``: N relay processes on one port (PostgreSQL).

The supervisor (this module, in the ``serve`` process) migrates the schema once,
starts N ``serve`` children with the same arguments that bind the same port with
SO_REUSEPORT (the kernel spreads connections over them), writes the ready file
once all N serve, stops them all on SIGTERM/SIGINT, and restarts a child that
dies (after a second). Children share events through LISTEN/NOTIFY exactly as
separate relays do, so a kiosk and a customer may land on different workers.
With ``--metrics-listen HOST:PORT`` worker i serves metrics on PORT + i.

SQLite (the embedded default) stays one process: its writes go through one
in-process lock and its events through an in-process broker.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from relay_grpc.config import RelayConfig, split_host_port
from relay_grpc.store.db import is_postgres_url

log = logging.getLogger(__name__)

WORKER_INDEX_ENV = "CLOUDTAB_RELAY_WORKER_INDEX"
WORKER_READY_ENV = "CLOUDTAB_RELAY_WORKER_READY"
RESTART_DELAY = 1.0


def check_workers(config: RelayConfig, workers: int) -> None:
    """Refuse what ``--workers`` cannot do.

    Raises:
        ValueError: fewer than 1 worker; several on SQLite; several on port 0.
    """
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if workers == 1:
        return
    if not is_postgres_url(config.resolved_database_url):
        raise ValueError("--workers needs PostgreSQL (--database-url); the embedded SQLite relay runs as one process")
    if split_host_port(config.listen)[1] == 0:
        raise ValueError("--workers needs a fixed port in --listen (all workers share it)")


def worker_index() -> int | None:
    """This process's worker index when the supervisor started it, else None."""
    raw = os.environ.get(WORKER_INDEX_ENV)
    return int(raw) if raw and raw.isdigit() else None


def worker_config(config: RelayConfig, index: int) -> RelayConfig:
    """A worker's settings: SO_REUSEPORT on, its own metrics port."""
    import dataclasses

    metrics = config.metrics_listen
    if metrics:
        host, port = split_host_port(metrics)
        metrics = f"{host}:{port + index}" if port else metrics
    return dataclasses.replace(config, reuse_port=True, metrics_listen=metrics)


def supervise(argv: list[str], workers: int, ready_file: Path | None) -> int:
    """Run ``workers`` children of ``cloudtab-relay <argv>`` until SIGTERM/SIGINT."""
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with tempfile.TemporaryDirectory(prefix="cloudtab-relay-workers-") as tmp:
        readies = [Path(tmp) / f"ready-{i}.json" for i in range(workers)]

        def start(index: int) -> subprocess.Popen[bytes]:
            readies[index].unlink(missing_ok=True)
            env = {**os.environ, WORKER_INDEX_ENV: str(index), WORKER_READY_ENV: str(readies[index])}
            return subprocess.Popen([sys.executable, "-m", "relay_grpc.cli", *argv], env=env)

        children = [start(i) for i in range(workers)]
        announced = False
        try:
            while not stopping:
                if not announced and all(r.exists() for r in readies):
                    announced = True
                    log.info("relay serving with %d worker processes", workers)
                    if ready_file is not None:
                        info = json.loads(readies[0].read_text())
                        info["workers"] = [c.pid for c in children]
                        tmp_file = ready_file.with_suffix(".tmp")
                        tmp_file.write_text(json.dumps(info))
                        tmp_file.replace(ready_file)
                for i, child in enumerate(children):
                    if child.poll() is not None and not stopping:
                        log.warning("relay worker %d exited with %s; restarting", i, child.returncode)
                        time.sleep(RESTART_DELAY)
                        children[i] = start(i)
                time.sleep(0.1)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
    return 0
