"""Rendering decrypted bytes: PDF, JPEG, PNG; broken, protected, huge inputs."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zlib

import pypdfium2 as pdfium
import pytest
from PIL import Image

from kiosk.core import render
from kiosk.core.demo import sample_image, sample_pdf
from kiosk.core.errors import (
    DocumentError,
    DocumentTooLarge,
    PasswordProtected,
    UnsupportedMedia,
)
from kiosk.core.options import PAPER_SIZES
from kiosk.core.render import open_document

PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: str, owner_password: str = "owner") -> bytes:
    """A real RC4-40 (Standard security handler, R2) encrypted one-page PDF."""
    user = (user_password.encode() + PAD)[:32]
    owner = (owner_password.encode() + PAD)[:32]
    o_value = rc4(hashlib.md5(owner).digest()[:5], user)
    file_id = hashlib.md5(b"cloudtab-test").digest()
    perms = struct.pack("<i", -4)
    key = hashlib.md5(user + o_value + perms + file_id).digest()[:5]
    u_value = rc4(key, PAD)
    content = b"0 0 1 rg 20 20 160 160 re f"
    obj_key = hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]
    stream = rc4(obj_key, content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + o_value.hex().encode()
        + b"> /U <"
        + u_value.hex().encode()
        + b"> /P -4 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 5 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        file_id.hex().encode(),
        file_id.hex().encode(),
        xref,
    )
    return bytes(out)


def not_blank(page: render.RenderedPage) -> bool:
    pixels = {page.rgba[i : i + 4] for i in range(0, len(page.rgba), 4 * 97)}
    return len(pixels) > 1 and any(p[:3] != b"\xff\xff\xff" for p in pixels)


def test_pdf_pages_size_and_pixels() -> None:
    doc = open_document(bytearray(sample_pdf(4, (612.0, 792.0))), "application/pdf")
    assert doc.page_count == 4
    assert doc.page_size(2) == pytest.approx((612.0, 792.0))
    page = doc.render(1, scale=0.5)
    assert (page.width, page.height) == (306, 396)
    assert len(page.rgba) == 306 * 396 * 4
    assert not_blank(page)
    fit = doc.render_fit(0, 200, 200)
    assert fit.height == 200 and fit.width < 200
    with pytest.raises(DocumentError):
        doc.render(4)
    doc.close()
    with pytest.raises(DocumentError):
        doc.render(0)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_images_become_a_page_of_the_paper_size(fmt: str, paper: str) -> None:
    data = sample_image(fmt, (480, 640))
    doc = open_document(bytearray(data), "image/" + fmt.lower(), paper)
    assert doc.page_count == 1
    assert doc.page_size(0) == pytest.approx(PAPER_SIZES[paper], abs=0.01)
    page = doc.render(0, 0.5)
    assert not_blank(page)
    # The middle of the page shows the image's blue ellipse.
    middle = (page.height // 2 * page.width + page.width // 2) * 4
    r, g, b = page.rgba[middle : middle + 3]
    assert b > 150 and r < 90, (r, g, b)


def test_landscape_image_gets_landscape_page() -> None:
    doc = open_document(sample_image("PNG", (900, 300)), "image/png", "A4")
    width, height = doc.page_size(0)
    assert width > height


def test_jpeg_is_embedded_without_reencoding() -> None:
    data = sample_image("JPEG", (300, 200))
    pdf = render.image_to_pdf(data, "image/jpeg", "A4")
    assert data[2:200] in pdf  # the JPEG stream itself sits in the PDF


def test_exif_rotated_jpeg_is_shown_upright() -> None:
    img = Image.new("RGB", (400, 200), (10, 10, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW when displayed: upright it is 200 x 400
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    doc = open_document(out.getvalue(), "image/jpeg", "A4")
    width, height = doc.page_size(0)
    assert height > width


@pytest.mark.parametrize(
    "data", [b"", b"%PDF-1.7\n garbage", b"hello world", b"\xff\xd8\xff\xe0 broken jpeg", b"\x89PNG\r\n\x1a\n\x00\x00"]
)
def test_malformed_files_are_clean_errors(data: bytes) -> None:
    with pytest.raises(DocumentError):
        open_document(bytearray(data), "application/pdf")


def test_unknown_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia):
        open_document(b"GIF89a....", "image/gif")


def test_password_protected_pdf_is_named_as_such() -> None:
    data = encrypted_pdf("secret")
    with pdfium.PdfDocument(data, password="secret") as opened:  # a genuine encrypted PDF
        assert len(opened) == 1
    with pytest.raises(PasswordProtected):
        open_document(bytearray(data), "application/pdf")


def test_owner_password_only_pdf_opens() -> None:
    doc = open_document(encrypted_pdf(""), "application/pdf")
    assert doc.page_count == 1
    assert not_blank(doc.render(0))


def test_two_thousand_pages_open_lazily() -> None:
    data = sample_pdf(2000, text=False)
    start = time.perf_counter()
    doc = open_document(bytearray(data), "application/pdf")
    page = doc.render(1999, 0.25)
    elapsed = time.perf_counter() - start
    assert doc.page_count == 2000
    assert page.width > 0
    assert elapsed < 2.0, f"opening a 2,000-page PDF took {elapsed:.2f} s"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming a huge size whose data is one compressed row (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width * 3 + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_huge_image_is_rejected_before_decoding() -> None:
    start = time.perf_counter()
    with pytest.raises(DocumentTooLarge):
        open_document(png_header_only(40_000, 40_000), "image/png")
    assert time.perf_counter() - start < 1.0


def test_render_size_is_capped() -> None:
    doc = open_document(sample_pdf(1, (14_000.0, 14_000.0)), "application/pdf")
    page = doc.render(0, scale=4.0)
    assert page.width * page.height <= render.MAX_RENDER_PIXELS
    assert page.width == page.height


def test_close_wipes_the_buffer() -> None:
    buffer = bytearray(sample_pdf(2))
    doc = open_document(buffer, "application/pdf")
    assert doc.pdf_bytes() == bytes(buffer)
    doc.close()
    assert len(buffer) > 0 and not any(buffer)
