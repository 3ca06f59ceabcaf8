"""Open decrypted files in memory and render their pages with pypdfium2.

PDFs are handed to pdfium as a ctypes view of the caller's ``bytearray`` (no
copy), so :meth:`Document.close` can overwrite the bytes afterwards. JPEG and
PNG images become a one-page PDF of the requested paper size
(:func:`image_to_pdf`), so preview and printing share one path.

pdfium is not thread-safe: every call into it holds :data:`PDFIUM_LOCK`.
"""

from __future__ import annotations

import ctypes
import io
import logging
import math
import struct
import threading
import warnings
from dataclasses import dataclass
from typing import Self

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from kiosk.core.errors import (
    DocumentError,
    DocumentTooLarge,
    PasswordProtected,
    UnsupportedMedia,
)
from kiosk.core.options import PAPER_SIZES

log = logging.getLogger(__name__)

PDFIUM_LOCK = threading.RLock()
MAX_PAGES = 20_000
MAX_IMAGE_PIXELS = 60_000_000  # ~ a 9000 x 6700 photo; decoded RGB is ~180 MB
MAX_RENDER_PIXELS = 16_000_000  # one rendered bitmap, RGBA ~64 MB
MAX_RENDER_SIDE = 10_000  # width and height of one rendered bitmap
IMAGE_MARGIN_PT = 10 * 72 / 25.4
PDF_TYPES = ("application/pdf",)
IMAGE_TYPES = ("image/jpeg", "image/png")
SUPPORTED_TYPES = PDF_TYPES + IMAGE_TYPES


@dataclass(frozen=True)
class RenderedPage:
    """An RGBA bitmap, rows top first, 4 bytes per pixel, no padding."""

    rgba: bytes
    width: int
    height: int


def sniff_media_type(data: bytes | bytearray, declared: str) -> str:
    """The media type from the file's magic bytes (the declared one is only a hint).

    Raises:
        UnsupportedMedia: if the bytes are not a PDF, JPEG or PNG.
    """
    head = bytes(data[:1024])
    if b"%PDF-" in head:
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    raise UnsupportedMedia(f"this file is not a PDF, JPEG or PNG (declared as {declared or 'unknown'})")


