"""Hand-made hostile documents for the kiosk tests: PDFs with JavaScript and
attachments, valid seeds to mutate, PNG decompression bombs."""

from __future__ import annotations

import io
import os
import struct
import zlib


def build_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF with a correct xref table from numbered object bodies (1-based)."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def simple_pdf(text: bytes = b"Hello", pad: int = 0) -> bytes:
    """A one-page A4 PDF showing ``text``; ``pad`` random bytes in an unused stream."""
    content = b"BT /F1 24 Tf 72 720 Td (" + text + b") Tj ET 0 0 1 rg 72 72 200 200 re f"
    filler = os.urandom(pad)
    extra = [b"<< /Length %d >>\nstream\n" % len(filler) + filler + b"\nendstream"] if pad else []
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>"
            ),
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *extra,
        ]
    )


def hostile_pdf(callback_url: str, attachment_name: bytes, attachment: bytes) -> bytes:
    """A page with an /OpenAction JavaScript that calls ``callback_url``, a page
    /AA action doing the same, a launch action, and an embedded file."""
    js = (
        b"app.launchURL('" + callback_url.encode() + b"', true); "
        b"this.exportDataObject({cName: '" + attachment_name + b"', nLaunch: 2});"
    )
    content = b"BT /F1 24 Tf 72 720 Td (Hostile) Tj ET"
    return build_pdf(
        [
            (
                b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /Names << /JavaScript 7 0 R "
                b"/EmbeddedFiles 8 0 R >> /AA << /WC 6 0 R >> >>"
            ),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> /AA << /O 6 0 R /C 11 0 R >> >>"
            ),
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Action /S /JavaScript /JS (" + js + b") >>",
            b"<< /Names [(open) 6 0 R] >>",
            b"<< /Names [(" + attachment_name + b") 9 0 R] >>",
            b"<< /Type /Filespec /F (" + attachment_name + b") /UF (" + attachment_name + b") /EF << /F 10 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(attachment) + attachment + b"\nendstream",
            b"<< /Type /Action /S /Launch /F (" + attachment_name + b") >>",
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A greyscale PNG of width x height zero pixels: tiny on disk, huge decoded."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + pixels
    parts = []
    for _ in range(height):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def png_header_bomb(width: int, height: int) -> bytes:
    """A PNG that only claims huge dimensions (tiny IDAT): must be refused from the header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def small_png() -> bytes:
    """A valid 32x24 RGB PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def small_jpeg() -> bytes:
    """A valid 32x24 JPEG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 200, 30)).save(buffer, "JPEG")
    return buffer.getvalue()
