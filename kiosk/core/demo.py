"""Sealed sample jobs and sample documents, for tests, benchmarks and demos.

Uses the envelope exactly as a customer's browser would (seal_manifest with
the job id, one record stream per file), so the kiosk's decrypt path is
exercised end to end without a relay.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import pypdfium2 as pdfium

import envelope
from kiosk.core.render import PDFIUM_LOCK


@dataclass(frozen=True)
class SealedJob:
    """What the relay would hold for a job."""

    job_id: str
    sealed_manifest: bytes
    ciphertexts: tuple[bytes, ...]
    key_fingerprint: bytes


def seal_job(
    public_key: bytes,
    job_id: str,
    files: list[tuple[str, str, bytes]],
    options: envelope.JobOptions | None = None,
    customer: str = "Ada",
    note: str = "",
    copies: int = 1,
    page_ranges: str = "",
    reply_key: bytes | None = None,
) -> SealedJob:
    """Seal ``files`` [(name, media type, bytes)] to the shop key for ``job_id`` (format 2).

    ``copies`` and ``page_ranges`` go on every file.
    """
    key = envelope.new_content_key()
    entries, ciphertexts = [], []
    for index, (name, media_type, data) in enumerate(files):
        ciphertexts.append(envelope.seal_bytes(envelope.file_key(key, index), data))
        entries.append(
            envelope.FileEntry(
                name=name,
                type=media_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                copies=copies,
                page_ranges=page_ranges,
            )
        )
    manifest = envelope.Manifest(
        content_key=key,
        files=tuple(entries),
        customer=envelope.Customer(name=customer, note=note),
        options=options or envelope.JobOptions(),
        reply_key=reply_key,
    )
    pub = envelope.public_key_from_bytes(public_key)
    return SealedJob(
        job_id, envelope.seal_manifest(manifest, pub, job_id), tuple(ciphertexts), envelope.fingerprint(public_key)
    )


def sample_pdf(pages: int = 3, size: tuple[float, float] = (595.0, 842.0), text: bool = True) -> bytes:
    """A PDF with ``pages`` pages, each with a dark rectangle (so renders are not blank)."""
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument.new()
        try:
            for n in range(pages):
                page = pdf.new_page(*size)
                if text:
                    _draw_box(pdf, page, n)
                page.close()
            out = io.BytesIO()
            pdf.save(out)
        finally:
            pdf.close()
    return out.getvalue()


def _draw_box(pdf: pdfium.PdfDocument, page: pdfium.PdfPage, n: int) -> None:
    from pypdfium2 import raw

    width, height = page.get_size()
    obj = raw.FPDFPageObj_CreateNewRect(width * 0.1, height * 0.1 + n % 7, width * 0.8, height * 0.3)
    raw.FPDFPageObj_SetFillColor(obj, 20, 40 + (n * 37) % 200, 160, 255)
    raw.FPDFPath_SetDrawMode(obj, raw.FPDF_FILLMODE_ALTERNATE, False)
    raw.FPDFPage_InsertObject(page.raw, obj)
    raw.FPDFPage_GenerateContent(page.raw)


def sample_image(fmt: str = "PNG", size: tuple[int, int] = (640, 480)) -> bytes:
    """A colourful image in PNG or JPEG."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(img)
    draw.rectangle((size[0] // 8, size[1] // 8, size[0] * 7 // 8, size[1] * 7 // 8), fill=(200, 30, 30))
    draw.ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill=(30, 30, 200))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()
