"""Office documents and phone photos through the real page, relay and kiosk to ippeveprinter.

A customer in headless Chromium picks a 10-page DOCX (a table and an image), an XLSX
and a PPTX made by LibreOffice itself, an iPhone photo (HEIC, made with pillow-heif,
stored sideways with an EXIF orientation) and a WebP. The page accepts exactly what the
shop publishes, says what happens to each file, prices the documents "at the counter",
and offers photo layouts that apply to the photos only. The kiosk core converts the
documents in its sandbox and lays out the photos; ippeveprinter's spool then holds PDFs
with the right page counts, the photo upright at 10 x 15 cm. Run alone it takes ~40 s.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kiosk.core.formats import OFFICE_MEDIA_TYPES
from kiosk.core.options import MM
from tests.e2e.bridge_proc import BridgeProcess
from tests.e2e.customer import DONE_TEXT, Phone, wait_until
from tests.kiosk.convert_helpers import assert_nothing_left

MIME = {kind: media for media, kind in OFFICE_MEDIA_TYPES.items()}
RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture
def bridge(relay: Any, tmp_path: Path) -> Iterator[BridgeProcess]:
    process = BridgeProcess(relay.address, tmp_path / "bridge.log")
    yield process
    process.stop()


def sideways_heic() -> bytes:
    """A portrait photo (red top, blue bottom) stored turned a quarter, with EXIF orientation 6."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    upright = Image.new("RGB", (480, 640), RED)
    upright.paste(BLUE, (0, 320, 480, 640))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to show"
    out = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(out, format="HEIF", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def webp() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 160, 60)).save(out, format="WEBP")
    return out.getvalue()


