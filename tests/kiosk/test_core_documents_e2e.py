"""Real documents through a real relay and the kiosk core to ippeveprinter.

A customer seals a 10-page DOCX (table + image), XLSX and PPTX made by
LibreOffice, and photos made with Pillow and pillow-heif; the kiosk decrypts,
converts in its sandbox, and the printer receives PDFs with the right page
counts. A hostile file fails its own job with a reason and the next job prints.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from cloudtab.v1 import common_pb2
from PIL import Image

import envelope
from kiosk.core.formats import OFFICE_MEDIA_TYPES
from kiosk.core.jobs import LocalState
from kiosk.core.printing import IppPrinter, PrintState
from tests.fixtures.faults import PlainFile
from tests.kiosk import test_core_relay as relay_tests
from tests.kiosk.convert_helpers import assert_nothing_left
from tests.kiosk.test_core_relay import job_in, wait_for

# the relay tests' fixtures: a shop, a customer on the real relay, kiosk cores stopped afterwards
shop, customer, make_core = relay_tests.shop, relay_tests.customer, relay_tests.make_core
MIME = {kind: media for media, kind in OFFICE_MEDIA_TYPES.items()}


def pdf_pages(data: bytes) -> int:
    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def photo(fmt: str) -> bytes:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 40, 40)).save(out, format=fmt, quality=85)
    return out.getvalue()


def test_documents_and_photos_print_with_the_right_page_counts(  # type: ignore[no-untyped-def]
    relay, shop, customer, make_core, ipp_printer, office_documents
) -> None:
    slug, code = shop
    core = make_core(printer=IppPrinter(ipp_printer.uri), print_timeout=60.0)
    core.enroll(relay.address, code)
    core.start()
    wait_for(lambda: core.connection.online, what="online")
    files = [
        PlainFile("report.docx", MIME["docx"], office_documents["docx"]),
        PlainFile("budget.xlsx", MIME["xlsx"], office_documents["xlsx"]),
        PlainFile("slides.pptx", MIME["pptx"], office_documents["pptx"]),
        PlainFile("IMG_0001.HEIC", "image/heic", photo("HEIF")),
        PlainFile("sticker.webp", "image/webp", photo("WEBP")),
    ]
    sent = customer.send(slug, files, name="Ada")
    job = wait_for(job_in(core, sent.job_id, LocalState.READY, LocalState.FAILED), timeout=240, what="job opened")
    assert job.state is LocalState.READY, job.error
    assert job.page_count == 32
    # the converted PDFs are counted in the kiosk's memory budget, on top of ciphertext + plaintext
    manifest_bytes = sum(len(f.data) for f in files)
    footprint = sum(envelope.ciphertext_size(len(f.data)) for f in files) + manifest_bytes
    assert core.budget.used > footprint
    status = core.print_job(sent.job_id)
    assert status.state is PrintState.COMPLETED, status
    printed = ipp_printer.wait_for_jobs(len(files))
    assert sorted(pdf_pages(p.document) for p in printed) == [1, 1, 10, 10, 10]
    assert all(p.document[:5] == b"%PDF-" for p in printed)
    core.complete(sent.job_id)
    assert customer.get(sent).state == common_pb2.JOB_STATE_COMPLETED
    assert core.budget.used == 0
    assert_nothing_left()


def test_a_polyglot_fails_its_own_job_and_the_next_job_prints(  # type: ignore[no-untyped-def]
    relay, shop, customer, make_core, ipp_printer, office_documents
) -> None:
    slug, code = shop
    core = make_core(printer=IppPrinter(ipp_printer.uri), print_timeout=60.0)
    core.enroll(relay.address, code)
    core.start()
    polyglot = b"%PDF-1.4\n%\xe2\xe3\n" + office_documents["docx"]  # a PDF header in front of a real DOCX
    bad = customer.send(slug, [PlainFile("invoice.docx", MIME["docx"], polyglot)])
    good = customer.send(slug, [PlainFile("next.docx", MIME["docx"], office_documents["docx"])])
    failed = wait_for(job_in(core, bad.job_id, LocalState.FAILED), timeout=120, what="polyglot refused")
    assert "named as a Word document but it is a PDF" in (failed.error or "")
    ready = wait_for(job_in(core, good.job_id, LocalState.READY), timeout=240, what="next job ready")
    assert ready.page_count == 10
    assert core.print_job(good.job_id).state is PrintState.COMPLETED
    [printed] = ipp_printer.wait_for_jobs(1)
    assert pdf_pages(printed.document) == 10
    assert_nothing_left()
