"""Photos as phones take them become pages: HEIC, WebP, GIF, TIFF, EXIF orientation,
fit/fill and photo sizes; bombs are refused before their pixels are decoded.
"""

from __future__ import annotations

import io
import struct
import time
import zlib

import pypdfium2 as pdfium
import pytest
from PIL import Image

from kiosk.core import images
from kiosk.core.errors import DocumentError, DocumentTooLarge
from kiosk.core.images import PhotoLayout, photos_to_pdf
from kiosk.core.options import MM


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    img.save(out, format=fmt, **kw)
    return out.getvalue()


def two_halves(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """Left half red, right half blue."""
    img = Image.new("RGB", size, (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    return img


def layout_of(pdf: bytes) -> list[tuple[tuple[float, float], list[tuple[float, float, float, float]]]]:
    """Per page: (page size, boxes of its image objects) in points."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [
            (
                page.get_size(),
                [obj.get_bounds() for obj in page.get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE],
            )
            for page in doc
        ]
    finally:
        doc.close()


def pixel(pdf: bytes, fx: float, fy: float) -> tuple[int, int, int]:
    """RGB at a fraction of page 1's width/height (from the top left)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        pil = doc[0].render(scale=0.5).to_pil().convert("RGB")
        return pil.getpixel((int(pil.width * fx), int(pil.height * fy)))
    finally:
        doc.close()


@pytest.mark.parametrize(
    ("fmt", "media_type", "kw"),
    [
        ("HEIF", "image/heic", {"quality": 90}),
        ("WEBP", "image/webp", {"quality": 90}),
        ("PNG", "image/png", {}),
        ("JPEG", "image/jpeg", {"quality": 90}),
    ],
)
def test_each_photo_type_becomes_one_landscape_page(fmt: str, media_type: str, kw: dict) -> None:
    pdf = photos_to_pdf(encode(two_halves(), fmt, **kw), media_type)
    [(size, boxes)] = layout_of(pdf)
    assert size[0] > size[1] and len(boxes) == 1
    assert pixel(pdf, 0.3, 0.5)[0] > 200 and pixel(pdf, 0.7, 0.5)[2] > 200  # red left, blue right


def test_animated_gif_prints_its_first_frame_only() -> None:
    frames = [Image.new("RGB", (100, 100), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    pdf = photos_to_pdf(gif, "image/gif")
    assert len(layout_of(pdf)) == 1
    r, g, b = pixel(pdf, 0.5, 0.5)
    assert r > 200 and g < 60 and b < 60


def test_multi_page_tiff_gives_a_page_per_page() -> None:
    pages = [Image.new("RGB", (120, 160), (40 * n, 0, 0)) for n in range(3)]
    tiff = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    assert len(layout_of(photos_to_pdf(tiff, "image/tiff"))) == 3


def test_exif_orientation_is_honoured() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned left: show it turned 90 degrees clockwise
    jpeg = encode(two_halves(), "JPEG", exif=exif.tobytes(), quality=95)
    pdf = photos_to_pdf(jpeg, "image/jpeg")
    [(size, _)] = layout_of(pdf)
    assert size[0] < size[1]  # upright it is a portrait photo
    assert pixel(pdf, 0.5, 0.3)[0] > 200 and pixel(pdf, 0.5, 0.7)[2] > 200  # red on top, blue below


def test_fit_keeps_margins_and_fill_covers_the_page() -> None:
    png = encode(two_halves((300, 200)), "PNG")
    fit = photos_to_pdf(png, "image/png", "A4", PhotoLayout(fit="fit"))
    fill = photos_to_pdf(png, "image/png", "A4", PhotoLayout(fit="fill"))
    assert pixel(fit, 0.01, 0.01) == (255, 255, 255)
    assert pixel(fill, 0.01, 0.01)[0] > 200 and pixel(fill, 0.99, 0.99)[2] > 200
    [(size, [box])] = layout_of(fill)
    assert box == pytest.approx((0, 0, size[0], size[1]), abs=0.5)


@pytest.mark.parametrize(
    ("size", "per_sheet", "paper", "short", "long"),
    [
        ("10x15", 1, "A4", 100 * MM, 150 * MM),
        ("10x15", 2, "A4", 100 * MM, 150 * MM),
        ("4x6", 2, "Letter", 4 * 72, 6 * 72),
        ("10x15", 4, "A3", 100 * MM, 150 * MM),
    ],
)
def test_photo_sizes_print_at_their_size(size: str, per_sheet: int, paper: str, short: float, long: float) -> None:
    png = encode(two_halves((600, 400)), "PNG")
    pdf = photos_to_pdf(png, "image/png", paper, PhotoLayout(fit="fill", size=size, per_sheet=per_sheet))
    [(_, boxes)] = layout_of(pdf)
    assert len(boxes) == per_sheet  # one photo repeated: prints of one photo
    for left, bottom, right, top in boxes:
        assert sorted((right - left, top - bottom)) == pytest.approx([short, long], abs=0.5)


def test_four_photos_of_10x15_do_not_fit_on_a4_and_say_so() -> None:
    with pytest.raises(DocumentError, match="4 photos of 10x15 do not fit on A4"):
        photos_to_pdf(encode(two_halves(), "PNG"), "image/png", "A4", PhotoLayout(size="10x15", per_sheet=4))


def test_four_to_a_sheet_at_page_size_uses_quarters() -> None:
    pdf = photos_to_pdf(encode(two_halves(), "PNG"), "image/png", "A4", PhotoLayout(per_sheet=4))
    [(_, boxes)] = layout_of(pdf)
    assert len(boxes) == 4


def test_heic_decompression_bomb_is_refused_before_decoding() -> None:
    heic = bytearray(encode(Image.new("RGB", (64, 64), (0, 200, 0)), "HEIF"))
    box = heic.find(b"ispe")
    struct.pack_into(">II", heic, box + 8, 50_000, 50_000)  # claims 2.5 gigapixels
    started = time.monotonic()
    with pytest.raises(DocumentTooLarge, match="too large"):
        photos_to_pdf(bytes(heic), "image/heic")
    assert time.monotonic() - started < 5


def test_photo_over_the_pixel_limit_is_refused() -> None:
    png = bytearray(encode(Image.new("L", (8, 8)), "PNG"))
    struct.pack_into(">II", png, 16, 9000, 9000)  # IHDR width/height: 81 megapixels
    struct.pack_into(">I", png, 29, zlib.crc32(bytes(png[12:29])))  # with a correct checksum
    with pytest.raises(DocumentTooLarge, match="megapixels|too large"):
        photos_to_pdf(bytes(png), "image/png")


def test_tiff_with_ten_thousand_pages_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(DocumentTooLarge, match=f"more than {images.MAX_FRAMES} pages"):
        photos_to_pdf(tiff_pages(10_000), "image/tiff")
    assert time.monotonic() - started < 10


def test_a_pdf_named_as_a_photo_is_refused() -> None:
    with pytest.raises(DocumentError, match="not a HEIC photo"):
        photos_to_pdf(b"%PDF-1.7\n%%EOF\n", "image/heic")


def tiff_pages(count: int) -> bytes:
    """A little-endian TIFF of ``count`` 1x1 grey pages, written directly (Pillow is quadratic here)."""
    entries = 8
    ifd_size = 2 + entries * 12 + 4
    block = ifd_size + 2  # IFD, then its one pixel (padded)
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for n in range(count):
        start = 8 + n * block
        pixel_at = start + ifd_size
        next_ifd = start + block if n + 1 < count else 0
        tags = [
            (256, 3, 1),
            (257, 3, 1),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, pixel_at),
            (278, 3, 1),
            (279, 4, 1),
        ]
        out += struct.pack("<H", entries)
        for tag, kind, value in tags:
            out += struct.pack("<HHII", tag, kind, 1, value)
        out += struct.pack("<I", next_ifd) + b"\x80\x00"
    return bytes(out)
