"""Real parts for the browser tests: the bridge served on a free port, a kiosk-side
client of the relay (enroll, download, decrypt, report progress), and helpers.

The relay itself comes from the shared ``relay`` fixture (tests/fixtures/relay.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cloudtab.v1 import common_pb2, shop_jobs_pb2, shop_jobs_pb2_grpc
from gunicorn.config import Config
from gunicorn.glogging import Logger

import envelope
from envelope.keys import format_fingerprint
from envelope.keyset import KioskRecord, encode_fingerprint, keyset_fingerprint
from envelope.receipt import Receipt, sign_receipt
from web_bridge import create_app
from web_bridge.asgi import BridgeAsgi
from web_bridge.server import BridgeProtocol

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "bridge"
PHONE = {"width": 360, "height": 740}


class _Worker:
    """What gunicorn's ASGI protocol reads of its worker, for one in-process server."""

    def __init__(self, app: BridgeAsgi, loop: asyncio.AbstractEventLoop) -> None:
        self.cfg = Config()
        self.cfg.set("keepalive", 5)  # as `cloudtab-bridge serve`
        self.log = Logger(self.cfg)
        self.asgi = app
        self.loop = loop
        self.alive = True
        self.nr = 0
        self.max_requests = sys.maxsize
        self.nr_conns = 0
        self.state: dict[str, Any] = {}


