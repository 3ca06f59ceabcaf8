"""Relay CPU milliseconds per job and per RPC kind, against the bare grpc.aio floor.

CPU time (user + system of the server process and its children, from /proc),
not wall time: it is steadier on a shared machine and it is what a relay costs.
The same RPC sequence runs, in the same run, against a relay on PostgreSQL, the
embedded relay on SQLite (blobs in a local folder for both) and the floor: a
bare grpc.aio server with no database, no blob store and no interceptors
(``bench.grpc_floor``). Clients are grpc.aio customers (8 concurrent) and
SubscribeJobs kiosks in this process; only the server's CPU is counted.

Each repeat, on a fresh shop with one kiosk subscribed, measures these phases
(server CPU over the phase / jobs or MiB):

- job: create + upload 100 KB + submit + the kiosk notified, the whole journey;
- CreateJob, UploadFile (100 KB in one message), SubmitJob (+ delivery to 1 kiosk);
- event delivery per extra subscribed kiosk: SubmitJob with 11 kiosks, minus
  SubmitJob with 1, over 10;
- WatchJob open (auth + current state), and the WatchJob event a submit sends to
  a watching customer (SubmitJob with a watcher minus SubmitJob without);
- UploadFile per MiB: 4 MiB files in 1 MiB messages.

Also, on PostgreSQL, jobs/s and relay CPU per job (all processes) of the job phase
with ``serve --workers 1`` and ``--workers 2``, each customer on its own connection.

    python -m bench.relay_cost [--jobs 60] [--repeats 5] [--only postgresql|sqlite|floor|workers]
                               [--before-tree DIR]

``--before-tree DIR`` (or ``CLOUDTAB_BENCH_BEFORE_TREE`` under ``python -m bench``): also
run the PostgreSQL and SQLite phases against the relay of that checkout (e.g.
``git worktree add /tmp/relay-before <commit>``), in the same run, for before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import (
    common_pb2,
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)

import envelope
from bench.common import (
    CHANNEL_OPTIONS,
    CREATE_JOB_RATE_NOTE,
    Relay,
    Shop,
    child_env,
    cpu_seconds,
    enroll,
    free_port,
    pg_database,
    seal_file,
    sealed_manifest,
)

SMALL_BYTES = 100 * 1024
BIG_BYTES = 4 << 20
BIG_CHUNK = 1 << 20
BIG_FILES = 6
CONCURRENCY = 8
EXTRA_KIOSKS = 10
TARGET_PG_MS = 5.0
TARGET_FLOOR_RATIO = 3.0
QUEUED = common_pb2.JOB_STATE_QUEUED


@dataclass
class Server:
    """A relay or the floor: where it listens, its pid, how to add a shop, how to stop."""

    address: str
    pid: int
    add_shop: Callable[[], tuple[str, str]]
    stop: Callable[[], None]


@contextmanager
def floor_server() -> Iterator[Server]:
    """The bare grpc.aio floor in a child process."""
    with tempfile.TemporaryDirectory(prefix="grpc-floor-") as tmp:
        ready = Path(tmp) / "ready"
        address = f"127.0.0.1:{free_port()}"
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.grpc_floor", "--listen", address, "--ready-file", str(ready)],
            env=child_env(),
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the gRPC floor server did not start")
            time.sleep(0.02)

        def stop() -> None:
            process.terminate()
            process.wait(10)

        try:
            yield Server(address, process.pid, lambda: ("floor", "code"), stop)
        finally:
            if process.poll() is None:
                stop()


@contextmanager
def relay_server(database_url: str | None, workers: int = 1, tree: Path | None = None) -> Iterator[Server]:
    """A `cloudtab-relay serve` child (PostgreSQL at ``database_url``, else SQLite); with
    ``tree``, the relay of that checkout (an older commit, for the "before" figures)."""
    with tempfile.TemporaryDirectory(prefix="relay-cost-") as tmp:
        args = ("--workers", str(workers)) if workers > 1 else ()
        env = {"PYTHONPATH": os.pathsep.join([str(tree), str(tree / "generated")])} if tree else None
        relay = Relay(Path(tmp) / "relay", database_url, env=env, args=args, cwd=tree)
        try:
            yield Server(relay.address, relay.process.pid, lambda: relay.add_shop("Cost Shop"), relay.stop)
        finally:
            relay.stop()


@dataclass
class Kiosk:
    """One SubscribeJobs stream that records the QUEUED jobs it was told about."""

    seen: set[str] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def wait_for(self, job_ids: set[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not job_ids <= self.seen:
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"kiosk missed {len(job_ids - self.seen)} notifications")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass


@dataclass
class Job:
    job_id: str
    auth: tuple[tuple[str, str], ...]


class Driver:
    """The customers' and kiosks' side of one repeat (one fresh shop)."""

    def __init__(self, channel: grpc.aio.Channel, shop: Shop, small: Any, big: Any) -> None:
        self.customer = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        self.kiosk_stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
        self.shop = shop
        self.fingerprint = envelope.fingerprint(shop.public_key)
        self.small = small
        self.big = big
        self.kiosks: list[Kiosk] = []

    async def open_kiosk(self) -> Kiosk:
        kiosk = Kiosk()
        call = self.kiosk_stub.SubscribeJobs(
            shop_jobs_pb2.SubscribeJobsRequest(after_sequence=0, kiosk_version="0.1.0"), metadata=self.shop.metadata
        )

        async def listen() -> None:
            try:
                async for item in call:
                    if item.HasField("event") and item.event.job.state == QUEUED:
                        kiosk.seen.add(item.event.job.job_id)
                        kiosk.changed.set()
            except (grpc.aio.AioRpcError, asyncio.CancelledError):
                pass

        kiosk.task = asyncio.create_task(listen())
        self.kiosks.append(kiosk)
        return kiosk

    async def close_kiosk(self, kiosk: Kiosk) -> None:
        assert kiosk.task is not None
        kiosk.task.cancel()
        await asyncio.gather(kiosk.task, return_exceptions=True)
        self.kiosks.remove(kiosk)

    async def create(self, big: bool = False) -> Job:
        sealed = self.big if big else self.small
        reply = await self.customer.CreateJob(
            customer_jobs_pb2.CreateJobRequest(
                shop_slug=self.shop.slug, file_sizes=[len(sealed.ciphertext)], key_fingerprint=self.fingerprint
            ),
            timeout=60,
        )
        return Job(reply.job.job_id, (("authorization", f"Bearer {reply.customer_token}"),))

    async def upload(self, job: Job, big: bool = False) -> None:
        data = (self.big if big else self.small).ciphertext
        chunk = BIG_CHUNK if big else len(data)

        def requests() -> Iterator[customer_jobs_pb2.UploadFileRequest]:
            yield customer_jobs_pb2.UploadFileRequest(
                header=customer_jobs_pb2.UploadFileHeader(job_id=job.job_id, file_index=0)
            )
            for start in range(0, len(data), chunk):
                yield customer_jobs_pb2.UploadFileRequest(data=data[start : start + chunk])

        await self.customer.UploadFile(requests(), metadata=job.auth, timeout=120)

    async def submit(self, job: Job, manifest: bytes) -> None:
        await self.customer.SubmitJob(
            customer_jobs_pb2.SubmitJobRequest(job_id=job.job_id, sealed_manifest=manifest),
            metadata=job.auth,
            timeout=60,
        )

    def manifest(self, job: Job) -> bytes:
        return sealed_manifest(self.small, self.shop, job.job_id)

    async def notified(self, jobs: list[Job]) -> None:
        ids = {j.job_id for j in jobs}
        await asyncio.gather(*(k.wait_for(ids) for k in self.kiosks))


async def in_parallel(items: list[Any], action: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """``action`` on every item, ``CONCURRENCY`` at a time; results in order."""
    results: list[Any] = [None] * len(items)
    queue = list(enumerate(items))

    async def worker() -> None:
        while queue:
            index, item = queue.pop()
            results[index] = await action(item)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return results


class Meter:
    """Server CPU seconds over a block."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    @contextmanager
    def measure(self, out: dict[str, float], name: str) -> Iterator[None]:
        before = cpu_seconds(self.pid)
        started = time.perf_counter()
        yield
        out[name] = cpu_seconds(self.pid) - before
        out[name + "_wall"] = time.perf_counter() - started


