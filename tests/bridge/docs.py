"""Small real documents for the page tests: multi-page PDFs drawn with vector shapes
(no fonts, so pdf.js needs nothing but itself) and PNG photos from Pillow."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def pdf_bytes(pages: int, marker: bytes = b"", pad_to: int = 0) -> bytes:
    """A valid PDF of ``pages`` A4 pages, each with coloured bars (page n has n bars).

    ``marker`` goes into a comment; ``pad_to`` pads with comment lines to about that size.
    """
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for i in range(pages):
        bars = "".join(
            f"{0.2 + 0.1 * (k % 5):.2f} 0.35 0.8 rg 60 {700 - 60 * k} {120 + 40 * k} 40 re f\n" for k in range(i + 1)
        )
        stream = (f"0.95 0.95 0.9 rg 0 0 595 842 re f\n0.1 0.1 0.1 rg 40 760 515 30 re f\n{bars}").encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if marker:
        out += b"% " + marker + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    filler = b"% " + (marker or b"padding") + b" lorem ipsum dolor sit amet\n"
    while len(out) < pad_to - 200:
        out += filler
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes(width: int = 640, height: int = 480, colour: tuple[int, int, int] = (220, 120, 40)) -> bytes:
    """A PNG photo-like picture: a sky, a sun and a field."""
    image = Image.new("RGB", (width, height), (120, 180, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(70, 150, 60))
    draw.ellipse((width // 2, height // 8, width // 2 + height // 4, height // 8 + height // 4), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
