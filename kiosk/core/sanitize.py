"""The PDF the printer gets: a new document holding only what each page draws.

Every page of the customer's PDF is flattened (visible annotations and form
fields become page content, as printed) and then copied into a brand-new
document as one form XObject on a fresh page of the same size and rotation.
Nothing else is carried over: no document or page actions, no JavaScript, no
annotations, links, attachments, forms, outlines or metadata, no incremental
updates and nothing after the end of the file (polyglots lose their other
half). Runs inside a document worker (kiosk.core.workers); pdfium is its only
parser.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from kiosk.core.errors import DocumentError


def rewrite_pdf(source: pdfium.PdfDocument, check: object = None) -> bytes:
    """The sanitised copy of ``source`` (every page, in order).

    ``check`` (optional) is called with no argument before each page, so a
    caller can enforce its own limits.

    Raises:
        DocumentError: a page cannot be loaded ("page N is damaged") or copied.
    """
    target = pdfium.PdfDocument.new()
    try:
        for index in range(len(source)):
            if callable(check):
                check()
            copy_page(source, index, target)
        out = io.BytesIO()
        target.save(out)
    except pdfium.PdfiumError:
        raise DocumentError("the document cannot be rewritten for printing") from None
    finally:
        target.close()
    return out.getvalue()


def copy_page(source: pdfium.PdfDocument, index: int, target: pdfium.PdfDocument) -> None:
    """Append page ``index`` of ``source`` to ``target`` as drawn content only.

    Raises:
        DocumentError: the page cannot be loaded or copied.
    """
    try:
        page = source[index]
    except pdfium.PdfiumError:
        raise DocumentError(f"page {index + 1} is damaged") from None
    try:
        pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_PRINT)
        # The visible box (CropBox; pdfium's fallback for absurd boxes) as displayed: the
        # XObject pdfium makes already carries the page's rotation and crop.
        width, height = page.get_size()
    finally:
        page.close()
    if not (width > 0 and height > 0):
        raise DocumentError(f"page {index + 1} has no size")
    xobject = pdfium_c.FPDF_NewXObjectFromPage(target.raw, source.raw, index)
    if not xobject:
        raise DocumentError(f"page {index + 1} is damaged")
    try:
        form = pdfium_c.FPDF_NewFormObjectFromXObject(xobject)
        if not form:
            raise DocumentError(f"page {index + 1} cannot be copied")
        new_page = target.new_page(width, height)
        try:
            pdfium_c.FPDFPage_InsertObject(new_page.raw, form)
            if not pdfium_c.FPDFPage_GenerateContent(new_page.raw):
                raise DocumentError(f"page {index + 1} cannot be copied")
        finally:
            new_page.close()
    finally:
        pdfium_c.FPDF_CloseXObject(xobject)
