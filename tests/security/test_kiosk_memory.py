"""The kiosk's memory against lying sizes and many big jobs (docs/security.md T24-T25).

A real relay (SQLite + blob folder) and the real kiosk core. A job whose
stored file is larger than its manifest says is refused before one byte is
downloaded; open jobs share a memory budget, a job that does not fit waits
until another is done, and a job larger than the whole budget is refused.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cloudtab.v1 import customer_jobs_pb2

import envelope
import kiosk.core.service as core_service
from kiosk.core import printing
from kiosk.core.jobs import KioskJob, LocalState
from kiosk.core.relay import RelayClient
from tests.fixtures.faults import Customer, PlainFile, SealedJob, bearer
from tests.security import pdfs


@pytest.fixture
def setup(relay_procs: Any, tmp_path: Path) -> dict[str, Any]:
    relay = relay_procs(name="memory")
    slug, code = relay.add_shop("Memory Shop")
    return {"relay": relay, "channel": relay.channel(), "slug": slug, "code": code, "tmp": tmp_path}


def _wait(core: core_service.KioskCore, job_id: str, ok: Callable[[KioskJob], bool], timeout: float = 60) -> KioskJob:
    deadline = time.monotonic() + timeout
    job = None
    while time.monotonic() < deadline:
        jobs = {j.job_id: j for j in core.jobs()}
        job = jobs.get(job_id)
        if job is not None and ok(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not settle: {job}")


def _lying_job(customer: Customer, slug: str, public_key: bytes, stored: int) -> str:
    """A job whose manifest says 10 bytes while the relay holds ``stored`` bytes of ciphertext."""
    plain = b"%PDF-1.4\n%"
    entry = envelope.FileEntry("small.pdf", "application/pdf", len(plain), hashlib.sha256(plain).hexdigest())
    key = envelope.new_content_key()
    response = customer.jobs.CreateJob(
        customer_jobs_pb2.CreateJobRequest(
            shop_slug=slug, file_sizes=[stored], key_fingerprint=envelope.fingerprint(public_key)
        ),
        timeout=15,
    )
    job_id = response.job.job_id
    manifest = envelope.Manifest(
        content_key=key, files=(entry,), customer=envelope.Customer("Mallory", ""), options=envelope.JobOptions()
    )
    sealed = envelope.seal_manifest(manifest, envelope.public_key_from_bytes(public_key), job_id)
    job = SealedJob(job_id, response.job.job_code, response.customer_token, [], [os.urandom(stored)], sealed, manifest)
    customer.upload_all(job)
    customer.jobs.SubmitJob(
        customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=sealed),
        metadata=bearer(job.token),
        timeout=15,
    )
    return job_id


def test_declared_size_larger_than_manifest_is_refused_before_download(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads: list[tuple[str, int]] = []
    real = RelayClient.download_file

    def counting(self: RelayClient, job_id: str, index: int, size: int, **kw: Any) -> bytearray:
        downloads.append((job_id, index))
        return real(self, job_id, index, size, **kw)

    monkeypatch.setattr(RelayClient, "download_file", counting)
    relay, channel, slug, tmp = setup["relay"], setup["channel"], setup["slug"], setup["tmp"]
    core = core_service.KioskCore(tmp / "kiosk", printer=printing.PdfFolderPrinter(tmp / "printed"))
    profile = core.enroll(relay.address, setup["code"])
    customer = Customer(channel)
    lying = _lying_job(customer, slug, profile.public_key, 3 << 20)
    honest = customer.send(
        slug, [PlainFile("ok.pdf", "application/pdf", pdfs.simple_pdf(b"ok"))], public_key=profile.public_key
    )
    core.start()
    try:
        bad = _wait(core, lying, lambda j: j.state is LocalState.FAILED)
        assert bad.error == "file 1 does not have the size the manifest says"
        good = _wait(core, honest.job_id, lambda j: j.state is LocalState.READY)
        assert good.page_count == 1
        assert [d for d in downloads if d[0] == lying] == [], "the lying file was downloaded"
        assert (honest.job_id, 0) in downloads
    finally:
        core.stop()


def test_jobs_wait_for_the_memory_budget(setup: dict[str, Any]) -> None:
    relay, channel, slug, tmp = setup["relay"], setup["channel"], setup["slug"], setup["tmp"]
    pdf = pdfs.simple_pdf(b"big", pad=400_000)
    footprint = envelope.ciphertext_size(len(pdf)) + len(pdf)
    core = core_service.KioskCore(
        tmp / "kiosk", printer=printing.PdfFolderPrinter(tmp / "printed"), memory_budget=footprint + footprint // 2
    )
    profile = core.enroll(relay.address, setup["code"])
    customer = Customer(channel)
    first = customer.send(slug, [PlainFile("a.pdf", "application/pdf", pdf)], public_key=profile.public_key)
    core.start()
    try:
        _wait(core, first.job_id, lambda j: j.state is LocalState.READY)
        second = customer.send(slug, [PlainFile("b.pdf", "application/pdf", pdf)], public_key=profile.public_key)
        waiting = _wait(core, second.job_id, lambda j: bool(j.error))
        assert waiting.error == "waiting: other open jobs fill the kiosk's memory"
        assert waiting.state is LocalState.FETCHING
        assert core.budget.used == footprint
        huge = customer.send(slug, [PlainFile("c.pdf", "application/pdf", pdf * 2)], public_key=profile.public_key)
        core.complete(first.job_id)
        ready = _wait(core, second.job_id, lambda j: j.state is LocalState.READY)
        assert ready.error is None and ready.page_count == 1
        refused = _wait(core, huge.job_id, lambda j: j.state is LocalState.FAILED)
        assert refused.error == "the job is too large for this kiosk's memory"
        assert core.budget.peak <= core.budget.limit
    finally:
        core.stop()
    assert core.budget.used == 0
