"""Photos as phones take them, onto paper: HEIC/HEIF, WebP, GIF, TIFF, JPEG, PNG.

:func:`photos_to_pdf` decodes the photo (every page of a TIFF, the first
frame of an animated GIF or WebP), turns it upright by its EXIF orientation
and places it on pages of the paper size according to a :class:`PhotoLayout`:
fitted inside margins or filling the page (cropped), at the page's size or at
a photo size (10x15 cm, 4x6 in), one, two or four to a sheet.

Sizes are checked before pixels are decoded (the header's width x height,
the number of TIFF pages), so a decompression bomb is refused, not decoded.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium

from kiosk.core.errors import DocumentError, DocumentTooLarge, UnsupportedMedia
from kiosk.core.options import MM, PAPER_SIZES
from kiosk.core.render import PDFIUM_LOCK

MAX_PIXELS = 60_000_000  # per frame: a 9000 x 6700 photo, ~180 MB decoded
MAX_TOTAL_PIXELS = 200_000_000  # all frames of one file together
MAX_FRAMES = 100  # pages of one TIFF
MARGIN_PT = 10 * MM
PHOTO_SIZES: dict[str, tuple[float, float]] = {  # portrait, points
    "10x15": (100 * MM, 150 * MM),
    "4x6": (4 * 72.0, 6 * 72.0),
}
FORMATS = {  # media type -> Pillow formats it may be
    "image/jpeg": ("JPEG", "MPO"),
    "image/png": ("PNG",),
    "image/webp": ("WEBP",),
    "image/gif": ("GIF",),
    "image/tiff": ("TIFF",),
    "image/heic": ("HEIF",),
    "image/heif": ("HEIF",),
}
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    ZeroDivisionError,
    TypeError,
)


@dataclass(frozen=True)
class PhotoLayout:
    """How photos go on paper.

    ``fit``: "fit" (whole photo inside 10 mm margins) or "fill" (photo covers
    its cell, edges cropped). ``size``: "page" (the cell is the page or its
    half/quarter) or a PHOTO_SIZES key. ``per_sheet``: 1, 2 or 4 cells per
    sheet; a single photo is repeated in every cell (prints of one photo).
    """

    fit: str = "fit"
    size: str = "page"
    per_sheet: int = 1

    def validate(self) -> None:
        """Raises ValueError for a value outside the vocabulary."""
        if self.fit not in ("fit", "fill"):
            raise ValueError(f"unknown fit {self.fit!r}")
        if self.size != "page" and self.size not in PHOTO_SIZES:
            raise ValueError(f"unknown photo size {self.size!r}")
        if self.per_sheet not in (1, 2, 4):
            raise ValueError("photos per sheet must be 1, 2 or 4")

    def fits(self, paper: str) -> bool:
        """Whether this many photos of this size go on one sheet of ``paper`` (either way round).

        The page checks the same before it lets a customer choose (web_bridge/static/js/order.js).
        """
        pw, ph = PAPER_SIZES[paper]
        return any(_cells(w, h, self, False) is not None for w, h in ((pw, ph), (ph, pw)))


def load_frames(data: bytes | bytearray, media_type: str) -> list[Any]:
    """The upright RGB frames of a photo (PIL images).

    Raises:
        UnsupportedMedia: not a photo type, or HEIC without pillow-heif.
        DocumentTooLarge: over MAX_PIXELS per frame, MAX_TOTAL_PIXELS or MAX_FRAMES.
        DocumentError: damaged, or the bytes are another kind of image than declared.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if media_type not in FORMATS:
        raise UnsupportedMedia(f"{media_type or 'this file'} is not a photo type the kiosk prints")
    _register_heif(required=media_type in ("image/heic", "image/heif"))
    frames: list[Any] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)), formats=list(_allowed_formats(media_type)))
            total = 0
            count = _frame_count(img) if img.format == "TIFF" else 1  # GIF, WebP, MPO, HEIF: the first
            for index in range(count):
                if index:
                    img.seek(index)
                width, height = img.size
                if width < 1 or height < 1:
                    raise DocumentError("the photo has no pixels")
                if width * height > MAX_PIXELS:
                    raise DocumentTooLarge(
                        f"the photo is {width} x {height} pixels; the kiosk opens at most "
                        f"{MAX_PIXELS // 1_000_000} megapixels"
                    )
                total += width * height
                if total > MAX_TOTAL_PIXELS:
                    raise DocumentTooLarge("the photo's pages together are too large to open safely")
                frames.append(_flatten(ImageOps.exif_transpose(img.copy())))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise DocumentTooLarge("the photo is too large to open safely") from None
    except UnidentifiedImageError:
        raise DocumentError(f"this file is not a {_label(media_type)} photo, or it is damaged") from None
    except _DECODE_ERRORS:
        raise DocumentError("the photo is damaged and cannot be opened") from None
    return frames


def photos_to_pdf(
    data: bytes | bytearray, media_type: str, paper: str = "A4", layout: PhotoLayout | None = None
) -> bytes:
    """A PDF of the photo's frames laid out on ``paper`` pages.

    Raises:
        UnsupportedMedia, DocumentTooLarge, DocumentError: as load_frames;
        DocumentError also when the photo size does not fit the paper.
    """
    layout = layout or PhotoLayout()
    try:
        layout.validate()
    except ValueError as exc:
        raise DocumentError(str(exc)) from None
    if paper not in PAPER_SIZES:
        raise UnsupportedMedia(f"unknown paper size {paper}")
    frames = load_frames(data, media_type)
    if len(frames) == 1 and layout.per_sheet > 1:
        frames = frames * layout.per_sheet
    sheets = [frames[i : i + layout.per_sheet] for i in range(0, len(frames), layout.per_sheet)]
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument.new()
        try:
            for sheet in sheets:
                _add_sheet(pdf, sheet, paper, layout)
            out = io.BytesIO()
            pdf.save(out)
        except pdfium.PdfiumError:
            raise DocumentError("the photo cannot be placed on a page") from None
        finally:
            pdf.close()
    return out.getvalue()