def pdf_pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def photo_on_paper(pdf: bytes) -> tuple[float, float, tuple[int, ...], tuple[int, ...]]:
    """(width mm, height mm) of the one image on page 1, and its colour near the top and the bottom."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        [image] = [o for o in page.get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        left, bottom, right, top = image.get_bounds()
        scale = 0.5
        bitmap = page.render(scale=scale).to_pil().convert("RGB")
        height = page.get_height()
        x = (left + right) / 2 * scale
        near_top = bitmap.getpixel((int(x), int((height - top + 10 * MM) * scale)))
        near_bottom = bitmap.getpixel((int(x), int((height - bottom - 10 * MM) * scale)))
        page.close()
        return (right - left) / MM, (top - bottom) / MM, near_top, near_bottom
    finally:
        doc.close()


def close_to(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=False))


def test_office_documents_and_phone_photos_from_the_page_to_the_printer(
    relay: Any, bridge: BridgeProcess, ipp_printer: Any, chromium_browser: Any, office_documents: Any, tmp_path: Path
) -> None:
    from kiosk.core.jobs import LocalState
    from kiosk.core.printing import IppPrinter, PrintState
    from kiosk.core.service import KioskCore

    started = time.monotonic()
    _slug, code = relay.add_shop("Corner Copy")
    core = KioskCore(tmp_path / "kiosk", printer=IppPrinter(ipp_printer.uri), print_timeout=60.0)
    core.enroll(relay.address, code)
    core.save_settings(core.settings.replace(bridge_url=bridge.url))
    core.start()
    phone = Phone(chromium_browser, "documents")
    try:
        assert wait_until(lambda: core.connection.online, timeout=15), core.connection
        files = [
            ("report.docx", MIME["docx"], office_documents["docx"]),
            ("budget.xlsx", MIME["xlsx"], office_documents["xlsx"]),
            ("slides.pptx", MIME["pptx"], office_documents["pptx"]),
            ("IMG_0001.HEIC", "application/octet-stream", sideways_heic()),  # what many systems call a .heic
            ("sticker.webp", "image/webp", webp()),
        ]
        page = phone.page
        # the kiosk publishes what it accepts (LibreOffice and pillow-heif are installed here)
        wait_until(
            lambda: (
                page.goto(core.poster_url())
                and page.locator("#app").get_attribute("data-ready") == "yes"
                and ".docx" in (page.locator("#file-input").get_attribute("accept") or "")
            ),
            timeout=15,
        )
        accept = page.locator("#file-input").get_attribute("accept") or ""
        assert {".docx", ".xlsx", ".pptx", ".heic", ".webp", MIME["docx"], "image/heic"} <= set(accept.split(","))
        expect(page.locator("#kinds-explain")).to_contain_text("turned into PDF at the shop")
        page.set_input_files("#file-input", files=[{"name": n, "mimeType": t, "buffer": data} for n, t, data in files])
        rows = page.locator("#file-list li")
        expect(rows).to_have_count(5)
        expect(rows.nth(0).locator(".file-note")).to_have_text(
            "Word files are turned into PDF at the shop; the shop checks the pages before printing."
        )
        expect(rows.nth(1).locator(".file-note")).to_contain_text("Spreadsheets are turned into PDF")
        expect(rows.nth(2).locator(".file-meta")).to_contain_text("priced at the counter")
        expect(rows.nth(3).locator(".file-problem")).to_have_text("")  # the .heic is accepted by its name
        # photo options: shown because the job has photos, and said to apply to them only
        expect(page.locator("#photo-options")).to_be_visible()
        page.select_option("#opt-photo-size", "10x15")
        page.select_option("#opt-photo-fit", "fill")
        expect(page.locator("#photo-explain")).to_contain_text("at 10 x 15 cm, one on a sheet")
        expect(page.locator("#photo-explain")).to_contain_text("the 3 other files print as they are")
        page.select_option("#opt-photo-per-sheet", "4")  # four 10x15 prints do not fit on A4
        expect(page.locator("#form-error")).to_contain_text("do not fit on one A4 sheet")
        page.select_option("#opt-photo-per-sheet", "1")
        expect(page.locator("#form-error")).to_be_hidden()
        order = page.locator("#order-lines")
        expect(order.locator(".price-lines li").nth(0)).to_contain_text("priced at the counter")
        expect(order.locator(".summary-price")).to_contain_text("plus the files priced at the counter")
        expect(order.locator(".summary-options")).to_contain_text("Photos: 10 x 15 cm")
        phone.shot("documents-and-photos")
        assert phone.problems == [], phone.problems
        page.click("#send-button")
        expect(page.locator("#status-view")).to_be_visible()
        job_id = page.url.split("/j/", 1)[1].split("#", 1)[0]

        opened = wait_until(
            lambda: (
                job_id in {j.job_id for j in core.jobs()}
                and core.job(job_id).state in (LocalState.READY, LocalState.FAILED)
            ),
            timeout=40,
        )
        job = core.job(job_id)
        assert opened and job.state is LocalState.READY, job.error
        assert job.options.photo_layout == ("fill", "10x15", 1)
        assert job.page_count == 32  # 10 + 10 + 10 converted pages, one page per photo
        # the converted page counts and the kiosk's amount reach the page, sealed to its reply key (reply.js)
        detail = page.locator("#reply-detail")
        for number in (1, 2, 3):
            expect(detail).to_contain_text(f"File {number} was converted to PDF by the shop; pages: 10.")
        expect(detail).not_to_contain_text("File 4 was converted")
        amount = job.price.total_cents / 100 if job.price else None
        expect(page.locator("#pay-line")).to_contain_text(f"Pay €{amount:.2f} at the counter")
        phone.shot("converted-pages")
        status = core.print_job(job_id)
        assert status.state is PrintState.COMPLETED, status
        printed = ipp_printer.wait_for_jobs(len(files), timeout=30)
        assert sorted(pdf_pages(p.document) for p in printed) == [1, 1, 10, 10, 10]
        photos = [p.document for p in printed if pdf_pages(p.document) == 1]
        laid_out = sorted((round(w), round(h), top, bottom) for w, h, top, bottom in map(photo_on_paper, photos))
        # filled to exactly 10 x 15 cm; the landscape WebP lies down, the HEIC stands upright (its EXIF
        # orientation honoured: stored sideways it would lie down too), red at the top
        assert [(w, h) for w, h, _t, _b in laid_out] == [(100, 150), (150, 100)], laid_out
        _w, _h, top, bottom = laid_out[0]
        assert close_to(top, RED) and close_to(bottom, BLUE), (top, bottom)
        core.complete(job_id)
        expect(page.locator("#status-line")).to_have_text(DONE_TEXT, timeout=20_000)
        phone.shot("done")
        assert core.budget.used == 0
        assert_nothing_left()
    finally:
        phone.close()
        core.stop()
    assert time.monotonic() - started < 60, "the documents journey must stay under a minute"
