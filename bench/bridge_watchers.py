"""The bridge under many live status watchers and slow clients (issue 13 item 5).

The stack of ``cloudtab up`` (``cloudtab-bridge serve``: gunicorn's asyncio worker,
one worker, default caps) in front of an embedded relay. Load, from this process:

* WATCHERS live status streams (4 per job, each from its own 127.x address, so the
  caps per job and per address hold as shipped), reconnecting when a stream ends;
* SLOW clients: half send their headers one line every 2 s, half a POST body 10
  bytes a second; each reconnects when the bridge cuts it off.

Meanwhile a normal customer (a thread with plain sockets) GETs the upload page and
PUTs a 64 KiB upload chunk, 20 of each per repeat; the same with no load is the
baseline. Figures: p50 and p99 per repeat (the row shows median, min and max of the
repeats), the bridge worker's RSS and thread count under load. Runs in about a minute:
``python -m bench bridge_watchers``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import customer_jobs_pb2, customer_jobs_pb2_grpc

from bench.common import CHANNEL_OPTIONS, ROOT, Relay, child_env, enroll, free_port, percentile, rss_bytes

WATCHERS = 2000
SLOW = 100
REPEATS = 5
PER_REPEAT = 20
CHUNK = 64 * 1024


@dataclass
class Load:
    """Counters of the background load."""

    live: int = 0  # watchers that got their first event and are connected
    events: int = 0
    reconnects: int = 0
    refused: int = 0  # 429 answers
    cut_off: int = 0  # slow clients the bridge closed
    stop: asyncio.Event = field(default_factory=asyncio.Event)


def _source(i: int) -> str:
    return f"127.{10 + i // 60000}.{(i // 250) % 240}.{1 + i % 250}"


async def _watch(port: int, job_id: str, token: str, source: str, load: Load) -> None:
    request = (
        f"GET /api/jobs/{job_id}/events HTTP/1.1\r\nHost: print.test\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    while not load.stop.is_set():
        live = False
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0), limit=1 << 20)
            writer.write(request)
            status = await reader.readline()
            if b" 429 " in status:
                load.refused += 1
            while not load.stop.is_set():
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"event: job"):
                    load.events += 1
                    if not live:
                        live = True
                        load.live += 1
            writer.close()
        except OSError:
            pass
        finally:
            if live:
                load.live -= 1
        if not load.stop.is_set():
            load.reconnects += 1
            await asyncio.sleep(0.5)


async def _slow(port: int, body: bool, load: Load) -> None:
    while not load.stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if body:
                writer.write(b"POST /api/jobs HTTP/1.1\r\nHost: print.test\r\nContent-Length: 100000\r\n\r\n")
            else:
                writer.write(b"GET / HTTP/1.1\r\nHost: print.test\r\n")
            closed = asyncio.ensure_future(reader.read())
            while not load.stop.is_set() and not closed.done():
                writer.write(b"xxxxxxxxxx" if body else b"X-Slow: 1\r\n")
                await asyncio.wait({closed}, timeout=1.0 if body else 2.0)
            if closed.done():
                load.cut_off += 1
            closed.cancel()
            writer.close()
        except OSError:
            await asyncio.sleep(0.5)


def _http(port: int, raw: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return time.perf_counter() - start, int(answer.split(b" ", 2)[1])


def _customer(port: int, slug: str, uploads: Iterator[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """PER_REPEAT page GETs and PER_REPEAT upload PUTs, alternating; seconds each."""
    gets, puts = [], []
    body = os.urandom(CHUNK)
    for _ in range(PER_REPEAT):
        seconds, status = _http(
            port, f"GET /s/{slug} HTTP/1.1\r\nHost: print.test\r\nConnection: close\r\n\r\n".encode()
        )
        if status != 200:
            raise RuntimeError(f"page answered {status}")
        gets.append(seconds)
        job_id, token = next(uploads)
        head = (
            f"PUT /api/jobs/{job_id}/files/0?offset=0 HTTP/1.1\r\nHost: print.test\r\nConnection: close\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {CHUNK}\r\n\r\n"
        )
        seconds, status = _http(port, head.encode() + body)
        if status != 200:
            raise RuntimeError(f"upload answered {status}")
        puts.append(seconds)
        time.sleep(0.05)
    return gets, puts


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


@contextmanager
def bridge_serve(relay_address: str, log: Path) -> Iterator[tuple[int, int]]:
    """``cloudtab-bridge serve`` (as ``cloudtab up`` runs it); yields (port, worker pid)."""
    port = free_port()
    cmd = [sys.executable, "-m", "web_bridge.cli", "serve", "--relay", relay_address, "--listen", f"127.0.0.1:{port}"]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, env=child_env(), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        while True:
            with suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if children.read_text().split():
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bridge did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield port, int(children.read_text().split()[0])
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def measure(watchers: int = WATCHERS, slow: int = SLOW, repeats: int = REPEATS) -> dict[str, Any]:
    """Run the load and the customer; the raw figures (seconds, bytes, counts)."""
    with tempfile.TemporaryDirectory(prefix="bridge-watchers-") as tmp:
        relay = Relay(Path(tmp) / "relay", env={"CLOUDTAB_RELAY_LOG_LEVEL": "WARNING"})
        try:
            slug, code = relay.add_shop("Watch Shop")
            channel = grpc.insecure_channel(relay.address, options=CHANNEL_OPTIONS)
            shop = enroll(channel, slug, code)
            stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
            fingerprint = hashlib.sha256(shop.public_key).digest()

            def create(size: int) -> tuple[str, str]:
                request = customer_jobs_pb2.CreateJobRequest(
                    shop_slug=slug, file_sizes=[size], key_fingerprint=fingerprint
                )
                created = stub.CreateJob(request, timeout=30)
                return created.job.job_id, created.customer_token

            watched = [create(1000) for _ in range(max(1, watchers // 4))]
            uploads = iter([create(CHUNK) for _ in range((2 * repeats + 1) * PER_REPEAT)])
            with bridge_serve(relay.address, Path(tmp) / "bridge.log") as (port, worker):
                _customer(port, slug, uploads)  # warm up
                idle = [_customer(port, slug, uploads) for _ in range(repeats)]
                idle_threads, idle_rss = _threads(worker), rss_bytes(worker)
                result = asyncio.run(_loaded(port, slug, worker, watched, watchers, slow, repeats, uploads))
            channel.close()
        finally:
            relay.stop()
    return {"idle": idle, "idle_threads": idle_threads, "idle_rss": idle_rss, **result}


async def _loaded(
    port: int,
    slug: str,
    worker: int,
    watched: list[tuple[str, str]],
    watchers: int,
    slow: int,
    repeats: int,
    uploads: Iterator[tuple[str, str]],
) -> dict[str, Any]:
    load = Load()
    tasks = [
        asyncio.ensure_future(_watch(port, *watched[i // 4 % len(watched)], _source(i), load)) for i in range(watchers)
    ]
    tasks += [asyncio.ensure_future(_slow(port, i % 2 == 1, load)) for i in range(slow)]
    deadline = time.monotonic() + 60
    while load.live < watchers and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    connected = load.live
    loaded, threads, rss = [], [], []
    for _ in range(repeats):
        loaded.append(await asyncio.to_thread(_customer, port, slug, uploads))
        threads.append(_threads(worker))
        rss.append(rss_bytes(worker))
    live_after = load.live
    load.stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "loaded": loaded,
        "threads": threads,
        "rss": rss,
        "connected": connected,
        "live_after": live_after,
        "refused": load.refused,
        "cut_off": load.cut_off,
    }


def _ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1000


def run() -> list[dict[str, Any]]:
    raw = measure()
    load = f"{WATCHERS} live status watchers + {SLOW} slow clients, cloudtab-bridge serve (1 asyncio worker)"
    rows: list[dict[str, Any]] = []
    for index, what in ((0, "GET upload page"), (1, "PUT 64 KiB upload chunk")):
        for q in (50, 99):
            rows.append(
                {
                    "figure": f"bridge: normal customer {what} p{q} under {load}; baseline: no load "
                    f"({PER_REPEAT} requests per repeat)",
                    "samples": [_ms(repeat[index], q) for repeat in raw["loaded"]],
                    "unit": "ms",
                    "baseline_samples": [_ms(repeat[index], q) for repeat in raw["idle"]],
                    "target": "< 1000",
                }
            )
    rows += [
        {
            "figure": f"bridge: watchers connected and streaming under load (of {WATCHERS}; 4 per job, default caps)",
            "value": raw["connected"],
            "n": 1,
            "unit": "streams",
            "target": f">= {WATCHERS}",
        },
        {
            "figure": f"bridge worker threads under {load}; baseline: idle",
            "samples": raw["threads"],
            "unit": "threads",
            "baseline": raw["idle_threads"],
            "target": "<= 45",
        },
        {
            "figure": f"bridge worker RSS under {load}; baseline: idle",
            "samples": [value / 2**20 for value in raw["rss"]],
            "unit": "MiB",
            "baseline": raw["idle_rss"] / 2**20,
            "target": None,
        },
        {
            "figure": "bridge: slow clients cut off at their deadline (header 10 s, body 20 s) during the run",
            "value": raw["cut_off"],
            "n": 1,
            "unit": "connections",
            "target": "> 0",
        },
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
