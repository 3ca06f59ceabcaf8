"""The document tasks that run inside a document worker (kiosk.core.workers).

``prepare`` turns a decrypted file into the rewritten PDF the kiosk keeps
(kiosk.core.sanitize) and its page sizes; ``render_page`` draws one page of
such a PDF within the worker's bitmap caps; ``merge`` joins rewritten PDFs
for printing. Nothing here is called in the kiosk's own process.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium

from kiosk.core.images import PhotoLayout
from kiosk.core.intake import to_printable
from kiosk.core.render import PDF_TYPES, Document, image_to_pdf, sniff_media_type
from kiosk.core.sanitize import rewrite_pdf
from kiosk.core.workers import CachedDocument, current_limits

PREPARE = "kiosk.core.worker_tasks:prepare"
RENDER = "kiosk.core.worker_tasks:render_page"
MERGE = "kiosk.core.worker_tasks:merge"


def prepare(
    data: bytes | bytearray,
    media_type: str,
    paper: str,
    name: str = "",
    layout: tuple[str, str, int] | None = None,
) -> tuple[bytes, list[tuple[float, float]], str]:
    """(rewritten PDF, page sizes in points, sniffed media type) of one decrypted file.

    Photos are laid out on pages first (kiosk.core.intake) with ``layout``
    (fit, size, per sheet; PrintOptions.photo_layout), JPEG/PNG only when one is chosen.

    Raises:
        UnsupportedMedia, PasswordProtected, DocumentTooLarge, DocumentError
        (a page pdfium cannot load: "page N is damaged").
    """
    photo_layout = PhotoLayout(*layout) if layout is not None else None
    data, media_type = to_printable(bytearray(data), media_type, name, paper, layout=photo_layout)
    actual = sniff_media_type(data, media_type)
    pdf = bytearray(data) if actual in PDF_TYPES else bytearray(image_to_pdf(data, actual, paper))
    with Document(pdf, source_type=actual) as source:
        rewritten = rewrite_pdf(source._pdf)
    with Document(bytearray(rewritten)) as clean:
        sizes = [clean.page_size(i) for i in range(clean.page_count)]
    return rewritten, sizes, actual


def render_page(index: int, scale: float, *, doc: CachedDocument) -> tuple[bytes, int, int]:
    """(RGBA, width, height) of one page of a rewritten PDF, within the worker's caps.

    Raises:
        DocumentError: the page cannot be rendered.
    """
    document = doc.state.get("pdf")
    if document is None:
        document = doc.state["pdf"] = Document(doc.data)
    limits = current_limits()
    page = document.render(index, scale, limits.max_width, limits.max_height, limits.max_pixels)
    return page.rgba, page.width, page.height


def merge(pdfs: list[bytes | bytearray]) -> bytes:
    """One PDF of every page of several rewritten PDFs, in order.

    Raises:
        DocumentError: a PDF cannot be read.
    """
    merged = pdfium.PdfDocument.new()
    try:
        for data in pdfs:
            with Document(bytearray(data)) as part:
                merged.import_pages(part._pdf)
        out = io.BytesIO()
        merged.save(out)
    finally:
        merged.close()
    return out.getvalue()