class Document:
    """One opened file: a PDF in memory, pages loaded only when rendered."""

    def __init__(self, buffer: bytearray, *, source_type: str = "application/pdf") -> None:
        """Open a PDF held in ``buffer`` (kept by reference and wiped on close).

        Raises:
            PasswordProtected: if the PDF needs a password.
            DocumentTooLarge: beyond MAX_PAGES pages.
            DocumentError: if pdfium cannot open it or it has no pages.
        """
        self.source_type = source_type
        self._buffer = buffer
        self._closed = False
        if not buffer:
            raise DocumentError("the file is empty")
        self._view: ctypes.Array[ctypes.c_char] | None = (ctypes.c_char * len(buffer)).from_buffer(buffer)
        with PDFIUM_LOCK:
            try:
                self._pdf = pdfium.PdfDocument(self._view)
            except pdfium.PdfiumError as exc:
                self._view = None
                if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
                    raise PasswordProtected(
                        "this PDF is password-protected; ask the customer for an unprotected copy"
                    ) from None
                raise DocumentError("this PDF is damaged or not a PDF and cannot be opened") from None
            count = len(self._pdf)
        if count < 1:
            self.close()
            raise DocumentError("this PDF has no pages")
        if count > MAX_PAGES:
            self.close()
            raise DocumentTooLarge(f"this PDF has {count} pages; the kiosk handles at most {MAX_PAGES}")
        self.page_count = count

    def _check(self, index: int) -> None:
        if self._closed:
            raise DocumentError("the document is closed")
        if not 0 <= index < self.page_count:
            raise DocumentError(f"page {index + 1} does not exist")

    def page_size(self, index: int) -> tuple[float, float]:
        """(width, height) of a page in points.

        Raises:
            DocumentError: bad index, closed, or the page cannot be loaded.
        """
        with PDFIUM_LOCK:
            self._check(index)
            try:
                page = self._pdf[index]
            except pdfium.PdfiumError:
                raise DocumentError(f"page {index + 1} is damaged") from None
            try:
                return page.get_size()
            finally:
                page.close()

    def render(
        self,
        index: int,
        scale: float = 1.0,
        max_width: int = MAX_RENDER_SIDE,
        max_height: int = MAX_RENDER_SIDE,
        max_pixels: int = MAX_RENDER_PIXELS,
    ) -> RenderedPage:
        """Render page ``index`` at 72 dpi x ``scale``, scaled down to fit the caps.

        The bitmap is at most ``max_width`` x ``max_height`` and ``max_pixels``.

        Raises:
            DocumentError: bad index, closed, or the page cannot be rendered.
        """
        if not scale > 0:
            raise DocumentError("the render scale must be positive")
        with PDFIUM_LOCK:
            self._check(index)
            try:
                page = self._pdf[index]
            except pdfium.PdfiumError:
                raise DocumentError(f"page {index + 1} is damaged") from None
            try:
                width, height = page.get_size()
                if width <= 0 or height <= 0:
                    raise DocumentError(f"page {index + 1} has no size")
                scale = capped_scale(width, height, scale, max_width, max_height, max_pixels)
                if width * scale < 1 or height * scale < 1:
                    raise DocumentError(f"page {index + 1} is too thin to show")
                bitmap = page.render(
                    scale=scale, force_bitmap_format=pdfium_c.FPDFBitmap_BGRA, rev_byteorder=True, may_draw_forms=False
                )
                try:
                    w, h, stride = bitmap.width, bitmap.height, bitmap.stride
                    raw = bytes(bitmap.buffer)
                finally:
                    bitmap.close()
            except pdfium.PdfiumError:
                raise DocumentError(f"page {index + 1} cannot be rendered") from None
            finally:
                page.close()
        if stride != w * 4:
            raw = b"".join(raw[row * stride : row * stride + w * 4] for row in range(h))
        return RenderedPage(raw, w, h)

    def render_fit(self, index: int, max_width: int, max_height: int) -> RenderedPage:
        """Render a page as large as fits in max_width x max_height pixels.

        Raises:
            DocumentError: as render().
        """
        width, height = self.page_size(index)
        if width <= 0 or height <= 0:
            raise DocumentError(f"page {index + 1} has no size")
        return self.render(index, max(min(max_width / width, max_height / height), 0.01))

    def pdf_bytes(self) -> bytes:
        """The PDF itself (a copy), for printing.

        Raises:
            DocumentError: if closed.
        """
        return bytes(self.pdf_copy())

    def pdf_copy(self) -> bytearray:
        """A wipeable copy of the PDF bytes.

        Raises:
            DocumentError: if closed.
        """
        if self._closed:
            raise DocumentError("the document is closed")
        return bytearray(self._buffer)

    def close(self, wipe: bool = True) -> None:
        """Release pdfium's handle and overwrite the PDF bytes with zeros."""
        if self._closed:
            return
        self._closed = True
        with PDFIUM_LOCK:
            pdf = getattr(self, "_pdf", None)
            if pdf is not None:
                pdf.close()
            self._pdf = None
        self._view = None
        if wipe:
            wipe_buffer(self._buffer)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def capped_scale(width: float, height: float, scale: float, max_width: int, max_height: int, max_pixels: int) -> float:
    """``scale`` lowered so a width x height page fits every cap (width, height, pixels)."""
    scale = min(scale, max_width / width, max_height / height)
    pixels = width * height * scale * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    while scale > 0 and (
        math.ceil(width * scale) > max_width
        or math.ceil(height * scale) > max_height
        or math.ceil(width * scale) * math.ceil(height * scale) > max_pixels
    ):
        scale *= 0.999  # pdfium rounds the bitmap size up
    return scale


def wipe_buffer(buffer: bytearray) -> None:
    """Overwrite a bytearray with zeros (what Python allows; copies made elsewhere survive)."""
    try:
        ctypes.memset((ctypes.c_char * len(buffer)).from_buffer(buffer), 0, len(buffer))
    except (BufferError, TypeError):
        # exported views forbid from_buffer; fall back to slice assignment
        buffer[:] = bytes(len(buffer))