async def one_repeat(server: Server, jobs: int, small: Any, big: Any) -> dict[str, float]:
    """Every phase once on a fresh shop; returns server CPU seconds (and wall) per phase."""
    slug, code = server.add_shop()
    with grpc.insecure_channel(server.address) as sync_channel:
        shop = enroll(sync_channel, slug, code)
    meter = Meter(server.pid)
    cpu: dict[str, float] = {}
    async with grpc.aio.insecure_channel(server.address, options=CHANNEL_OPTIONS) as channel:
        d = Driver(channel, shop, small, big)
        await d.open_kiosk()
        await asyncio.sleep(0.3)  # subscribed and replayed

        async def journey(_: int) -> Job:
            job = await d.create()
            await d.upload(job)
            await d.submit(job, d.manifest(job))
            return job

        with meter.measure(cpu, "job"):
            done = await in_parallel(list(range(jobs)), journey)
            await d.notified(done)

        with meter.measure(cpu, "create"):
            batch = await in_parallel(list(range(jobs)), lambda _: d.create())
        with meter.measure(cpu, "upload"):
            await in_parallel(batch, d.upload)
        manifests = {j.job_id: d.manifest(j) for j in batch}
        with meter.measure(cpu, "submit"):
            await in_parallel(batch, lambda j: d.submit(j, manifests[j.job_id]))
            await d.notified(batch)

        # Event delivery per extra subscribed kiosk.
        batch = await in_parallel(list(range(jobs)), lambda _: d.create())
        await in_parallel(batch, d.upload)
        manifests = {j.job_id: d.manifest(j) for j in batch}
        extra = [await d.open_kiosk() for _ in range(EXTRA_KIOSKS)]
        await asyncio.sleep(1.0)  # their replays are sent
        with meter.measure(cpu, "submit_kiosks"):
            await in_parallel(batch, lambda j: d.submit(j, manifests[j.job_id]))
            await d.notified(batch)
        for kiosk in extra:
            await d.close_kiosk(kiosk)

        # WatchJob: open one per job, then the event a submit sends it.
        batch = await in_parallel(list(range(jobs)), lambda _: d.create())
        await in_parallel(batch, d.upload)
        manifests = {j.job_id: d.manifest(j) for j in batch}
        watches: dict[str, Kiosk] = {}
        calls = []
        with meter.measure(cpu, "watch_open"):
            for job in batch:
                watch = watches[job.job_id] = Kiosk()
                call = d.customer.WatchJob(customer_jobs_pb2.WatchJobRequest(job_id=job.job_id), metadata=job.auth)
                calls.append(call)
                watch.task = asyncio.create_task(_watch(call, watch))
            await asyncio.gather(*(w.wait_for({"opened"}) for w in watches.values()))
        with meter.measure(cpu, "submit_watched"):
            await in_parallel(batch, lambda j: d.submit(j, manifests[j.job_id]))
            await d.notified(batch)
            await asyncio.gather(*(w.wait_for({"queued"}) for w in watches.values()))
        for call in calls:
            call.cancel()
        await asyncio.gather(*(w.task for w in watches.values() if w.task), return_exceptions=True)

        # UploadFile per MiB.
        batch = await in_parallel(list(range(BIG_FILES)), lambda _: d.create(big=True))
        with meter.measure(cpu, "upload_big"):
            await in_parallel(batch, lambda j: d.upload(j, big=True))
        for kiosk in list(d.kiosks):
            await d.close_kiosk(kiosk)
    return cpu


