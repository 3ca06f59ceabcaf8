"""Hostile documents in the kiosk's document workers, and what reaches the printer
(docs/security.md T26-T29).

The files are generated here (tests/security/hostile.py). Each hits one
limit of a worker (time, memory, bitmap caps) or is a document pdfium cannot
walk; each ends its job with a fixed sentence while the pool goes on serving
the next job. A hostile PDF printed through the kiosk core reaches
ippeveprinter rewritten: no script, action, attachment or appended data.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import envelope
from kiosk.core import printing, workers
from kiosk.core.decrypt import open_job_manifest
from kiosk.core.demo import sample_pdf, seal_job
from kiosk.core.errors import DocumentError, KioskError
from kiosk.core.jobs import LocalState
from kiosk.core.opened import OpenedJob, open_ciphertexts
from kiosk.core.render import open_document
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile
from tests.security import hostile

KEY = envelope.generate_private_key()
PUBLIC = envelope.public_key_bytes(KEY)


def _open(pool: workers.WorkerPool, name: str, media_type: str, data: bytes, job_id: str = "job") -> OpenedJob:
    sealed = seal_job(PUBLIC, job_id, [(name, media_type, data)])
    manifest = open_job_manifest(sealed.sealed_manifest, KEY, job_id)
    return open_ciphertexts(job_id, manifest, [bytearray(c) for c in sealed.ciphertexts], "A4", pool)


def _normal_job_works(pool: workers.WorkerPool) -> None:
    opened = _open(pool, "ok.pdf", "application/pdf", sample_pdf(2), "job-ok")
    try:
        page = opened.render_fit(1, 100, 140)
        assert page.width <= 100 and any(x != 255 for x in page.rgba[::4])
    finally:
        opened.wipe()


@pytest.fixture
def pool() -> Any:
    pool = workers.WorkerPool(size=2, limits=workers.Limits(memory_bytes=768 << 20, document_seconds=15.0))
    yield pool
    pool.close()


def test_endless_jpeg_scans_hit_the_time_limit_while_other_jobs_go_on(pool: workers.WorkerPool) -> None:
    """A 1.5 MB progressive JPEG whose 20,000 scans take minutes to decode."""
    jpeg = hostile.progressive_jpeg_scans(7000, 20_000)
    outcome: list[BaseException] = []

    def hostile_job() -> None:
        try:
            _open(pool, "slow.jpg", "image/jpeg", jpeg, "job-slow")
        except KioskError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=hostile_job)
    thread.start()
    time.sleep(0.5)  # the hostile job holds a worker first
    _normal_job_works(pool)  # another worker serves a normal job meanwhile
    assert thread.is_alive(), "the hostile JPEG finished before the normal job: it is not slow enough to test"
    thread.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], workers.WorkLimitExceeded), outcome
    assert str(outcome[0]) == workers.TIME_MESSAGE and outcome[0].limit == "time"
    assert pool.replaced == 1
    _normal_job_works(pool)


def test_image_over_the_memory_limit_ends_in_its_worker(pool: workers.WorkerPool) -> None:
    small = workers.WorkerPool(size=1, limits=workers.Limits(memory_bytes=256 << 20))
    try:
        with pytest.raises(workers.WorkLimitExceeded) as caught:
            _open(small, "bomb.png", "image/png", hostile.png_rgb_bomb(7000))
        assert str(caught.value) == workers.MEMORY_MESSAGE and caught.value.limit == "memory"
        assert small.replaced == 1
        _normal_job_works(small)
    finally:
        small.close()


@pytest.mark.parametrize("build", [hostile.self_kid_page_tree, hostile.deep_page_tree])
def test_page_tree_pdfium_cannot_walk_is_refused(pool: workers.WorkerPool, build: Any) -> None:
    with pytest.raises(DocumentError) as caught:
        _open(pool, "tree.pdf", "application/pdf", build())
    assert str(caught.value) == "page 1 is damaged"
    _normal_job_works(pool)


@pytest.mark.parametrize(
    "box", [b"[0 0 9999999999 1]", b"[0 0 99999999999 0.5]", b"[0 0 14400 14400]", b"[0 0 3 14400]"]
)
def test_render_bitmap_is_capped_in_width_height_and_pixels(pool: workers.WorkerPool, box: bytes) -> None:
    opened = _open(pool, "thin.pdf", "application/pdf", hostile.thin_page(box))
    try:
        page = opened.render(0, scale=50.0)
        limits = pool.limits
        assert page.width <= limits.max_width and page.height <= limits.max_height
        assert page.width * page.height <= limits.max_pixels
        assert len(page.rgba) == page.width * page.height * 4
    finally:
        opened.wipe()


def test_rewritten_pdf_keeps_the_pages_and_drops_everything_else(pool: workers.WorkerPool) -> None:
    opened = _open(pool, "hostile.pdf", "application/pdf", hostile.polyglot_pdf())
    try:
        printed = bytes(opened.print_pdf())
    finally:
        opened.wipe()
    assert [token for token in hostile.FORBIDDEN if token in printed] == []
    assert printed.rstrip().endswith(b"%%EOF")
    assert open_document(bytearray(printed), "application/pdf").page_count == 1


@pytest.fixture
def relay_setup(relay_procs: Any, tmp_path: Path) -> dict[str, Any]:
    relay = relay_procs(name="documents")
    slug, code = relay.add_shop("Documents Shop")
    return {"relay": relay, "channel": relay.channel(), "slug": slug, "code": code, "tmp": tmp_path}


def test_printer_spool_gets_a_rewritten_pdf(relay_setup: dict[str, Any], ipp_printer: Any) -> None:
    """Through the kiosk core to ippeveprinter: the spooled document has none of
    the customer's scripts, actions, attachment or appended ZIP; a PDF with a
    page tree pdfium cannot walk fails and is neither priced nor printed."""
    tmp = relay_setup["tmp"]
    core = KioskCore(tmp / "kiosk", printer=printing.IppPrinter(ipp_printer.uri))
    profile = core.enroll(relay_setup["relay"].address, relay_setup["code"])
    customer = Customer(relay_setup["channel"])
    slug = relay_setup["slug"]
    bad = customer.send(
        slug, [PlainFile("hostile.pdf", "application/pdf", hostile.polyglot_pdf())], public_key=profile.public_key
    )
    broken = customer.send(
        slug, [PlainFile("tree.pdf", "application/pdf", hostile.self_kid_page_tree())], public_key=profile.public_key
    )
    core.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = {j.job_id: j for j in core.jobs()}
            if (
                jobs.get(bad.job_id, None)
                and jobs[bad.job_id].state is LocalState.READY
                and jobs.get(broken.job_id)
                and jobs[broken.job_id].state is LocalState.FAILED
            ):
                break
            time.sleep(0.1)
        assert jobs[broken.job_id].state is LocalState.FAILED and jobs[broken.job_id].error == "page 1 is damaged"
        assert jobs[broken.job_id].price is None and jobs[broken.job_id].page_count is None
        status = core.print_job(bad.job_id)
        assert status.state is printing.PrintState.COMPLETED, status
    finally:
        core.stop()
    spooled = ipp_printer.wait_for_jobs(1)
    assert len(spooled) == 1
    document = spooled[0].document
    assert document.startswith(b"%PDF-")
    assert [token for token in hostile.FORBIDDEN if token in document] == []
    assert open_document(bytearray(document), "application/pdf").page_count == 1
