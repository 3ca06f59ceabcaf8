"""Upload throughput browser -> bridge -> relay against a bare gRPC stream, and relay RSS
against file size.

* Chromium (headless, the real upload page) encrypts and sends one file through a
  `cloudtab-bridge serve` process to a `cloudtab-relay serve` process (SQLite +
  blob folder); timed from the page's CreateJob request to its Submit response.
* A Python gRPC client uploads the same number of ciphertext bytes straight to
  the relay (UploadFile, 4 MiB messages).
* Baseline: the same bytes in the same message size over a bare gRPC client
  stream to a server process that only counts them.
* Relay RSS peak (sampled every 10 ms from /proc) while uploading files of
  growing size: it should stay flat, bounded by the chunk size.

    python -m bench.system_upload [--mb 32]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import customer_jobs_pb2, customer_jobs_pb2_grpc

import envelope
from bench.common import (
    CHANNEL_OPTIONS,
    Relay,
    child_env,
    enroll,
    free_port,
    rss_bytes,
    save_plot,
    seal_file,
    sealed_manifest,
    upload_requests,
)

MB = 1 << 20
RSS_SIZES_MB = (4, 16, 64, 128)
BARE_SERVER = r"""
import sys, grpc
from concurrent import futures
def sink(requests, context):
    total = 0
    for chunk in requests:
        total += len(chunk)
    return total.to_bytes(8, "big")
def source(request, context):  # server streaming: `size` bytes in 1 MiB messages, as DownloadFile sends
    size, chunk = int.from_bytes(request[:8], "big"), 1 << 20
    payload = bytes(chunk)
    for start in range(0, size, chunk):
        yield payload[: min(chunk, size - start)]
handler = grpc.method_handlers_generic_handler("bench.Sink", {
    "Put": grpc.stream_unary_rpc_method_handler(sink, request_deserializer=None, response_serializer=None),
    "Get": grpc.unary_stream_rpc_method_handler(source, request_deserializer=None, response_serializer=None)})
opts = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
server = grpc.server(futures.ThreadPoolExecutor(4), options=opts)
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("127.0.0.1:" + sys.argv[1])
server.start()
print("ready", flush=True)
server.wait_for_termination()
"""


def _bare_stream_seconds(size: int, chunk: int = 4 * MB) -> tuple[float, float]:
    """Seconds to stream `size` bytes in `chunk` messages to a do-nothing gRPC server process,
    and to download them from it (server streaming, 1 MiB messages); best of 3 each."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)], stdout=subprocess.PIPE, env=child_env())
    try:
        assert server.stdout is not None
        server.stdout.readline()
        payload = os.urandom(chunk)
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as channel:
            put = channel.stream_unary("/bench.Sink/Put")
            grpc.channel_ready_future(channel).result(timeout=10)

            def messages() -> Any:
                sent = 0
                while sent < size:
                    piece = payload[: min(chunk, size - sent)]
                    sent += len(piece)
                    yield piece

            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                reply = put(messages(), timeout=120)
                best = min(best, time.perf_counter() - start)
                if int.from_bytes(reply, "big") != size:
                    raise RuntimeError("the bare server counted a different size")
            get = channel.unary_stream("/bench.Sink/Get")
            best_get = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                got = sum(len(m) for m in get(size.to_bytes(8, "big"), timeout=120))
                best_get = min(best_get, time.perf_counter() - start)
                if got != size:
                    raise RuntimeError("the bare server sent a different size")
            return best, best_get
    finally:
        server.terminate()
        server.wait(10)


