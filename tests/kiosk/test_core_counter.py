"""The kiosk at a real counter (issue 14): nothing left in the print spool, crash safety,
cancel a print, one print job per file, the demo printer's sweep, printer states in words.

Real relay, real ippeveprinter, a private cupsd with its default PreserveJobFiles
(documents kept a day), and a kiosk process killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import envelope
from kiosk.core.demo import sample_image, sample_pdf
from kiosk.core.jobs import LocalState, PrintOptions
from kiosk.core.journal import JOURNAL_FILE
from kiosk.core.printing import CupsPrinter, IppPrinter, PdfFolderPrinter, PrintState
from kiosk.core.printing.ipp_printer import status_from_job
from kiosk.core.printing.words import job_words, printer_words
from kiosk.core.render import open_document
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile
from tests.kiosk.test_core_relay import job_in, wait_for
from tests.security import pdfs

ROOT = Path(__file__).resolve().parents[2]


def spool_hits(request_root: Path, marker: bytes) -> list[str]:
    """Files in cupsd's RequestRoot whose bytes contain ``marker``."""
    hits = []
    for path in request_root.rglob("*"):
        if path.is_file():
            try:
                if marker in path.read_bytes():
                    hits.append(path.name)
            except OSError:
                continue
    return hits


def wait_done(printer: Any, handle: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    status = printer.status(handle)
    while not status.state.done and time.monotonic() < deadline:
        time.sleep(0.1)
        status = printer.status(handle)
    return status


@pytest.fixture
def customer(relay):  # type: ignore[no-untyped-def]
    channel = relay.channel()
    yield Customer(channel)
    channel.close()


def test_cups_keeps_documents_unless_purged(cups_server) -> None:  # type: ignore[no-untyped-def]
    """The premise, on a private cupsd with default settings: a printed document stays in the spool;
    Cancel-Job with purge-job removes it."""
    marker = b"CTSPOOL" + secrets.token_hex(6).upper().encode()
    printer = CupsPrinter("kiosk", cups_server.server)
    handle = printer.print_pdf(bytearray(pdfs.simple_pdf(marker)), PrintOptions(), "spool-check")
    assert wait_done(printer, handle).state is PrintState.COMPLETED
    assert spool_hits(cups_server.request_root, marker), "CUPS did not keep the document (premise changed)"
    assert printer.purge(handle) is True
    assert spool_hits(cups_server.request_root, marker) == []


def test_printed_job_leaves_nothing_in_the_cups_spool(relay, customer, tmp_path, cups_server) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Spool Shop")
    core = KioskCore(tmp_path / "kiosk", printer=CupsPrinter("kiosk", cups_server.server), print_timeout=60)
    try:
        core.enroll(relay.address, code)
        core.start()
        marker = b"CTSPOOL" + secrets.token_hex(6).upper().encode()
        sent = customer.send(slug, [PlainFile("letter.pdf", "application/pdf", pdfs.simple_pdf(marker))])
        wait_for(job_in(core, sent.job_id, LocalState.READY), what="ready")
        status = core.print_job(sent.job_id)
        assert status.state is PrintState.COMPLETED, status
        assert status.message == "Printed"
        assert len(cups_server.printer.wait_for_jobs(1)) == 1  # it did print (CUPS rewrote the PDF)
        assert spool_hits(cups_server.request_root, marker) == []
        assert core.journal.get(sent.job_id).print_jobs == ()  # purged: nothing left to remove
        core.complete(sent.job_id)
        wait_for(lambda: core.journal.get(sent.job_id) is None, what="journal entry gone after Complete")
        assert spool_hits(cups_server.request_root, marker) == []
    finally:
        core.stop()


def test_cancel_a_print_in_progress(relay, customer, tmp_path, cups_server) -> None:  # type: ignore[no-untyped-def]
    """The queue is paused (jobs stay pending); Cancel stops the print and nothing stays in the spool."""
    slug, code = relay.add_shop("Cancel Shop")
    subprocess.run(["cupsdisable", "-h", cups_server.server, "kiosk"], check=True, timeout=30)
    core = KioskCore(tmp_path / "kiosk", printer=CupsPrinter("kiosk", cups_server.server), print_timeout=60)
    try:
        core.enroll(relay.address, code)
        core.start()
        marker = b"CTSPOOL" + secrets.token_hex(6).upper().encode()
        sent = customer.send(slug, [PlainFile("long.pdf", "application/pdf", pdfs.simple_pdf(marker))])
        wait_for(job_in(core, sent.job_id, LocalState.READY), what="ready")
        result: dict[str, Any] = {}
        import threading

        worker = threading.Thread(target=lambda: result.update(status=core.print_job(sent.job_id)))
        worker.start()
        wait_for(
            lambda: core.journal.get(sent.job_id) and core.journal.get(sent.job_id).print_jobs,
            what="job in the print system",
        )
        assert core.cancel_print(sent.job_id) is True
        worker.join(30)
        status = result["status"]
        assert status.state is PrintState.FAILED and "cancelled" in status.message
        job = core.job(sent.job_id)
        assert job.state is LocalState.READY and job.printed_at is None  # can be printed later
        assert spool_hits(cups_server.request_root, marker) == []
        assert cups_server.printer.jobs() == []
        assert core.cancel_print(sent.job_id) is False
    finally:
        core.stop()


def test_each_file_is_its_own_print_job_and_price_line(relay, customer, tmp_path, ipp_printer) -> None:  # type: ignore[no-untyped-def]
    """Report (3 pages) + photo, 2-sided: the photo starts on a new sheet and is priced that way."""
    slug, code = relay.add_shop("Two Files")
    core = KioskCore(tmp_path / "kiosk", printer=IppPrinter(ipp_printer.uri), print_timeout=60)
    try:
        core.enroll(relay.address, code)
        core.start()
        report, photo = sample_pdf(3), sample_image("PNG")
        sent = customer.send(
            slug,
            [PlainFile("report.pdf", "application/pdf", report), PlainFile("photo.png", "image/png", photo)],
            options=envelope.JobOptions(sides="two-sided-long-edge", color="color"),
        )
        job = wait_for(job_in(core, sent.job_id, LocalState.READY), what="ready")
        plan = core.print_plan(sent.job_id, job.options)
        assert [(f.index, f.price.pages, f.price.sheets) for f in plan.files] == [(0, 3, 2), (1, 1, 1)]
        assert job.price is not None and job.price.sheets == 3  # not 2 as if merged
        ranged = core.print_plan(sent.job_id, job.options.with_(page_ranges="3-4"))
        assert [(f.index, f.options.page_ranges) for f in ranged.files] == [(0, "3"), (1, "")]
        status = core.print_job(sent.job_id)
        assert status.state is PrintState.COMPLETED, status
        recorded = ipp_printer.wait_for_jobs(2)
        assert len(recorded) == 2
        assert recorded[0].document != report  # rewritten for print (kiosk.core.sanitize), same pages
        assert open_document(bytearray(recorded[0].document), "application/pdf").page_count == 3
        assert recorded[1].document.startswith(b"%PDF-") and recorded[1].document != report
        assert all(r.attributes["IPP_SIDES"] == "two-sided-long-edge" for r in recorded)
        assert [r.attributes["IPP_JOB_NAME"] for r in recorded] == [
            f"cloudtab-{sent.job_code}-1",
            f"cloudtab-{sent.job_code}-2",
        ]
    finally:
        core.stop()


CRASH_SCRIPT = r"""
import sys, time
from pathlib import Path
from kiosk.core.service import KioskCore
from kiosk.core.printing import PdfFolderPrinter
from kiosk.core.jobs import LocalState
core = KioskCore(Path(sys.argv[1]), printer=PdfFolderPrinter(Path(sys.argv[2])))
core.start()
job_id = sys.argv[3]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if core.job(job_id).state is LocalState.READY:
            break
    except Exception:
        pass
    time.sleep(0.05)
options = core.job(job_id).options.with_(copies=2, color="color")
core.edit_options(job_id, options)
status = core.print_job(job_id)
print("PRINTED", status.state.value, flush=True)
time.sleep(600)
"""


def test_kill_9_keeps_printed_state_and_edits(relay, customer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Crash Shop")
    data, out = tmp_path / "kiosk", tmp_path / "printed"
    first = KioskCore(data)
    first.enroll(relay.address, code)
    first.save_settings(
        first.settings.replace(prices=first.settings.prices.__class__(bw_cents=10, colour_cents=50, currency="EUR"))
    )
    customer_name = "Zelda Marker" + secrets.token_hex(3)
    sent = customer.send(
        slug,
        [PlainFile("secret-name.pdf", "application/pdf", sample_pdf(3))],
        name=customer_name,
        options=envelope.JobOptions(color="monochrome"),
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "generated")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(data), str(out), sent.job_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("PRINTED completed"), line + proc.stdout.read1(4000).decode()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    journal = (data / JOURNAL_FILE).read_bytes()
    assert customer_name.encode() not in journal and b"secret-name" not in journal  # metadata only
    assert json.loads(journal)["jobs"][0]["price_cents"] == 300
    again = KioskCore(data, printer=PdfFolderPrinter(out))
    try:
        again.start()
        job = wait_for(job_in(again, sent.job_id, LocalState.PRINTED), what="printed job back after restart")
        assert job.printed_at is not None and time.time() - job.printed_at.timestamp() < 120
        assert (job.options.copies, job.options.color) == (2, "color")
        assert job.price is not None and job.price.display == "EUR 3.00"
        assert list(out.glob("*.pdf")) == []  # the demo printer's output went at start
    finally:
        again.stop()


def test_demo_printer_sweeps_old_output(tmp_path: Path) -> None:
    printer = PdfFolderPrinter(tmp_path, keep_seconds=60)
    first = printer.print_pdf(sample_pdf(1), PrintOptions(), "one")
    second = printer.print_pdf(sample_pdf(1), PrintOptions(), "two")
    old = time.time() - 120
    os.utime(first.uri, (old, old))
    os.utime(Path(first.uri).with_suffix(".json"), (old, old))
    assert printer.sweep() == 2
    assert [p.name for p in tmp_path.glob("*.pdf")] == [Path(second.uri).name]
    third = printer.print_pdf(sample_pdf(1), PrintOptions(), "three")  # numbering goes on after a sweep
    assert Path(third.uri).name.startswith("0003-")
    assert printer.sweep(everything=True) == 4
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("state", "reasons", "words"),
    [
        (9, ["job-completed-successfully"], "Printed"),
        (3, ["job-incoming"], "Waiting for the printer"),
        (5, ["job-printing"], "Printing"),
        (6, ["media-empty-error", "job-printing"], "Printing - The printer is out of paper"),
        (5, ["media-jam-error"], "Printing - Paper is jammed in the printer"),
        (8, ["aborted-by-system"], "The printer could not print it"),
        (7, ["job-canceled-by-user"], "Printing was cancelled"),
    ],
)
def test_printer_states_in_words(state: int, reasons: list[str], words: str) -> None:
    status = status_from_job({"job-state": [state], "job-state-reasons": list(reasons)})
    assert status.message == words == job_words(state, reasons)
    assert status.reasons == tuple(reasons)
    assert printer_words("stopped", ["toner-empty-error"]) == "The printer is out of toner"
    assert printer_words("idle") == "Ready"
