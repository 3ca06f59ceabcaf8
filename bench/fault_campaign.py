"""Randomised fault campaign: many short journeys, each with one random fault at a
random point, and a checker that no job ends corrupted, duplicated or orphaned.

Setup (all on 127.0.0.1, stopped at the end): a throwaway PostgreSQL cluster,
fake-gcs-server, two relays on them, one enrolled shop, one kiosk-side
subscriber that reconnects to either relay with its last sequence.

Faults: kill -9 of a relay (restarted 1 s later), PostgreSQL restart, GCS outage
(2 s; run 0 is the full 30 s outage), the kiosk's stream cut, or none (control).
Points: create, mid-upload, submit, notify, mid-download, complete.

Usage: python -m bench.fault_campaign [RUNS]   (default 100; CLOUDTAB_CAMPAIGN_RUNS)
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

import envelope

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "generated"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from cloudtab.v1 import shop_jobs_pb2

from tests.faults.procs import PgCluster, RelayProcess
from tests.fixtures.faults import (
    FAST_RELAY_ENV,
    Customer,
    Kiosk,
    PlainFile,
    gcs_objects,
)
from tests.fixtures.gcs import GcsEmulator, fake_gcs_binary

FAULTS = ("kill_relay", "pg_restart", "gcs_outage", "kiosk_cut", "none")
POINTS = ("create", "upload", "submit", "notify", "download", "complete")
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
}


class Subscriber:
    """The kiosk's stream: reconnects (alternating relays) with its last sequence."""

    def __init__(self, kiosks: list[Kiosk]) -> None:
        self.kiosks = kiosks
        self.events: list[tuple[int, str, int]] = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.call: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        n = 0
        while not self.stop_flag.is_set():
            kiosk = self.kiosks[n % len(self.kiosks)]
            n += 1
            with self.lock:
                after = self.events[-1][0] if self.events else 0
            try:
                self.call = kiosk.subscribe(after, timeout=600)
                for message in self.call:
                    if message.WhichOneof("item") == "event":
                        e = message.event
                        with self.lock:
                            self.events.append((e.sequence, e.job.job_id, e.job.state))
            except grpc.RpcError:
                self.stop_flag.wait(0.3)

    def cut(self) -> None:
        if self.call is not None:
            self.call.cancel()

    def queued(self, job_id: str) -> int:
        with self.lock:
            return sum(1 for _, j, s in self.events if j == job_id and s == 2)

    def close(self) -> None:
        self.stop_flag.set()
        self.cut()
        self.thread.join(5)


def _retry(fn: Any, deadline: float, on_error: Any = None) -> Any:
    while True:
        try:
            return fn()
        except grpc.RpcError as exc:
            if exc.code() not in RETRYABLE or time.monotonic() > deadline:
                raise
            if on_error:
                on_error(exc)
            time.sleep(0.3)