def open_document(data: bytearray | bytes, media_type: str, paper: str = "A4") -> Document:
    """Open a decrypted file (PDF, JPEG or PNG) for preview and printing.

    A ``bytearray`` PDF is used in place and wiped when the Document is closed.

    Raises:
        UnsupportedMedia, PasswordProtected, DocumentTooLarge, DocumentError.
    """
    actual = sniff_media_type(data, media_type)
    if actual in PDF_TYPES:
        buffer = data if isinstance(data, bytearray) else bytearray(data)
        return Document(buffer, source_type=actual)
    pdf = bytearray(image_to_pdf(data, actual, paper))
    return Document(pdf, source_type=actual)


def _load_image(data: bytes | bytearray):  # type: ignore[no-untyped-def]
    """(decoded upright image, whether the original JPEG can be embedded as is).

    Raises:
        DocumentTooLarge, DocumentError.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(bytes(data)))
            width, height = img.size
            if width < 1 or height < 1:
                raise DocumentError("the image has no pixels")
            if width * height > MAX_IMAGE_PIXELS:
                raise DocumentTooLarge(
                    f"the image is {width} x {height} pixels; the kiosk handles at most "
                    f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels"
                )
            as_is = not _needs_decode(img)
            img.load()
            img = ImageOps.exif_transpose(img) or img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DocumentTooLarge("the image is too large to open safely") from None
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        struct.error,
        IndexError,
        KeyError,
        ZeroDivisionError,
    ):  # MemoryError: the worker limit
        raise DocumentError("the image is damaged and cannot be opened") from None
    return img, as_is


def _needs_decode(img) -> bool:  # type: ignore[no-untyped-def]
    """A JPEG can go into the PDF as is unless rotated by EXIF or not RGB/grey."""
    if img.format != "JPEG" or img.mode not in ("RGB", "L"):
        return True
    try:
        return int(img.getexif().get(0x0112, 1)) != 1
    except (ValueError, TypeError):
        return True


def image_to_pdf(data: bytes | bytearray, media_type: str, paper: str = "A4") -> bytes:
    """A one-page PDF of the paper size with the image fitted inside 10 mm margins.

    Landscape images get a landscape page. JPEGs without EXIF rotation are
    embedded as is (no re-encoding).

    Raises:
        DocumentTooLarge: beyond MAX_IMAGE_PIXELS.
        DocumentError: if the image cannot be decoded.
        UnsupportedMedia: unknown paper or media type.
    """
    from PIL import Image

    if media_type not in IMAGE_TYPES:
        raise UnsupportedMedia(f"{media_type} is not a supported image type")
    if paper not in PAPER_SIZES:
        raise UnsupportedMedia(f"unknown paper size {paper}")
    img, as_is = _load_image(data)
    if img.mode not in ("RGB", "L"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    pw, ph = PAPER_SIZES[paper]
    iw, ih = img.size
    if iw > ih:
        pw, ph = ph, pw
    box_w, box_h = pw - 2 * IMAGE_MARGIN_PT, ph - 2 * IMAGE_MARGIN_PT
    fit = min(box_w / iw, box_h / ih)
    dw, dh = iw * fit, ih * fit
    x, y = (pw - dw) / 2, (ph - dh) / 2
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument.new()
        try:
            page = pdf.new_page(pw, ph)
            image = pdfium.PdfImage.new(pdf)
            try:
                if as_is:
                    image.load_jpeg(io.BytesIO(bytes(data)), inline=True)
                else:
                    bitmap = pdfium.PdfBitmap.from_pil(img)
                    image.set_bitmap(bitmap)
                    bitmap.close()
                image.set_matrix(pdfium.PdfMatrix().scale(dw, dh).translate(x, y))
                page.insert_obj(image)
                page.gen_content()
            except pdfium.PdfiumError:
                raise DocumentError("the image cannot be placed on a page") from None
            out = io.BytesIO()
            pdf.save(out)
            page.close()
        finally:
            pdf.close()
    return out.getvalue()