class BridgeServer:
    """The bridge as production serves it (``create_asgi_app()`` through the BridgeWorker's
    protocol, live status on the event loop) in a thread of the test process, so tests can
    reach ``app`` (the Flask part); ``stop()``/``start()`` keep the port.
    """

    def __init__(self, relay_address: str, **config: Any) -> None:
        self.app = create_app({"RELAY_ADDRESS": relay_address, "JOB_CREATE_LIMIT": "1000 per minute", **config})
        self.asgi = BridgeAsgi(self.app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bridge-asgi", daemon=True)
        self._thread.start()
        self._worker = _Worker(self.asgi, self._loop)
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[BridgeProtocol] = weakref.WeakSet()
        self.port = 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def _protocol(self) -> BridgeProtocol:
        protocol = BridgeProtocol(self._worker)
        self._connections.add(protocol)
        return protocol

    def start(self) -> None:
        """Serve (again, after :meth:`stop`) on the same port."""
        if self._server is None:
            self._server = self._run(self._loop.create_server(self._protocol, "127.0.0.1", self.port))
            self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Stop serving: new connections are refused, open ones are closed."""
        server, self._server = self._server, None
        if server is not None:

            async def down() -> None:
                server.close()
                for protocol in list(self._connections):
                    if protocol.transport is not None:
                        protocol.transport.abort()
                await server.wait_closed()

            self._run(down())

    def close(self) -> None:
        """Stop, end the live status watches and release the relay channels."""
        self.stop()
        self._run(self.asgi.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self.app.extensions["cloudtab_relay"].close()


@dataclass
class OpenedJob:
    """A job as the shop sees it after decryption."""

    job: common_pb2.Job
    manifest: envelope.Manifest
    files: list[bytes]


class Kiosk:
    """A minimal kiosk: enrolls with a fresh key and signing key, then fetches, opens and
    reports jobs, signing every state it sets as the real kiosk does (docs/envelope.md §2.2)."""

    def __init__(self, address: str, enrollment_code: str) -> None:
        self.private_key = envelope.generate_private_key()
        self.public_key = envelope.public_key_bytes(self.private_key)
        self.signing_key = envelope.generate_private_key()
        self.signing_public_key = envelope.public_key_bytes(self.signing_key)
        self.channel = grpc.insecure_channel(address)
        self.stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(self.channel)
        enrolled = self.stub.Enroll(
            shop_jobs_pb2.EnrollRequest(
                enrollment_code=enrollment_code,
                public_key=self.public_key,
                kiosk_version="0.1.0",
                signing_key=self.signing_public_key,
            ),
            timeout=10,
        )
        self.shop = enrolled.shop
        self._metadata = (("authorization", f"Bearer {enrolled.shop_token}"),)

    @property
    def keyset_fingerprint(self) -> bytes:
        """The shop's key set fingerprint (this kiosk alone): what ``#f=`` pins."""
        return keyset_fingerprint([KioskRecord(self.public_key, self.signing_public_key)])

    @property
    def keyset_display(self) -> str:
        """``XXXX-XXXX-XXXX-XXXX`` of the key set, as the page and the kiosk show it."""
        return format_fingerprint(self.keyset_fingerprint)

    @property
    def set_param(self) -> str:
        """The ``#f=`` value of the shop's QR code."""
        return encode_fingerprint(self.keyset_fingerprint)

    def statement(
        self, job_id: str, state: str, reason: str = "", sealed_detail: bytes = b""
    ) -> common_pb2.KioskStatement:
        """A KioskStatement signed by this kiosk over the state change (and its sealed detail)."""
        manifest = self.get_job(job_id).sealed_manifest
        out = common_pb2.KioskStatement(sealed_detail=sealed_detail)
        out.sign_time.FromMilliseconds(int(time.time() * 1000))
        receipt = Receipt(
            job_id,
            state,
            out.sign_time.ToMilliseconds(),
            hashlib.sha256(manifest).digest(),
            reason,
            detail_sha256=hashlib.sha256(sealed_detail).digest() if sealed_detail else b"",
        )
        out.signature = sign_receipt(self.signing_key, receipt)
        return out

    @property
    def key_param(self) -> str:
        """The public key as it travels in the QR code's ``#k=`` fragment."""
        return base64.urlsafe_b64encode(self.public_key).rstrip(b"=").decode()

    def get_job(self, job_id: str) -> common_pb2.Job:
        request = shop_jobs_pb2.ShopJobsServiceGetJobRequest(job_id=job_id)
        return self.stub.GetJob(request, metadata=self._metadata, timeout=10).job

    def download(self, job_id: str, index: int) -> bytes:
        request = shop_jobs_pb2.DownloadFileRequest(job_id=job_id, file_index=index, offset=0)
        out = bytearray()
        for message in self.stub.DownloadFile(request, metadata=self._metadata, timeout=60):
            if message.offset != len(out):
                raise AssertionError("download out of order")
            out += message.data
        return bytes(out)

    def open_job(self, job_id: str) -> OpenedJob:
        """Fetch, open the manifest, download and decrypt every file (checks size and SHA-256)."""
        job = self.get_job(job_id)
        manifest = envelope.open_manifest(job.sealed_manifest, self.private_key, job_id)
        files = []
        for index, entry in enumerate(manifest.files):
            key = envelope.file_key(manifest.content_key, index)
            files.append(
                envelope.open_bytes(
                    key, self.download(job_id, index), expected_size=entry.size, expected_sha256=entry.sha256
                )
            )
        return OpenedJob(job=job, manifest=manifest, files=files)

    def update(self, job_id: str, state: common_pb2.JobState.ValueType, sealed_detail: bytes = b"") -> None:
        name = common_pb2.JobState.Name(state).removeprefix("JOB_STATE_").lower()
        statement = self.statement(job_id, name, sealed_detail=sealed_detail)
        request = shop_jobs_pb2.UpdateJobRequest(job_id=job_id, state=state, kiosk_statement=statement)
        self.stub.UpdateJob(request, metadata=self._metadata, timeout=10)

    def complete(self, job_id: str) -> None:
        request = shop_jobs_pb2.CompleteJobRequest(job_id=job_id, kiosk_statement=self.statement(job_id, "completed"))
        self.stub.CompleteJob(request, metadata=self._metadata, timeout=10)

    def reject(self, job_id: str, reason: str, sealed_detail: bytes = b"") -> None:
        """Decline with a reason code and, optionally, a detail sealed to the page's reply key."""
        statement = self.statement(job_id, "rejected", reason.strip(), sealed_detail)
        request = shop_jobs_pb2.RejectJobRequest(job_id=job_id, reason=reason, kiosk_statement=statement)
        self.stub.RejectJob(request, metadata=self._metadata, timeout=10)

    def publish(self, capabilities: common_pb2.ShopCapabilities) -> None:
        """Publish the shop's capabilities and price list (what the page may offer)."""
        self.stub.PublishCapabilities(
            shop_jobs_pb2.PublishCapabilitiesRequest(capabilities=capabilities),
            metadata=self._metadata,
            timeout=10,
        )

    def close(self) -> None:
        self.channel.close()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll ``condition`` until true or ``timeout``; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def files_containing(root: Path, marker: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``marker``."""
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and marker in path.read_bytes():
            hits.append(path)
    return hits


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot of the phone viewport under artifacts/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
