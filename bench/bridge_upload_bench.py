"""Web bridge upload path: HTTP chunks through the bridge against a bare gRPC stream.

Same relay, same ciphertext, same run. Figures:
- throughput of PUT /api/jobs/<id>/files/0 in 1 MiB chunks through the bridge as
  production serves it (``cloudtab-bridge serve``: gunicorn with the bridge's asyncio
  worker, web_bridge.server.BridgeWorker) against one bare UploadFile stream of 1 MiB messages;
- the bridge worker's CPU time (user + system, /proc) per MiB uploaded, against a bare
  ASGI app (bench.bare_asgi) that reads the same PUTs under the same worker, median of 5;
- the bridge worker's peak RSS above idle while 64 MiB pass through it (target: flat,
  under 32 MiB: it never buffers a file);
- the whole page in headless Chromium (encrypt + upload + submit of a 64 MiB file),
  against the Python client through the same bridge.

Usage: python -m bench bridge_upload_bench   (or python bench/bridge_upload_bench.py)
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import customer_jobs_pb2, customer_jobs_pb2_grpc

from bench.bridge_watchers import bridge_serve
from bench.common import (
    CHANNEL_OPTIONS,
    Relay,
    child_env,
    cpu_seconds,
    enroll,
    free_port,
    rss_bytes,
    seal_file,
    upload_requests,
)
from tests.fixtures.services import wait_for_port

MiB = 1 << 20
SIZE = 64 * MiB
CHUNK = 1 * MiB
CPU_REPEATS = 5
SERVED = "cloudtab-bridge serve, 1 asyncio worker"


def _create(stub: Any, slug: str, size: int, fp: bytes) -> tuple[str, str]:
    reply = stub.CreateJob(
        customer_jobs_pb2.CreateJobRequest(shop_slug=slug, file_sizes=[size], key_fingerprint=fp), timeout=30
    )
    return reply.job.job_id, reply.customer_token


def _bare(stub: Any, slug: str, fp: bytes, ciphertext: bytes) -> float:
    job_id, token = _create(stub, slug, len(ciphertext), fp)
    start = time.perf_counter()
    stub.UploadFile(
        upload_requests(job_id, ciphertext, CHUNK), timeout=300, metadata=(("authorization", f"Bearer {token}"),)
    )
    return len(ciphertext) / (time.perf_counter() - start) / 1e6


def _through_bridge(port: int, slug: str, fp: bytes, ciphertext: bytes) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request(
        "POST",
        "/api/jobs",
        json.dumps({"shop": slug, "file_sizes": [len(ciphertext)], "key_fingerprint": fp.hex()}),
        {"Content-Type": "application/json"},
    )
    created = json.loads(conn.getresponse().read())
    job_id, token = created["job"]["job_id"], created["customer_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    view = memoryview(ciphertext)
    start = time.perf_counter()
    for offset in range(0, len(ciphertext), CHUNK):
        conn.request(
            "PUT", f"/api/jobs/{job_id}/files/0?offset={offset}", bytes(view[offset : offset + CHUNK]), headers
        )
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"bridge PUT failed: {answer.status}")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(ciphertext) / elapsed / 1e6


def _bare_put(port: int, data: bytes) -> None:
    """PUT ``data`` in CHUNK requests to the bare ASGI app (bench.bare_asgi)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    view = memoryview(data)
    for offset in range(0, len(data), CHUNK):
        conn.request(
            "PUT",
            f"/put?offset={offset}",
            bytes(view[offset : offset + CHUNK]),
            {"Content-Type": "application/octet-stream"},
        )
        answer = conn.getresponse()
        answer.read()
        if answer.status != 204:
            raise RuntimeError(f"bare PUT failed: {answer.status}")
    conn.close()


