"""Kiosk under the worst files of issue 13: peak memory and a normal job's queue delay.

Hostile jobs open in the kiosk's document workers (default limits: 3
workers, 1.5 GiB address space, 60 s per document): two progressive JPEGs
whose 20,000 empty scans take minutes to decode (each ends at the time
limit), then the same plus a PNG that decodes to ~150 MB. A normal
customer's one-page PDF is opened while they run.

Figures:

* peak resident memory of the kiosk process and its document workers
  together (sampled every 20 ms), against the same process tree opening the
  normal job alone;
* the normal job's time from decrypted bytes to its first page on screen
  while the hostile jobs hold workers (two of three; then all three), against
  the same with no hostile job.

Run: ``python -m bench kiosk_hostile`` (about 70 s: the slow JPEGs run into
the 60 s limit).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Self

import envelope
from kiosk.core.decrypt import open_job_manifest
from kiosk.core.demo import sample_pdf, seal_job
from kiosk.core.errors import KioskError
from kiosk.core.opened import open_ciphertexts
from kiosk.core.workers import WorkerPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.security import hostile  # the hostile builders live with the tests

SCREEN = (1080, 1440)


def _tree_rss(pid: int) -> int:
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").glob("*/children"):
                pids += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return total


class TreeSampler:
    """Peak RSS of this process and its children, sampled in a thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            time.sleep(self.interval)


def _opener(key: envelope.keys.PrivateKey, pool: WorkerPool, job_id: str, name: str, media_type: str, data: bytes):  # type: ignore[no-untyped-def]
    sealed = seal_job(envelope.public_key_bytes(key), job_id, [(name, media_type, data)])
    manifest = open_job_manifest(sealed.sealed_manifest, key, job_id)

    def open_and_show() -> float:
        start = time.perf_counter()
        opened = open_ciphertexts(job_id, manifest, [bytearray(c) for c in sealed.ciphertexts], "A4", pool)
        try:
            opened.render_fit(0, *SCREEN)
        finally:
            opened.wipe()
        return time.perf_counter() - start

    return open_and_show


def _normal_alone(key: envelope.keys.PrivateKey) -> tuple[float, int]:
    pool = WorkerPool()
    try:
        normal = _opener(key, pool, "normal-alone", "ok.pdf", "application/pdf", sample_pdf(1))
        normal()  # workers started
        with TreeSampler() as sampler:
            seconds = normal()
        return seconds, sampler.peak
    finally:
        pool.close()


def _under_attack(
    key: envelope.keys.PrivateKey, attack: list[tuple[str, str, str, bytes]], wait: bool
) -> tuple[float, int, list[str]]:
    """(normal job's seconds, peak tree RSS, hostile outcomes) with ``attack`` holding workers."""
    pool = WorkerPool()
    outcomes: list[str] = []
    try:
        pool.run("kiosk.core.worker_tasks:merge", [sample_pdf(1)], timeout=60)  # one worker up
        jobs = [_opener(key, pool, *spec) for spec in attack]
        normal = _opener(key, pool, "normal", "ok.pdf", "application/pdf", sample_pdf(1))

        def hostile_job(fn) -> None:  # type: ignore[no-untyped-def]
            try:
                fn()
                outcomes.append("opened")
            except KioskError as exc:
                outcomes.append(str(exc))

        with TreeSampler() as sampler:
            threads = [threading.Thread(target=hostile_job, args=(fn,), daemon=True) for fn in jobs]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # the hostile jobs hold their workers first
            queued_s = normal()
            if wait:
                for thread in threads:
                    thread.join()
        return queued_s, sampler.peak, outcomes
    finally:
        pool.close()  # kills what still runs


def run() -> list[dict[str, object]]:
    key = envelope.generate_private_key()
    alone_s, alone_peak = _normal_alone(key)
    slow = [
        ("slow-1", "a.jpg", "image/jpeg", hostile.progressive_jpeg_scans()),
        ("slow-2", "b.jpg", "image/jpeg", hostile.progressive_jpeg_scans()),
    ]
    two_s, _, _ = _under_attack(key, slow, wait=False)
    three_s, peak, outcomes = _under_attack(
        key, [*slow, ("bomb", "c.png", "image/png", hostile.png_rgb_bomb())], wait=True
    )
    note = "; ".join(sorted(set(outcomes)))
    return [
        {
            "figure": f"kiosk: peak memory, kiosk + document workers, 2 endless JPEGs + a 150 MB PNG at once ({note})",
            "value": round(peak / 2**20),
            "unit": "MiB",
            "baseline": round(alone_peak / 2**20),
            "ratio": round(peak / alone_peak, 2),
            "target": "< 6656 MiB (2 GiB budget + 3 x 1.5 GiB workers)",
        },
        {
            "figure": "kiosk: normal 1-page PDF, decrypted -> first page, while 2 endless JPEGs decode",
            "value": round(two_s * 1000),
            "unit": "ms",
            "baseline": round(alone_s * 1000),
            "ratio": round(two_s / alone_s, 1),
            "target": "< 2000 ms",
        },
        {
            "figure": "kiosk: the same while 3 hostile jobs hold all 3 workers",
            "value": round(three_s * 1000),
            "unit": "ms",
            "baseline": round(alone_s * 1000),
            "ratio": round(three_s / alone_s, 1),
            "target": "< 60000 ms (one document time limit)",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