class Campaign:
    """The services, the shop and the per-run journey with one injected fault."""

    def __init__(self, workdir: Path, rng: random.Random) -> None:
        self.rng = rng
        self.workdir = workdir
        self.pg = PgCluster()  # its own temp dir: PostgreSQL must be able to reach it
        binary = fake_gcs_binary()
        if binary is None:
            raise RuntimeError("fake-gcs-server binary not installed")
        self.gcs = GcsEmulator(binary, workdir / "gcs" / "storage")
        self.relays: list[RelayProcess] = []
        self.subscriber: Subscriber | None = None
        self.background: list[threading.Thread] = []

    def start(self) -> None:
        self.pg.init()
        self.pg.start()
        self.db_url = self.pg.create_database("campaign")
        (self.workdir / "gcs").mkdir(parents=True, exist_ok=True)
        self.gcs.start()
        os.environ["STORAGE_EMULATOR_HOST"] = self.gcs.url
        self.bucket = "campaign"
        self.gcs.create_bucket(self.bucket)
        env = {**FAST_RELAY_ENV, "CLOUDTAB_RELAY_LOG_LEVEL": "WARNING"}
        for name in ("relay-a", "relay-b"):
            relay = RelayProcess(self.workdir, name=name, database_url=self.db_url, gcs_bucket=self.bucket, env=env)
            relay.start()
            self.relays.append(relay)
        self.slug, code = self.relays[0].add_shop("Campaign Shop")
        self.kiosk = Kiosk.enroll(self.relays[0].channel(), code, self.slug)
        self.kiosks = [self.kiosk.on(r.channel()) for r in self.relays]
        self.customers = [Customer(r.channel(), timeout=20) for r in self.relays]
        self.subscriber = Subscriber(self.kiosks)

    def close(self) -> None:
        if self.subscriber:
            self.subscriber.close()
        for thread in self.background:
            thread.join(40)
        for relay in self.relays:
            relay.stop(5)
        self.gcs.stop()
        self.pg.destroy()

    # -- faults ---------------------------------------------------------------------
    def _later(self, delay: float, fn: Any) -> None:
        def run() -> None:
            time.sleep(delay)
            fn()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.background.append(thread)

    def inject(self, fault: str, outage: float) -> None:
        if fault == "kill_relay":
            relay = self.rng.choice(self.relays)
            relay.kill()
            self._later(1.0, relay.start)
        elif fault == "pg_restart":
            self.pg.stop()
            self._later(1.0, self.pg.start)
        elif fault == "gcs_outage":
            self.gcs.stop()
            self._later(outage, self.gcs.start)
        elif fault == "kiosk_cut":
            assert self.subscriber is not None
            self.subscriber.cut()

    def settle(self) -> None:
        """Wait for every background restart, then for both relays to be healthy."""
        for thread in self.background:
            thread.join(60)
        self.background.clear()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(r.healthy() for r in self.relays):
            time.sleep(0.2)

    # -- one journey ---------------------------------------------------------------------
    def journey(self, fault: str, point: str, outage: float) -> dict[str, Any]:
        rng, deadline = self.rng, time.monotonic() + 90 + outage
        side = [rng.randrange(2)]

        def switch(_: Any = None) -> None:
            side[0] ^= 1

        def at(here: str) -> None:
            if here == point:
                self.inject(fault, outage)

        files = [
            PlainFile(f"f{i}.pdf", "application/pdf", os.urandom(rng.randint(1, 1_500_000)))
            for i in range(rng.randint(1, 2))
        ]
        at("create")
        job = _retry(
            lambda: self.customers[side[0]].create(self.slug, files, public_key=self.kiosk.public_key), deadline, switch
        )
        for index, data in enumerate(job.ciphertexts):
            cut = rng.randrange(len(data))

            def first_part(i: int = index, c: int = cut) -> None:
                customer = self.customers[side[0]]
                offset = customer.offset(job, i)
                if c > offset:
                    customer.upload(job, i, offset, c)

            _retry(first_part, deadline, switch)
            if index == 0:
                at("upload")
            _retry(lambda i=index: self.customers[side[0]].upload(job, i), deadline, switch)
        at("submit")

        def submit() -> None:
            try:
                self.customers[side[0]].submit(job)
            except grpc.RpcError as exc:  # a lost reply to a submit that happened
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION and self.customers[side[0]].get(job).state == 2:
                    return
                raise

        _retry(submit, deadline, switch)
        at("notify")
        assert self.subscriber is not None
        while self.subscriber.queued(job.job_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        notified = self.subscriber.queued(job.job_id)
        got: list[bytes] = []
        manifest = None
        try:
            manifest = envelope.open_manifest(
                _retry(lambda: self.kiosks[side[0]].get_job(job.job_id), deadline, switch).sealed_manifest,
                self.kiosk.private_key,
                job.job_id,
            )
            for index, entry in enumerate(manifest.files):
                buffer = bytearray()
                first = True
                while True:
                    try:
                        for message in self.kiosks[side[0]].stub.DownloadFile(
                            shop_jobs_pb2.DownloadFileRequest(job_id=job.job_id, file_index=index, offset=len(buffer)),
                            metadata=(("authorization", f"Bearer {self.kiosk.token}"),),
                            timeout=30,
                        ):
                            buffer += message.data
                            if first and index == 0:
                                first = False
                                at("download")
                        if len(buffer) >= len(job.ciphertexts[index]):
                            break
                    except grpc.RpcError as exc:
                        if exc.code() not in RETRYABLE or time.monotonic() > deadline:
                            raise
                        switch()
                        time.sleep(0.3)
                got.append(
                    envelope.open_bytes(
                        envelope.file_key(manifest.content_key, index),
                        bytes(buffer),
                        expected_size=entry.size,
                        expected_sha256=entry.sha256,
                    )
                )
        except Exception as exc:  # noqa: BLE001 - a corrupted job is a finding, not a crash
            return {
                "job_id": job.job_id,
                "fault": fault,
                "point": point,
                "outcome": "corrupted",
                "detail": f"{type(exc).__name__}: {exc}"[:200],
                "notified": notified,
            }
        at("complete")

        def complete() -> None:
            try:
                self.kiosks[side[0]].complete(job.job_id)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    return  # completed by the try whose reply was lost
                raise

        _retry(complete, deadline, switch)
        intact = got == [f.data for f in files]
        return {
            "job_id": job.job_id,
            "fault": fault,
            "point": point,
            "notified": notified,
            "outcome": "ok" if intact else "corrupted",
            "detail": "",
        }

    def check_leftovers(self, job_ids: list[str]) -> set[str]:
        """Job ids with anything left: a blob object, a manifest, a non-terminal state."""
        orphans = set()
        for name in gcs_objects(self.gcs.url, self.bucket):
            orphans |= {j for j in job_ids if j in name}
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            rows = conn.execute("SELECT id, state, sealed_manifest IS NOT NULL FROM jobs").fetchall()
            files = conn.execute(
                "SELECT job_id, count(*) FROM job_files WHERE committed_size > 0 GROUP BY job_id"
            ).fetchall()
        wanted = set(job_ids)
        for job_id, state, has_manifest in rows:
            if job_id in wanted and (state != "completed" or has_manifest):
                orphans.add(job_id)
        del files  # committed sizes stay as history; the blob objects are what must be gone
        return orphans


def run(runs: int | None = None, seed: int | None = None) -> list[dict[str, Any]]:
    """Run the campaign; rows for ``python -m bench``."""
    runs = runs or int(os.environ.get("CLOUDTAB_CAMPAIGN_RUNS", "100"))
    seed = seed if seed is not None else int(time.time())
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="cloudtab-campaign-"))
    campaign = Campaign(workdir, rng)
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        campaign.start()
        for n in range(runs):
            fault = "gcs_outage" if n == 0 else rng.choice(FAULTS)
            point = "upload" if n == 0 else rng.choice(POINTS)
            outage = 30.0 if n == 0 else 2.0
            t0 = time.monotonic()
            try:
                result = campaign.journey(fault, point, outage)
            except Exception as exc:  # noqa: BLE001 - the journey gave up: count it
                result = {
                    "job_id": "",
                    "fault": fault,
                    "point": point,
                    "outcome": "failed",
                    "detail": f"{type(exc).__name__}: {exc}"[:200],
                    "notified": 0,
                }
            campaign.settle()
            result["seconds"] = time.monotonic() - t0
            results.append(result)
            print(
                f"run {n:3d} {fault:10s} at {point:8s} -> {result['outcome']:9s} "
                f"({result['seconds']:.1f} s) {result['detail']}",
                flush=True,
            )
        time.sleep(2)
        ids = [r["job_id"] for r in results if r["job_id"]]
        orphans = campaign.check_leftovers(ids)
        events = campaign.subscriber.events if campaign.subscriber else []
    finally:
        campaign.close()
        shutil.rmtree(workdir, ignore_errors=True)
    sequences = [s for s, _, _ in events]
    duplicated = len(sequences) - len(set(sequences)) + sum(1 for r in results if r["notified"] > 1)
    counts = Counter(r["outcome"] for r in results)
    lost = sum(1 for r in results if r["outcome"] == "ok" and r["notified"] == 0)
    print(
        f"seed {seed}: {runs} runs in {time.monotonic() - started:.0f} s; outcomes {dict(counts)}; "
        f"orphaned {len(orphans)}; duplicated events {duplicated}; lost notifications {lost}; "
        f"faults {dict(Counter(r['fault'] for r in results))}"
    )
    bad = counts.get("corrupted", 0) + counts.get("failed", 0)
    return [
        {
            "figure": "fault campaign runs",
            "value": runs,
            "unit": "runs",
            "baseline": None,
            "ratio": None,
            "target": ">= 100",
        },
        {
            "figure": "fault campaign jobs completed intact",
            "value": counts.get("ok", 0),
            "unit": "jobs",
            "baseline": runs,
            "ratio": counts.get("ok", 0) / runs,
            "target": ">= 1x",
        },
        {
            "figure": "fault campaign jobs corrupted or failed",
            "value": bad,
            "unit": "jobs",
            "baseline": None,
            "ratio": None,
            "target": "<= 0",
        },
        {
            "figure": "fault campaign jobs orphaned",
            "value": len(orphans),
            "unit": "jobs",
            "baseline": None,
            "ratio": None,
            "target": "<= 0",
        },
        {
            "figure": "fault campaign events duplicated",
            "value": duplicated,
            "unit": "events",
            "baseline": None,
            "ratio": None,
            "target": "<= 0",
        },
        {
            "figure": "fault campaign notifications lost",
            "value": lost,
            "unit": "jobs",
            "baseline": None,
            "ratio": None,
            "target": "<= 0",
        },
    ]


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else None
    for row in run(count):
        print(f"{row['figure']}: {row['value']} {row['unit']}")