async def _watch(call: Any, watch: Kiosk) -> None:
    try:
        async for item in call:
            if item.HasField("event"):
                watch.seen.add("queued" if item.event.job.state == QUEUED else "opened")
                watch.changed.set()
    except (grpc.aio.AioRpcError, asyncio.CancelledError):
        pass


async def throughput(server: Server, jobs: int, small: Any, big: Any) -> dict[str, float]:
    """The job phase alone with each customer on its own connection (so SO_REUSEPORT
    can spread them over workers): server CPU seconds and wall seconds."""
    slug, code = server.add_shop()
    with grpc.insecure_channel(server.address) as sync_channel:
        shop = enroll(sync_channel, slug, code)
    meter = Meter(server.pid)
    out: dict[str, float] = {}
    options = [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(server.address, options=options) for _ in range(CONCURRENCY + 1)]
    try:
        drivers = [Driver(channel, shop, small, big) for channel in channels]
        kiosk_driver, customers = drivers[0], drivers[1:]
        await kiosk_driver.open_kiosk()
        await asyncio.sleep(0.3)

        async def journey(n: int) -> Job:
            d = customers[n % len(customers)]
            job = await d.create()
            await d.upload(job)
            await d.submit(job, d.manifest(job))
            return job

        await in_parallel(list(range(CONCURRENCY * 2)), journey)  # every connection is open
        with meter.measure(out, "job"):
            done = await in_parallel(list(range(jobs)), journey)
            await kiosk_driver.notified(done)
        for kiosk in list(kiosk_driver.kiosks):
            await kiosk_driver.close_kiosk(kiosk)
    finally:
        for channel in channels:
            await channel.close()
    return out


