"""Kiosk: time from job bytes in memory to the first page rendered, and pypdfium2 vs pdftoppm.

Figures (median of several runs, this machine, this run):

* job -> first page: sealed manifest + ciphertext of a 100-page PDF in memory
  -> HPKE open, decrypt and verify every record, open with pdfium, render
  page 1 to fit a 1080 x 1440 screen. Baseline: pdfium opening the plaintext
  and rendering the same page (so the ratio is the cost of the envelope).
* page render: page 1 at 150 dpi with pypdfium2 (in process) against
  ``pdftoppm -r 150 -f 1 -l 1`` (a process per page, as poppler is used from
  Python) on the same file. Ratio = pypdfium2 / pdftoppm (lower is better).

Run: ``python -m bench kiosk_render`` or ``python bench/kiosk_render.py``.
"""

from __future__ import annotations

import ctypes
import io
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium
from pypdfium2 import raw

import envelope
from kiosk.core.decrypt import open_job_manifest
from kiosk.core.demo import seal_job
from kiosk.core.opened import open_ciphertexts
from kiosk.core.render import open_document

PAGES = 100
RUNS = 7
SCREEN = (1080, 1440)


def text_pdf(pages: int = PAGES) -> bytes:
    """A text-heavy PDF (Helvetica lines plus a filled box per page)."""
    pdf = pdfium.PdfDocument.new()
    font = raw.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica")
    for n in range(pages):
        page = pdf.new_page(595, 842)
        box = raw.FPDFPageObj_CreateNewRect(50, 700, 495, 90)
        raw.FPDFPageObj_SetFillColor(box, 30, 60, 160, 255)
        raw.FPDFPath_SetDrawMode(box, raw.FPDF_FILLMODE_ALTERNATE, False)
        raw.FPDFPage_InsertObject(page.raw, box)
        for line in range(48):
            obj = raw.FPDFPageObj_CreateTextObj(pdf.raw, font, 10.0)
            text = f"Page {n + 1}, line {line + 1}: the quick brown fox jumps over the lazy dog 0123456789."
            buf = (text + "\0").encode("utf-16-le")
            raw.FPDFText_SetText(
                obj, ctypes.cast(ctypes.create_string_buffer(buf, len(buf)), ctypes.POINTER(raw.FPDF_WCHAR))
            )
            raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 50, 680 - line * 13)
            raw.FPDFPage_InsertObject(page.raw, obj)
        raw.FPDFPage_GenerateContent(page.raw)
        page.close()
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def _median(fn, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[dict[str, object]]:
    key = envelope.generate_private_key()
    pdf = text_pdf()
    sealed = seal_job(envelope.public_key_bytes(key), "bench-job", [("doc.pdf", "application/pdf", pdf)])

    def job_to_first_page() -> None:
        manifest = open_job_manifest(sealed.sealed_manifest, key, "bench-job")
        opened = open_ciphertexts("bench-job", manifest, [bytearray(sealed.ciphertexts[0])], "A4")
        opened.render_fit(0, *SCREEN)
        opened.wipe()

    def plain_first_page() -> None:
        doc = open_document(bytearray(pdf), "application/pdf")
        doc.render_fit(0, *SCREEN)
        doc.close()

    job_s = _median(job_to_first_page)
    plain_s = _median(plain_first_page)
    rows: list[dict[str, object]] = [
        {
            "figure": f"kiosk: job bytes -> first page on screen ({PAGES}-page PDF, {len(pdf) // 1024} KiB)",
            "value": round(job_s * 1000, 1),
            "unit": "ms",
            "baseline": round(plain_s * 1000, 1),
            "ratio": round(job_s / plain_s, 2),
            "target": "< 500 ms",
        }
    ]

    def pdfium_page() -> None:  # open the document too, as pdftoppm must
        doc = open_document(bytearray(pdf), "application/pdf")
        try:
            doc.render(0, 150 / 72)
        finally:
            doc.close()

    pdfium_s = _median(pdfium_page)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        rows.append(
            {
                "figure": "kiosk: page 1 at 150 dpi, pypdfium2 (pdftoppm missing)",
                "value": round(pdfium_s * 1000, 1),
                "unit": "ms",
                "baseline": None,
                "ratio": None,
                "target": None,
            }
        )
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        out = Path(tmp) / "page"

        def poppler() -> None:
            subprocess.run(
                [pdftoppm, "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(path), str(out)],
                check=True,
                capture_output=True,
            )

        poppler_s = _median(poppler)
    rows.append(
        {
            "figure": "kiosk: open + page 1 at 150 dpi, pypdfium2 in process vs pdftoppm (same file)",
            "value": round(pdfium_s * 1000, 1),
            "unit": "ms",
            "baseline": round(poppler_s * 1000, 1),
            "ratio": round(pdfium_s / poppler_s, 2),
            "target": "< 1x",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
