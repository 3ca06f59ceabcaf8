"""``cloudtab-relay serve --workers N``: N processes on one port on PostgreSQL; SQLite says no."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc

from tests.relay.helpers import create_job, enroll


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(c) for c in task.read_text().split()]
    return out


def test_sqlite_relay_refuses_several_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "relay_grpc.cli", "serve", "--data-dir", str(tmp_path), "--workers", "2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--workers needs PostgreSQL" in done.stderr and "one process" in done.stderr


def test_two_workers_share_the_port_and_the_events(relay_factory, make_pg_database) -> None:  # type: ignore[no-untyped-def]
    relay = relay_factory(name="workers", database_url=make_pg_database(), args=("--workers", "2"))
    assert relay.process is not None
    ready = json.loads((relay.workdir / "workers.ready").read_text())
    workers = ready["workers"]
    assert len(workers) == 2 and sorted(workers) == sorted(_children(relay.process.pid))
    slug, code = relay.add_shop("Workers Shop")
    # Many connections: the kernel spreads them over both workers; every submit, on
    # whichever worker, reaches the kiosk's stream on whichever worker, once.
    with relay.channel() as kiosk_channel:
        kiosk = enroll(kiosk_channel, slug, code)
        stream = kiosk.subscribe(timeout=60)
        events: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            try:
                for item in stream:
                    if item.WhichOneof("item") == "event" and item.event.job.state == 2:
                        events.put(item.event.job.job_id)
            except grpc.RpcError:
                pass

        threading.Thread(target=pump, daemon=True).start()
        time.sleep(0.5)
        submitted = []
        for _ in range(8):
            with relay.channel(**{"grpc.use_local_subchannel_pool": 1}) as channel:
                job = create_job(channel, kiosk, [100])
                job.upload(0, os.urandom(100))
                job.submit(b"manifest")
                submitted.append(job.job_id)
        seen = [events.get(timeout=30) for _ in submitted]
        stream.cancel()
    assert sorted(seen) == sorted(submitted)
    assert relay.stop() == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
