"""KioskCore against a real relay: enrollment, live jobs, print, complete, reject, reconnect."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudtab.v1 import common_pb2

import envelope
from kiosk.core.demo import sample_image, sample_pdf
from kiosk.core.errors import EnrollmentError, JobError
from kiosk.core.events import CoreEvent
from kiosk.core.jobs import KioskJob, LocalState, PrintOptions
from kiosk.core.printing import IppPrinter, PdfFolderPrinter, PrintState
from kiosk.core.reasons import RejectReason
from kiosk.core.render import open_document
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def job_in(core: KioskCore, job_id: str, *states: LocalState) -> Callable[[], KioskJob | None]:
    def check() -> KioskJob | None:
        try:
            job = core.job(job_id)
        except Exception:  # noqa: BLE001 - not there yet
            return None
        return job if job.state in states else None

    return check


class Recorder:
    def __init__(self) -> None:
        self.events: list[CoreEvent] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, event: CoreEvent) -> None:
        with self.lock:
            self.events.append(event)
            self.threads.add(threading.current_thread().name)

    def kinds(self, job_id: str | None = None) -> list[str]:
        with self.lock:
            return [e.kind for e in self.events if job_id is None or e.job_id == job_id]


@pytest.fixture
def shop(relay) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return relay.add_shop("Corner Copy")


@pytest.fixture
def customer(relay) -> Iterator[Customer]:  # type: ignore[no-untyped-def]
    channel = relay.channel()
    yield Customer(channel)
    channel.close()


@pytest.fixture
def make_core(tmp_path: Path) -> Iterator[Callable[..., KioskCore]]:
    cores: list[KioskCore] = []

    def make(**kwargs: Any) -> KioskCore:
        kwargs.setdefault("print_timeout", 30.0)
        core = KioskCore(tmp_path / f"kiosk{len(cores)}", **kwargs)
        cores.append(core)
        return core

    yield make
    for core in cores:
        core.stop()


def test_enrollment_stores_key_token_and_profile(relay, shop, customer, make_core) -> None:  # type: ignore[no-untyped-def]
    slug, code = shop
    core = make_core()
    assert not core.enrolled
    profile = core.enroll(relay.address, code)
    assert core.enrolled and profile.slug == slug and profile.display_name == "Corner Copy"
    published = customer.shop(slug)
    assert bytes(published.public_key) == profile.public_key
    assert published.key_fingerprint_display == profile.fingerprint_display
    assert profile.fingerprint == core.keystore.current_fingerprint
    data = core.data_dir
    assert stat.S_IMODE((data / "token").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "keys" / f"{profile.fingerprint.hex()}.pem").stat().st_mode) == 0o600
    again = KioskCore(data)
    assert again.enrolled and again.shop == profile and again.settings.relay_address == relay.address
    with pytest.raises(EnrollmentError):
        make_core().enroll(relay.address, code)  # one-time code
    bad = make_core()
    with pytest.raises(EnrollmentError):
        bad.enroll(relay.address, "NOT-A-CODE")
    assert not bad.enrolled and bad.keystore.fingerprints() == []


def test_job_flows_to_printer_and_completes(relay, shop, customer, make_core, ipp_printer) -> None:  # type: ignore[no-untyped-def]
    slug, code = shop
    core = make_core(printer=IppPrinter(ipp_printer.uri))
    core.enroll(relay.address, code)
    events = Recorder()
    core.add_listener(events)
    core.start()
    wait_for(lambda: core.connection.online, what="online")
    pdf = sample_pdf(3)
    sent = customer.send(
        slug,
        [PlainFile("thesis.pdf", "application/pdf", pdf, copies=2, page_ranges="1-2")],
        name="Ada",
        options=envelope.JobOptions(color="color", sides="two-sided-long-edge"),
    )
    job = wait_for(job_in(core, sent.job_id, LocalState.READY), what="job ready")
    assert job.job_code == sent.job_code and job.customer_name == "Ada"
    assert job.page_count == 3 and job.files[0].name == "thesis.pdf"
    assert job.options == PrintOptions(copies=2, sides="two-sided-long-edge", color="color", page_ranges="1-2")
    assert job.price is not None and (job.price.pages, job.price.sheets) == (2, 2)
    assert job.time_left().total_seconds() > 60
    assert "job_added" in events.kinds(sent.job_id)
    assert "MainThread" not in events.threads
    wait_for(lambda: customer.get(sent).state == common_pb2.JOB_STATE_RECEIVED, what="received at relay")
    opened = core.open_job(sent.job_id)
    assert opened.page_count == 3 and opened.render(0, 0.3).width > 0
    status = core.print_job(sent.job_id, job.options.with_(copies=1))
    assert status.state is PrintState.COMPLETED, status
    assert core.job(sent.job_id).state is LocalState.PRINTED
    assert customer.get(sent).state == common_pb2.JOB_STATE_PRINTING
    [recorded] = ipp_printer.wait_for_jobs(1)
    assert recorded.document.startswith(b"%PDF-") and recorded.document != pdf  # rewritten (kiosk.core.sanitize)
    assert open_document(bytearray(recorded.document), "application/pdf").page_count == 3
    assert recorded.attributes["IPP_COPIES"] == "1" and recorded.attributes["IPP_PAGE_RANGES"] == "1-2"
    assert recorded.attributes["IPP_SIDES"] == "two-sided-long-edge"
    buffers = [doc._buffer for doc in opened.documents]
    core.complete(sent.job_id)
    assert core.job(sent.job_id).state is LocalState.COMPLETED
    assert all(not any(b) for b in buffers)
    assert customer.get(sent).state == common_pb2.JOB_STATE_COMPLETED


def test_bad_job_fails_alone_and_can_be_rejected(relay, shop, customer, make_core, tmp_path) -> None:  # type: ignore[no-untyped-def]
    slug, code = shop
    core = make_core(printer=PdfFolderPrinter(tmp_path / "out"))
    core.enroll(relay.address, code)
    core.start()
    bad = customer.create(slug, [PlainFile("a.pdf", "application/pdf", sample_pdf(1))])
    bad.ciphertexts[0] = bad.ciphertexts[0][:-1] + bytes([bad.ciphertexts[0][-1] ^ 1])  # tampered in transit
    customer.upload_all(bad)
    customer.submit(bad)
    broken = customer.send(slug, [PlainFile("b.pdf", "application/pdf", b"%PDF-1.4 definitely not a pdf")])
    good = customer.send(slug, [PlainFile("c.png", "image/png", sample_image("PNG"))])
    failed = wait_for(job_in(core, bad.job_id, LocalState.FAILED), what="tampered job failed")
    assert "authentication" in (failed.error or "") or "altered" in (failed.error or "")
    failed2 = wait_for(job_in(core, broken.job_id, LocalState.FAILED), what="broken job failed")
    assert "PDF" in (failed2.error or "")
    ready = wait_for(job_in(core, good.job_id, LocalState.READY), what="good job ready")
    assert ready.page_count == 1
    with pytest.raises(JobError):  # only the fixed codes; the relay would refuse text too
        core.reject(bad.job_id, "The file was damaged on the way")
    with pytest.raises(JobError):  # this job's page gave no reply key: a note could only go in clear
        core.reject(bad.job_id, "damaged", note="see me at the counter")
    core.reject(bad.job_id, "damaged")
    after = customer.get(bad)
    assert after.state == common_pb2.JOB_STATE_REJECTED and "damaged" in after.reason
    assert next(j.job_id for j in core.jobs()) == good.job_id  # newest first


def test_cancel_and_expiry_wipe_the_job(relay_factory, customer_factory=None) -> None:  # type: ignore[no-untyped-def]
    relay = relay_factory(args=("--retention-seconds", "3"))
    slug, code = relay.add_shop("Quick Shop")
    channel = relay.channel()
    customer = Customer(channel)
    core = KioskCore(Path(relay.workdir) / "kiosk", printer=PdfFolderPrinter(Path(relay.workdir) / "out"))
    try:
        core.enroll(relay.address, code)
        core.start()
        first = customer.send(slug, [PlainFile("a.pdf", "application/pdf", sample_pdf(1))])
        second = customer.send(slug, [PlainFile("b.pdf", "application/pdf", sample_pdf(1))])
        wait_for(job_in(core, first.job_id, LocalState.READY), what="ready")
        opened = core.open_job(first.job_id)
        customer.cancel(first)
        wait_for(job_in(core, first.job_id, LocalState.CANCELLED), what="cancelled")
        assert opened.wiped
        expired = wait_for(job_in(core, second.job_id, LocalState.EXPIRED), timeout=20, what="expired")
        assert expired.is_terminal and expired.expired
    finally:
        core.stop()
        channel.close()


def test_reconnects_after_relay_restart_and_misses_nothing(relay, shop, customer, make_core) -> None:  # type: ignore[no-untyped-def]
    slug, code = shop
    core = make_core(idle_timeout=5.0)
    core.enroll(relay.address, code)
    core.start()
    wait_for(lambda: core.connection.online, what="online")
    first = customer.send(slug, [PlainFile("a.pdf", "application/pdf", sample_pdf(1))])
    wait_for(job_in(core, first.job_id, LocalState.READY), what="first ready")
    relay.kill()
    wait_for(lambda: not core.connection.online, what="offline")
    assert core.connection.status == "offline"
    relay.start()
    wait_for(lambda: core.connection.online, timeout=40, what="back online")
    second = customer.send(slug, [PlainFile("b.pdf", "application/pdf", sample_pdf(2))])
    wait_for(job_in(core, second.job_id, LocalState.READY), what="second ready")
    assert sorted(j.job_id for j in core.jobs()) == sorted([first.job_id, second.job_id])
    assert core.last_sequence() > 0


def test_headless_auto_accept_prints_and_completes(relay, shop, customer, make_core, tmp_path) -> None:  # type: ignore[no-untyped-def]
    slug, code = shop
    out = tmp_path / "printed"
    core = make_core(printer=PdfFolderPrinter(out), auto_accept=True)
    core.enroll(relay.address, code)
    core.start()
    pdf = sample_pdf(2)
    sent = customer.send(slug, [PlainFile("a.pdf", "application/pdf", pdf)])
    broken = customer.send(slug, [PlainFile("b.pdf", "application/pdf", b"%PDF-1.4 junk")])
    wait_for(job_in(core, sent.job_id, LocalState.COMPLETED), what="completed")
    [printed] = [p.read_bytes() for p in out.glob("*.pdf")]
    assert printed != pdf and open_document(bytearray(printed), "application/pdf").page_count == 2
    assert customer.get(sent).state == common_pb2.JOB_STATE_COMPLETED
    wait_for(lambda: customer.get(broken).state == common_pb2.JOB_STATE_REJECTED, what="auto-rejected")
    assert customer.get(broken).reason == RejectReason.DAMAGED.value  # a fixed code (cloudtab_rpc.rejects)


def test_rotated_key_still_opens_older_jobs(relay, shop, customer, make_core) -> None:  # type: ignore[no-untyped-def]
    slug, code = shop
    core = make_core()
    old = core.enroll(relay.address, code)
    before = customer.create(slug, [PlainFile("old.pdf", "application/pdf", sample_pdf(1))])
    new = core.rotate_key()
    assert new.fingerprint != old.fingerprint
    assert bytes(customer.shop(slug).public_key) == new.public_key
    customer.upload_all(before)
    customer.submit(before)
    after = customer.send(slug, [PlainFile("new.pdf", "application/pdf", sample_pdf(2))])
    core.start()
    wait_for(job_in(core, before.job_id, LocalState.READY), what="old-key job ready")
    assert wait_for(job_in(core, after.job_id, LocalState.READY), what="new-key job").page_count == 2
    assert set(core.keystore.fingerprints()) == {old.fingerprint, new.fingerprint}
