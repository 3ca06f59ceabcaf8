"""Secrets and leftovers after a full journey (docs/security.md T25-T26).

A customer goes through the real web bridge (Flask test client) to a real relay
process, a real kiosk core receives, prints and completes/rejects; one job is
cancelled, one expires after submit, one is abandoned mid-upload. A marker
string is planted in the documents, the file names, the customer name and the
note. Afterwards nothing of it — nor a token, nor a content key — may be found
in the relay's blob store (local folder or GCS emulator), any database table,
the relay's log, the bridge's and kiosk's log, or the kiosk's data folder.
Run on both backends: SQLite + local folder, PostgreSQL + GCS emulator.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from typing import Any

import pytest

import envelope
import kiosk.core.jobs as jobs_mod
import kiosk.core.service as core_service
from kiosk.core import printing
from tests.fixtures.faults import (
    PlainFile,
    SealedJob,
    dump_database,
    gcs_objects,
    rows_containing,
    scan_tree,
    seal_files,
)
from tests.security import pdfs

RETENTION = 8
MARKER = "CTMARK" + secrets.token_hex(6).upper()
LS = jobs_mod.LocalState


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class BridgeCustomer:
    """The browser's calls, made through the bridge's HTTP API."""

    def __init__(self, client: Any, slug: str, shop_key: bytes) -> None:
        self.client, self.slug, self.shop_key = client, slug, shop_key

    def create(self, tag: str) -> SealedJob:
        files = [
            PlainFile(
                f"{MARKER}-{tag}-secret-name.pdf",
                "application/pdf",
                pdfs.simple_pdf(f"{MARKER} {tag}".encode(), pad=70_000),
            )
        ]
        key, sealed, entries = seal_files(files)
        response = self.client.post(
            "/api/jobs",
            json={
                "shop": self.slug,
                "file_sizes": [len(c) for c in sealed],
                "key_fingerprint": envelope.fingerprint(self.shop_key).hex(),
            },
        )
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        job_id = body["job"]["job_id"]
        manifest = envelope.Manifest(
            content_key=key,
            files=tuple(entries),
            customer=envelope.Customer(name=f"{MARKER} name", note=f"{MARKER} note"),
        )
        sealed_manifest = envelope.seal_manifest(manifest, envelope.public_key_from_bytes(self.shop_key), job_id)
        return SealedJob(
            job_id, body["job"]["job_code"], body["customer_token"], files, sealed, sealed_manifest, manifest
        )

    def _auth(self, job: SealedJob) -> dict[str, str]:
        return {"Authorization": "Bearer " + job.token}

    def upload(self, job: SealedJob, end: int | None = None) -> None:
        data = job.ciphertexts[0][:end]
        response = self.client.put(
            f"/api/jobs/{job.job_id}/files/0?offset=0",
            data=data,
            headers=self._auth(job),
            content_type="application/octet-stream",
        )
        assert response.status_code == 200, response.get_json()

    def submit(self, job: SealedJob) -> None:
        response = self.client.post(
            f"/api/jobs/{job.job_id}/submit",
            data=job.sealed_manifest,
            headers=self._auth(job),
            content_type="application/octet-stream",
        )
        assert response.status_code == 200, response.get_json()

    def state(self, job: SealedJob) -> str:
        return self.client.get(f"/api/jobs/{job.job_id}", headers=self._auth(job)).get_json()["job"]["state"]

    def cancel(self, job: SealedJob) -> None:
        response = self.client.post(f"/api/jobs/{job.job_id}/cancel", headers=self._auth(job))
        assert response.status_code == 200, response.get_json()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-gcs"])
def journey(
    request: pytest.FixtureRequest, module_relay_procs: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    from web_bridge import create_app

    tmp = tmp_path_factory.mktemp(request.param)
    backend: dict[str, Any] = {}
    if request.param == "postgres-gcs":
        emulator = request.getfixturevalue("gcs_emulator")
        bucket = f"leftovers-{secrets.token_hex(6)}"
        emulator.create_bucket(bucket)
        backend = {"database_url": request.getfixturevalue("make_pg_database")(), "gcs_bucket": bucket}
    relay = module_relay_procs(
        name=f"leftovers-{request.param}",
        env={
            "CLOUDTAB_RELAY_RETENTION_SECONDS": str(RETENTION),
            "CLOUDTAB_RELAY_UPLOAD_RETENTION_SECONDS": str(RETENTION),
        },
        **backend,
    )
    slug, code = relay.add_shop(f"Leftover Shop {request.param}")

    log_path = tmp / "in-process.log"
    handler = logging.FileHandler(log_path)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    core = core_service.KioskCore(tmp / "kiosk", printer=printing.PdfFolderPrinter(tmp / "spool"))
    try:
        profile = core.enroll(relay.address, code)
        app = create_app({"TESTING": True, "RELAY_ADDRESS": relay.address, "JOB_CREATE_LIMIT": "100 per minute"})
        customer = BridgeCustomer(app.test_client(), slug, profile.public_key)
        jobs = {tag: customer.create(tag) for tag in ("complete", "reject", "cancel", "expire", "abandon")}
        for tag in ("complete", "reject", "cancel", "expire"):
            customer.upload(jobs[tag])
            customer.submit(jobs[tag])
        customer.upload(jobs["abandon"], end=1000)
        core.start()
        ids = {tag: job.job_id for tag, job in jobs.items()}
        _wait(
            lambda: (
                all(core.job(ids[t]).state == LS.READY for t in ("complete", "reject", "cancel", "expire"))
                if all(j.job_id in {k.job_id for k in core.jobs()} for t, j in jobs.items() if t != "abandon")
                else False
            ),
            30,
            "kiosk READY on every submitted job",
        )
        status = core.print_job(ids["complete"])
        assert status.state == printing.PrintState.COMPLETED, status
        core.complete(ids["complete"])
        core.reject(ids["reject"], "counter")
        customer.cancel(jobs["cancel"])
        _wait(
            lambda: customer.state(jobs["expire"]) == "expired" and customer.state(jobs["abandon"]) == "expired",
            RETENTION + 20,
            "expiry",
        )
        _wait(
            lambda: core.job(ids["expire"]).state == LS.EXPIRED and core.job(ids["cancel"]).state == LS.CANCELLED,
            15,
            "kiosk shows expired and cancelled",
        )
        final = {tag: customer.state(job) for tag, job in jobs.items()}
        kiosk_token = core.keystore.token
    finally:
        core.stop()
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
    relay.stop()
    return {
        "relay": relay,
        "backend": backend,
        "jobs": jobs,
        "final": final,
        "log": log_path,
        "kiosk_dir": tmp / "kiosk",
        "spool": tmp / "spool",
        "kiosk_token": kiosk_token,
        "code": code,
        "emulator": request.getfixturevalue("gcs_emulator") if backend else None,
    }


def _needles(journey: dict[str, Any]) -> list[bytes]:
    needles = [MARKER.encode()]
    for job in journey["jobs"].values():
        key = job.manifest.content_key
        needles += [
            job.files[0].name.encode(),
            key,
            _b64(key),
            key.hex().encode(),
            job.ciphertexts[0][100:164],
            job.sealed_manifest[70:134],
        ]
    return needles


def test_journey_reached_every_terminal_state(journey: dict[str, Any]) -> None:
    assert journey["final"] == {
        "complete": "completed",
        "reject": "rejected",
        "cancel": "cancelled",
        "expire": "expired",
        "abandon": "expired",
    }


def test_nothing_left_behind(journey: dict[str, Any]) -> None:
    relay, needles = journey["relay"], _needles(journey)
    job_ids = [job.job_id for job in journey["jobs"].values()]
    # Positive control: the printed spool (an honest limit, docs/security.md) does
    # hold the marker, so the scanner and the planted documents really work.
    assert any(MARKER in _text(p.read_bytes()) for p in journey["spool"].rglob("*.pdf")), (
        "marker not found even in the print spool"
    )
    # Local folder (blob store, SQLite file, everything the relay wrote).
    leftover_blobs = [str(p) for p in relay.data_dir.rglob("*") if any(j in str(p) for j in job_ids)]
    assert leftover_blobs == []
    assert scan_tree(relay.data_dir, needles) == []
    # GCS emulator objects.
    if journey["emulator"] is not None:
        objects = gcs_objects(journey["emulator"].url, journey["backend"]["gcs_bucket"])
        assert [n for n in objects if any(j in n for j in job_ids)] == []
        assert [n for n, data in objects.items() if any(x in data for x in needles)] == []
    # Every table of the database.
    url = journey["backend"].get("database_url") or f"sqlite:///{relay.data_dir / 'relay.db'}"
    rows = dump_database(url)
    assert rows, "no tables found"
    assert rows_containing(rows, needles) == []
    assert rows_containing(rows, [job_ids[0].encode()]), "positive control: the job row is there"
    # The kiosk's data folder holds its key and token, never a document, name or content key.
    assert scan_tree(journey["kiosk_dir"], needles) == []


def test_no_secrets_in_logs(journey: dict[str, Any]) -> None:
    secrets_ = [job.token.encode() for job in journey["jobs"].values()]
    secrets_ += [journey["kiosk_token"].encode(), journey["code"].encode(), journey["code"].replace("-", "").encode()]
    needles = _needles(journey) + secrets_
    relay_log = journey["relay"].log_path.read_bytes()
    assert b"rpc method=" in relay_log or len(relay_log) > 200, "the relay log is empty: nothing was checked"
    assert [n for n in needles if n in relay_log] == []
    bridge_log = journey["log"].read_bytes()
    assert bridge_log, "the in-process log is empty: nothing was checked"
    assert [n for n in needles if n in bridge_log] == []


def _text(pdf: bytes) -> str:
    """All text of a PDF (the spool holds the kiosk's rewritten, compressed copy)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