def _download_seconds(relay: Relay, shop: Any, job_id: str, size: int) -> float:
    """Seconds for the kiosk's DownloadFile of a whole file (best of 2)."""
    from cloudtab.v1 import shop_jobs_pb2, shop_jobs_pb2_grpc

    best = float("inf")
    with grpc.insecure_channel(relay.address, options=CHANNEL_OPTIONS) as channel:
        stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
        for _ in range(2):
            start = time.perf_counter()
            got = sum(
                len(m.data)
                for m in stub.DownloadFile(
                    shop_jobs_pb2.DownloadFileRequest(job_id=job_id, file_index=0, offset=0),
                    metadata=shop.metadata,
                    timeout=120,
                )
            )
            best = min(best, time.perf_counter() - start)
            if got != size:
                raise RuntimeError(f"downloaded {got} of {size} bytes")
    return best


def _relay_upload_seconds(relay: Relay, shop: Any, data: bytes, jobs: list[str] | None = None) -> float:
    """Seconds for CreateJob + UploadFile + SubmitJob of `data` (sealed first, not timed)."""
    sealed = seal_file(data)
    with grpc.insecure_channel(relay.address, options=CHANNEL_OPTIONS) as channel:
        customer = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
        start = time.perf_counter()
        created = customer.CreateJob(
            customer_jobs_pb2.CreateJobRequest(
                shop_slug=shop.slug,
                file_sizes=[len(sealed.ciphertext)],
                key_fingerprint=envelope.fingerprint(shop.public_key),
            ),
            timeout=30,
        )
        auth = (("authorization", f"Bearer {created.customer_token}"),)
        customer.UploadFile(upload_requests(created.job.job_id, sealed.ciphertext), metadata=auth, timeout=300)
        customer.SubmitJob(
            customer_jobs_pb2.SubmitJobRequest(
                job_id=created.job.job_id, sealed_manifest=sealed_manifest(sealed, shop, created.job.job_id)
            ),
            metadata=auth,
            timeout=30,
        )
        if jobs is not None:
            jobs.append(created.job.job_id)
        return time.perf_counter() - start


class PeakRss:
    """Samples a process's RSS every 10 ms in a thread; `.peak` after `stop()`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _browser_upload_seconds(bridge_url: str, shop: Any, path: Path) -> float:
    """Seconds from the page's CreateJob request to its Submit response, in headless Chromium."""
    from playwright.sync_api import expect, sync_playwright

    from tests.fixtures.browser import launch_chromium

    times: dict[str, float] = {}

    def on_request(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/api/jobs"):
            times.setdefault("start", time.perf_counter())

    def on_response(response: Any) -> None:
        if response.request.method == "POST" and response.url.endswith("/submit"):
            times["end"] = time.perf_counter()

    key = envelope.encode_public_key(shop.public_key)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 740})
            page.set_default_timeout(180_000)
            page.on("request", on_request)
            page.on("response", on_response)
            page.goto(f"{bridge_url}/s/{shop.slug}#k={key}")
            expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
            page.set_input_files("#file-input", str(path))
            page.click("#send-button")
            expect(page.locator("#status-view")).to_be_visible(timeout=180_000)
            deadline = time.monotonic() + 180
            while "end" not in times and time.monotonic() < deadline:
                page.wait_for_timeout(50)
        finally:
            browser.close()
    if "end" not in times or "start" not in times:
        raise RuntimeError("the page never submitted the job")
    return times["end"] - times["start"]