def _gunicorn(gunicorn: str, port: int, app: str, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    """gunicorn with the bridge's worker, as ``cloudtab-bridge serve`` runs it (1 worker)."""
    return subprocess.Popen(
        [
            gunicorn,
            "-k",
            "web_bridge.server.BridgeWorker",
            "-w",
            "1",
            "--keep-alive",
            "5",
            "--graceful-timeout",
            "3",
            "--no-control-socket",
            "-b",
            f"127.0.0.1:{port}",
            app,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def _cpu_per_mib(worker: int, upload: Any, size: int, repeats: int = CPU_REPEATS) -> list[float]:
    """CPU ms of the gunicorn worker per MiB over ``repeats`` uploads of ``size`` bytes."""
    out = []
    for _ in range(repeats):
        before = cpu_seconds(worker)
        upload()
        out.append((cpu_seconds(worker) - before) * 1000 / (size / MiB))
    return out


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


def _browser(url: str, slug: str, key_param: str, data_path: Path) -> float | None:
    try:
        from playwright.sync_api import expect, sync_playwright

        from tests.fixtures.browser import chromium_available, launch_chromium
    except ImportError:
        return None
    if not chromium_available():
        return None
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{url}/s/{slug}#k={key_param}")
            expect(page.locator("#app")).to_have_attribute("data-ready", "yes", timeout=30_000)
            page.set_input_files("#file-input", str(data_path))
            start = time.perf_counter()
            page.click("#send-button")
            expect(page.locator("#status-view")).to_be_visible(timeout=300_000)
            return data_path.stat().st_size / (time.perf_counter() - start) / 1e6
        finally:
            browser.close()


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def run() -> list[dict[str, Any]]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise RuntimeError("gunicorn is not installed")
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        relay = Relay(Path(tmp) / "relay", env={"CLOUDTAB_RELAY_CREATE_JOB_RATE": "0"})
        try:
            slug, code = relay.add_shop("Bench Shop")
            channel = grpc.insecure_channel(relay.address, options=CHANNEL_OPTIONS)
            shop = enroll(channel, slug, code)
            fp = hashlib.sha256(shop.public_key).digest()
            stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
            plain = os.urandom(SIZE)
            ciphertext = seal_file(plain).ciphertext
            with bridge_serve(relay.address, Path(tmp) / "bridge.log") as (port, worker):
                _through_bridge(port, slug, fp, ciphertext[: 4 * MiB + 64])  # warm up
                idle = rss_bytes(worker)
                peak = [idle]
                done = threading.Event()

                def sample() -> None:
                    while not done.is_set():
                        peak[0] = max(peak[0], rss_bytes(worker))
                        time.sleep(0.01)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                bare = max(_bare(stub, slug, fp, ciphertext) for _ in range(2))
                bridged = max(_through_bridge(port, slug, fp, ciphertext) for _ in range(2))
                done.set()
                sampler.join()
                bridge_cpu = _cpu_per_mib(worker, lambda: _through_bridge(port, slug, fp, ciphertext), len(ciphertext))
                floor_port = free_port()
                with open(Path(tmp) / "bare.log", "wb") as log:
                    floor = _gunicorn(gunicorn, floor_port, "bench.bare_asgi:app", child_env(), log)
                try:
                    if not wait_for_port(floor_port, 30):
                        raise RuntimeError("bare ASGI app did not start")
                    _bare_put(floor_port, ciphertext[: 4 * MiB])  # warm up
                    bare_cpu = _cpu_per_mib(
                        _worker_pid(floor.pid), lambda: _bare_put(floor_port, ciphertext), len(ciphertext)
                    )
                finally:
                    _stop(floor)
                data_path = Path(tmp) / "big.pdf"
                data_path.write_bytes(plain)
                key_param = base64.urlsafe_b64encode(shop.public_key).rstrip(b"=").decode()
                page = _browser(f"http://127.0.0.1:{port}", slug, key_param, data_path)
            channel.close()
        finally:
            relay.stop()
    note = f"load average {load_before} before, {_load()} after (shared 2-core machine)"
    rows: list[dict[str, Any]] = [
        {
            "figure": f"bridge upload throughput (64 MiB, 1 MiB PUTs, {SERVED})",
            "value": bridged,
            "unit": "MB/s",
            "baseline": bare,
            "ratio": bridged / bare,
            "target": ">= 0.5x",
        },
        {
            "figure": f"bridge worker CPU per MiB uploaded (64 MiB in 1 MiB PUTs, {SERVED}, user + system from "
            "/proc); baseline: a bare ASGI app reading the same PUTs under the same worker",
            "samples": bridge_cpu,
            "unit": "ms/MiB",
            "baseline_samples": bare_cpu,
            "target": "<= 2x",
        },
        {
            "figure": f"bridge worker peak RSS above idle while uploading 64 MiB ({SERVED})",
            "value": (peak[0] - idle) / MiB,
            "unit": "MiB",
            "baseline": None,
            "ratio": None,
            "target": "< 32",
        },
    ]
    if page is not None:
        rows.append(
            {
                "figure": "page in Chromium: encrypt + upload + submit 64 MiB",
                "value": page,
                "unit": "MB/s",
                "baseline": bridged,
                "ratio": page / bridged,
                "target": None,
            }
        )
    for row in rows:
        row["note"] = note
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