def _add_sheet(pdf: pdfium.PdfDocument, frames: list[Any], paper: str, layout: PhotoLayout) -> None:
    pw, ph = PAPER_SIZES[paper]
    first_w, first_h = frames[0].size
    landscape_photo = first_w > first_h
    if layout.size == "page" and layout.per_sheet == 1 and landscape_photo:
        pw, ph = ph, pw
    cells = _cells(pw, ph, layout, landscape_photo)
    if cells is None:  # try the sheet the other way round
        pw, ph = ph, pw
        cells = _cells(pw, ph, layout, landscape_photo)
    if cells is None:
        raise DocumentError(f"{layout.per_sheet} photos of {layout.size} do not fit on {paper} paper")
    page = pdf.new_page(pw, ph)
    try:
        for frame, (cx, cy, cw, ch) in zip(frames, cells, strict=False):
            image = frame
            iw, ih = image.size
            if layout.size != "page" and (iw > ih) != (cw > ch):
                image = image.rotate(90, expand=True)  # turn the photo to the cell, never squash it
                iw, ih = image.size
            if layout.fit == "fill":
                scale = max(cw / iw, ch / ih)
                crop_w, crop_h = cw / scale, ch / scale
                left, top = (iw - crop_w) / 2, (ih - crop_h) / 2
                image = image.crop((round(left), round(top), round(left + crop_w), round(top + crop_h)))
                dw, dh, x, y = cw, ch, cx, cy
            else:
                scale = min(cw / iw, ch / ih)
                dw, dh = iw * scale, ih * scale
                x, y = cx + (cw - dw) / 2, cy + (ch - dh) / 2
            obj = pdfium.PdfImage.new(pdf)
            bitmap = pdfium.PdfBitmap.from_pil(image)
            obj.set_bitmap(bitmap)
            bitmap.close()
            obj.set_matrix(pdfium.PdfMatrix().scale(dw, dh).translate(x, y))
            page.insert_obj(obj)
        page.gen_content()
    finally:
        page.close()


def _cells(
    pw: float, ph: float, layout: PhotoLayout, landscape_photo: bool
) -> list[tuple[float, float, float, float]] | None:
    """(x, y, w, h) boxes in points, bottom-left origin, or None if they do not fit."""
    n = layout.per_sheet
    if layout.size == "page":
        margin = MARGIN_PT if layout.fit == "fit" else 0.0
        cols, rows = (1, 1) if n == 1 else (2, 2) if n == 4 else ((1, 2) if ph >= pw else (2, 1))
        cw, ch = (pw - 2 * margin) / cols, (ph - 2 * margin) / rows
        return _grid(pw, ph, cols, rows, cw, ch)
    short, long = PHOTO_SIZES[layout.size]
    grids = {1: [(1, 1)], 2: [(1, 2), (2, 1)], 4: [(2, 2)]}[n]
    shapes = [(long, short), (short, long)] if landscape_photo else [(short, long), (long, short)]
    for cw, ch in shapes:  # the photo's own orientation first
        for cols, rows in grids:
            if cols * cw <= pw - 2 * MARGIN_PT and rows * ch <= ph - 2 * MARGIN_PT:
                return _grid(pw, ph, cols, rows, cw, ch)
    return None


def _grid(pw: float, ph: float, cols: int, rows: int, cw: float, ch: float) -> list[tuple[float, float, float, float]]:
    x0, y0 = (pw - cols * cw) / 2, (ph - rows * ch) / 2
    return [(x0 + c * cw, y0 + (rows - 1 - r) * ch, cw, ch) for r in range(rows) for c in range(cols)]


def _frame_count(img: Any) -> int:
    """Pages of a multi-page image, counted without decoding, refused past MAX_FRAMES."""
    count = 1
    try:
        while True:
            img.seek(count)
            count += 1
            if count > MAX_FRAMES:
                raise DocumentTooLarge(
                    f"the image has more than {MAX_FRAMES} pages; the kiosk prints at most {MAX_FRAMES} from one file"
                )
    except EOFError:
        pass
    img.seek(0)
    return count


def _flatten(img: Any) -> Any:
    """RGB (or L), transparent parts on white."""
    from PIL import Image

    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return img.convert("L")
    rgba = img.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _allowed_formats(media_type: str) -> tuple[str, ...]:
    """Pillow formats to try: the declared kind first, any photo kind (bytes decide, within photos)."""
    from PIL import Image

    Image.init()
    every = FORMATS[media_type] + tuple(f for formats in FORMATS.values() for f in formats)
    return tuple(f for f in dict.fromkeys(every) if f in Image.OPEN)  # only what this Pillow can open


def _label(media_type: str) -> str:
    return media_type.split("/")[-1].upper()


def _register_heif(required: bool) -> None:
    try:
        import pillow_heif
    except ImportError:
        if required:
            raise UnsupportedMedia("this kiosk cannot open HEIC photos (pillow-heif is not installed)") from None
        return
    pillow_heif.register_heif_opener()