def _start_bridge(relay_address: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web_bridge.cli",
            "serve",
            "--relay",
            relay_address,
            "--listen",
            f"127.0.0.1:{port}",
            "--job-limit",
            "1000 per minute",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the bridge did not start")


def _plot_rss(points: list[tuple[int, int]], idle: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot([s / MB for s, _ in points], [r / MB for _, r in points], "o-", label="peak during upload")
    ax.axhline(idle / MB, color="grey", linestyle=":", label="relay before (warmed up)")
    ax.plot(
        [s / MB for s, _ in points],
        [s / MB + idle / MB for s, _ in points],
        "--",
        color="tab:red",
        alpha=0.5,
        label="if the relay held the file",
    )
    ax.set_xlabel("file size (MiB)")
    ax.set_ylabel("relay RSS (MiB)")
    ax.set_title("Relay memory against file size (UploadFile)")
    ax.set_ylim(0, max(r for _, r in points) / MB * 1.6)
    ax.legend()
    ax.grid(alpha=0.3)
    return save_plot(fig, "relay_rss_file_size")


def run(mb: int = 32) -> list[dict[str, Any]]:
    size = mb * MB
    with tempfile.TemporaryDirectory(prefix="cloudtab-bench-") as tmp:
        relay = Relay(Path(tmp) / "relay")
        bridge = None
        try:
            with grpc.insecure_channel(relay.address) as channel:
                slug, code = relay.add_shop("Bench Upload")
                shop = enroll(channel, slug, code)
            sealed_size = envelope.ciphertext_size(size)
            bare, bare_download = _bare_stream_seconds(sealed_size)
            uploaded: list[str] = []
            direct = min(_relay_upload_seconds(relay, shop, os.urandom(size), uploaded) for _ in range(2))
            download = _download_seconds(relay, shop, uploaded[-1], sealed_size)
            bridge, bridge_url = _start_bridge(relay.address)
            path = Path(tmp) / "upload.pdf"
            path.write_bytes(b"%PDF-1.4\n" + os.urandom(size - 9))
            browser = _browser_upload_seconds(bridge_url, shop, path)
            _relay_upload_seconds(relay, shop, os.urandom(8 * MB))  # warm the allocator up first
            idle = relay.rss()
            points = []
            for file_mb in RSS_SIZES_MB:
                sampler = PeakRss(relay.process.pid)
                _relay_upload_seconds(relay, shop, os.urandom(file_mb * MB))
                points.append((file_mb * MB, sampler.stop()))
        finally:
            if bridge is not None:
                bridge.terminate()
                bridge.wait(10)
            relay.stop()
    plot = _plot_rss(points, idle)
    bare_mbs, direct_mbs, browser_mbs = size / MB / bare, size / MB / direct, size / MB / browser
    download_mbs, bare_download_mbs = size / MB / download, size / MB / bare_download
    growth = (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])
    return [
        {
            "figure": f"upload browser -> bridge -> relay, {mb} MiB (encrypt in Chromium + HTTP + gRPC + blob write); "
            "baseline: bare gRPC stream of the same bytes",
            "value": browser_mbs,
            "unit": "MiB/s",
            "baseline": bare_mbs,
            "ratio": browser_mbs / bare_mbs,
            "target": ">= 0.1x",
        },
        {
            "figure": f"upload Python gRPC client -> relay, {mb} MiB (CreateJob, UploadFile, SubmitJob); "
            "baseline: bare gRPC stream",
            "value": direct_mbs,
            "unit": "MiB/s",
            "baseline": bare_mbs,
            "ratio": direct_mbs / bare_mbs,
            "target": ">= 0.3x",
        },
        {
            "figure": f"download relay -> kiosk (DownloadFile), {mb} MiB; baseline: bare server-streaming gRPC download "
            "of the same bytes",
            "value": download_mbs,
            "unit": "MiB/s",
            "baseline": bare_download_mbs,
            "ratio": download_mbs / bare_download_mbs,
            "target": ">= 0.3x",
        },
        {
            "figure": f"relay RSS peak uploading {RSS_SIZES_MB[-1]} MiB (baseline: idle relay)",
            "value": points[-1][1] / MB,
            "unit": "MiB",
            "baseline": idle / MB,
            "ratio": points[-1][1] / idle,
            "target": None,
            "plot": plot,
        },
        {
            "figure": f"relay RSS growth per MiB of file ({RSS_SIZES_MB[0]} -> {RSS_SIZES_MB[-1]} MiB)",
            "value": growth,
            "unit": "MiB/MiB",
            "baseline": None,
            "ratio": None,
            "target": "<= 0.05",
            "plot": plot,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=32)
    args = parser.parse_args()
    for row in run(args.mb):
        print(f"{row['figure']}: {row['value']:.2f} {row['unit']} (baseline {row['baseline']})")


if __name__ == "__main__":
    main()