def workers_rates(url: str, jobs: int, repeats: int) -> dict[int, dict[str, list[float]]]:
    """jobs/s and relay CPU per job (all processes) with 1 and 2 workers on PostgreSQL."""
    small = seal_file(os.urandom(SMALL_BYTES))
    out: dict[int, dict[str, list[float]]] = {}
    for workers in (1, 2):
        with relay_server(url, workers=workers) as server:
            asyncio.run(throughput(server, max(8, jobs // 4), small, small))
            runs = [asyncio.run(throughput(server, jobs, small, small)) for _ in range(repeats)]
        out[workers] = {
            "jobs_per_s": [jobs / r["job_wall"] for r in runs],
            "job": [r["job"] / jobs * 1000 for r in runs],
        }
    return out


def per_unit(repeats: list[dict[str, float]], jobs: int, mib: float) -> dict[str, list[float]]:
    """Per-repeat figures: ms per job (or per MiB, per kiosk-event), and jobs/s."""
    out: dict[str, list[float]] = {
        k: []
        for k in (
            "job",
            "jobs_per_s",
            "create",
            "upload",
            "submit",
            "kiosk_event",
            "watch_open",
            "watch_event",
            "upload_mib",
        )
    }
    for r in repeats:
        out["job"].append(r["job"] / jobs * 1000)
        out["jobs_per_s"].append(jobs / r["job_wall"])
        out["create"].append(r["create"] / jobs * 1000)
        out["upload"].append(r["upload"] / jobs * 1000)
        out["submit"].append(r["submit"] / jobs * 1000)
        out["kiosk_event"].append((r["submit_kiosks"] - r["submit"]) / jobs / EXTRA_KIOSKS * 1000)
        out["watch_open"].append(r["watch_open"] / jobs * 1000)
        out["watch_event"].append((r["submit_watched"] - r["submit"]) / jobs * 1000)
        out["upload_mib"].append(r["upload_big"] / mib * 1000)
    return out


def measure(make: Callable[[], Any], jobs: int, repeats: int) -> dict[str, list[float]]:
    """``repeats`` repeats against one server; per-unit figures of each."""
    small = seal_file(os.urandom(SMALL_BYTES))
    big = seal_file(os.urandom(BIG_BYTES))
    with make() as server:
        asyncio.run(one_repeat(server, max(8, jobs // 4), small, big))  # warm-up: imports, pools, caches
        results = [asyncio.run(one_repeat(server, jobs, small, big)) for _ in range(repeats)]
    return per_unit(results, jobs, BIG_FILES * len(big.ciphertext) / (1 << 20))


FIGURES = (
    ("job", "relay CPU per job (create + upload 100 KB + submit + 1 kiosk notified, 8 customers)", "ms/job"),
    ("create", "relay CPU per CreateJob", "ms"),
    ("upload", "relay CPU per UploadFile of 100 KB (one message)", "ms"),
    ("upload_mib", "relay CPU per MiB uploaded (4 MiB files, 1 MiB messages)", "ms/MiB"),
    ("submit", "relay CPU per SubmitJob (incl. event to 1 subscribed kiosk)", "ms"),
    ("kiosk_event", "relay CPU per event delivered to each further subscribed kiosk (10 more)", "ms"),
    ("watch_open", "relay CPU per WatchJob opened (auth + current state)", "ms"),
    ("watch_event", "relay CPU per WatchJob event (the QUEUED event to a watching customer)", "ms"),
)


def rows(backends: dict[str, dict[str, list[float]]], floor: dict[str, list[float]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, figures in backends.items():
        for key, text, unit in FIGURES:
            target = None
            if key == "job":
                target = (
                    f"<= {TARGET_PG_MS:g} and <= {TARGET_FLOOR_RATIO:g}x"
                    if name == "PostgreSQL"
                    else f"<= {TARGET_FLOOR_RATIO:g}x"
                )
            out.append(
                {
                    "figure": f"{text}, {name}; baseline: bare grpc.aio floor, same RPCs",
                    "unit": unit,
                    "samples": figures[key],
                    "baseline_samples": floor[key],
                    "target": target,
                    "lower_is_better": True,
                }
            )
    for name, figures in backends.items():
        out.append(
            {
                "figure": f"jobs/s during the relay CPU per job phase, {name} (8 customers, clients on the same "
                f"cores); baseline: floor",
                "unit": "jobs/s",
                "samples": figures["jobs_per_s"],
                "baseline_samples": floor["jobs_per_s"],
                "target": None,
            }
        )
    return out


def workers_rows(rates: dict[int, dict[str, list[float]]]) -> list[dict[str, Any]]:
    one, two = rates[1], rates[2]
    common = f"PostgreSQL, job phase, {CONCURRENCY} customers on their own connections, clients on the same cores"
    return [
        {
            "figure": f"jobs/s with serve --workers 2 ({common}); baseline: --workers 1",
            "unit": "jobs/s",
            "samples": two["jobs_per_s"],
            "baseline_samples": one["jobs_per_s"],
            "target": None,
        },
        {
            "figure": f"relay CPU per job, all processes, --workers 2 ({common}); baseline: --workers 1",
            "unit": "ms/job",
            "samples": two["job"],
            "baseline_samples": one["job"],
            "target": None,
        },
    ]


BEFORE_TREE = "CLOUDTAB_BENCH_BEFORE_TREE"


def before_note(tree: Path, before: dict[str, dict[str, list[float]]], after: dict[str, dict[str, list[float]]]) -> str:
    """Before/after medians of every figure, the "before" relay run from ``tree`` in this run."""
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    parts = []
    for name in after:
        for key, _text, unit in FIGURES:
            old, new = statistics.median(before[name][key]), statistics.median(after[name][key])
            parts.append(f"{name} {key} {old:.2f} -> {new:.2f} {unit}")
    return f"before (relay of {commit or tree}, same run, medians) -> after: " + "; ".join(parts)


def run(jobs: int = 60, repeats: int = 5) -> list[dict[str, Any]]:
    """All figures; with ``CLOUDTAB_BENCH_BEFORE_TREE`` (a checkout of an older commit) the
    same phases also run against that relay, in this run, for a before/after note."""
    tree = Path(os.environ[BEFORE_TREE]) if os.environ.get(BEFORE_TREE) else None
    backends: dict[str, dict[str, list[float]]] = {}
    before: dict[str, dict[str, list[float]]] = {}
    with pg_database() as url:
        backends["PostgreSQL"] = measure(lambda: relay_server(url), jobs, repeats)
        rates = workers_rates(url, jobs, repeats)
    if tree is not None:
        with pg_database() as url:
            before["PostgreSQL"] = measure(lambda: relay_server(url, tree=tree), jobs, repeats)
    backends["SQLite"] = measure(lambda: relay_server(None), jobs, repeats)
    if tree is not None:
        before["SQLite"] = measure(lambda: relay_server(None, tree=tree), jobs, repeats)
    floor = measure(floor_server, jobs, repeats)
    out = rows(backends, floor) + workers_rows(rates)
    out[0]["note"] = CREATE_JOB_RATE_NOTE
    out[2]["note"] = "where a job's CPU goes and what is left of it: docs/relay.md, Memory and speed"
    if tree is not None:
        out[1]["note"] = before_note(tree, before, backends)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=60, help="jobs per phase per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("postgresql", "sqlite", "floor", "workers"), action="append")
    parser.add_argument("--json", action="store_true", help="print the raw per-repeat figures as JSON")
    parser.add_argument("--before-tree", type=Path, help="also measure the relay of this checkout")
    args = parser.parse_args()
    only = set(args.only or ("postgresql", "sqlite", "floor", "workers"))
    results: dict[str, dict[str, list[float]]] = {}
    if "postgresql" in only:
        with pg_database() as url:
            results["PostgreSQL"] = measure(lambda: relay_server(url), args.jobs, args.repeats)
        if args.before_tree:
            with pg_database() as url:
                results["PG before"] = measure(
                    lambda: relay_server(url, tree=args.before_tree), args.jobs, args.repeats
                )
    if "sqlite" in only:
        results["SQLite"] = measure(lambda: relay_server(None), args.jobs, args.repeats)
        if args.before_tree:
            results["SQLite before"] = measure(
                lambda: relay_server(None, tree=args.before_tree), args.jobs, args.repeats
            )
    if "floor" in only:
        results["floor"] = measure(floor_server, args.jobs, args.repeats)
    if "workers" in only:
        with pg_database() as url:
            for workers, figures in workers_rates(url, args.jobs, args.repeats).items():
                results[f"workers={workers}"] = figures
    if args.json:
        print(json.dumps(results, indent=1))
    for name, figures in results.items():
        for key, values in figures.items():
            print(
                f"{name:14} {key:12} median {statistics.median(values):8.2f}  "
                f"min {min(values):8.2f}  max {max(values):8.2f}"
            )


if __name__ == "__main__":
    main()
