"""Hostile files the kiosk tests generate themselves (docs/security.md T24-T29).

Each builder returns bytes that hurt a naive decoder: a progressive JPEG whose
thousands of empty scans each walk every block of a large image, a PNG that
decodes to hundreds of megabytes, page trees pdfium cannot walk, a PDF with
scripts, actions, an attachment and a ZIP appended.
"""

from __future__ import annotations

import io
import struct
import zipfile

from tests.security import pdfs


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def _stuff(bits: str) -> bytes:
    """Entropy-coded bytes from a bit string, padded with ones, 0xFF byte-stuffed."""
    bits += "1" * (-len(bits) % 8)
    out = bytearray()
    for pos in range(0, len(bits), 8):
        byte = int(bits[pos : pos + 8], 2)
        out.append(byte)
        if byte == 0xFF:
            out.append(0)
    return bytes(out)


def progressive_jpeg_scans(side: int = 7000, scans: int = 20_000) -> bytes:
    """A grey progressive JPEG of side x side pixels with ``scans`` empty AC scans.

    Each scan is ~50 bytes (runs of 32,767 empty blocks) yet makes the decoder
    visit every one of the image's blocks: ~1 MB that decodes for minutes.
    """
    blocks = ((side + 7) // 8) ** 2
    out = bytearray(b"\xff\xd8")
    out += _segment(0xFFDB, b"\x00" + b"\x01" * 64)
    out += _segment(0xFFC2, struct.pack(">BHHB", 8, side, side, 1) + b"\x01\x11\x00")
    one_code = b"\x01" + b"\x00" * 15  # one Huffman code of length 1
    out += _segment(0xFFC4, b"\x00" + one_code + b"\x00")  # DC: category 0 only
    out += _segment(0xFFC4, b"\x10" + one_code + b"\xe0")  # AC: EOB14 only
    out += _segment(0xFFDA, b"\x01\x01\x00\x00\x00\x00")  # DC first scan
    out += _stuff("0" * blocks)
    run = "0" + "1" * 14  # EOB14 with all extra bits: 32,767 empty blocks
    ac = _segment(0xFFDA, b"\x01\x01\x00\x01\x3f\x00") + _stuff(run * (blocks // 32767 + 1))
    out += ac * scans
    out += b"\xff\xd9"
    return bytes(out)


def png_rgb_bomb(side: int = 7000) -> bytes:
    """An RGB PNG of side x side black pixels: small, ~150 MB decoded (under the pixel cap)."""
    import zlib

    compressor = zlib.compressobj(9)
    row = b"\0" * (side * 3 + 1)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + pdfs._chunk(b"IHDR", ihdr) + pdfs._chunk(b"IDAT", data) + pdfs._chunk(b"IEND", b"")


def self_kid_page_tree() -> bytes:
    """A page tree whose only kid is itself."""
    return pdfs.build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])


def deep_page_tree(depth: int = 5000) -> bytes:
    """One page under ``depth`` nested /Pages nodes."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (level + 3))
    objects.append(b"<< /Type /Page /MediaBox [0 0 595 842] >>")
    return pdfs.build_pdf(objects)


def thin_page(box: bytes) -> bytes:
    """One page with a MediaBox such as [0 0 9999999999 1]."""
    return pdfs.build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox " + box + b" >>",
        ]
    )


EXE = b"MZ\x90\x00" + b"evil-payload-" * 8


def polyglot_pdf(callback_url: str = "http://127.0.0.1:9/cb") -> bytes:
    """A PDF with document JavaScript, an open action, page actions, a launch action,
    an embedded .exe, a link annotation running JavaScript, and a ZIP appended."""
    content = b"BT /F1 24 Tf 72 720 Td (Hostile) Tj ET"
    js = b"app.launchURL('" + callback_url.encode() + b"', true);"
    pdf = pdfs.build_pdf(
        [
            (
                b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /Names << /JavaScript 7 0 R "
                b"/EmbeddedFiles 8 0 R >> /AA << /WC 6 0 R >> >>"
            ),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> /AA << /O 6 0 R /C 11 0 R >> /Annots [12 0 R 13 0 R] >>"
            ),
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Action /S /JavaScript /JS (" + js + b") >>",
            b"<< /Names [(open) 6 0 R] >>",
            b"<< /Names [(evil.exe) 9 0 R] >>",
            b"<< /Type /Filespec /F (evil.exe) /UF (evil.exe) /EF << /F 10 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(EXE) + EXE + b"\nendstream",
            b"<< /Type /Action /S /Launch /F (evil.exe) >>",
            b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 740] /A 6 0 R >>",
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [300 300 320 320] /FS 9 0 R >>",
        ]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", EXE)
    return pdf + buffer.getvalue()


FORBIDDEN = (
    b"/JavaScript",
    b"/JS",
    b"/AA",
    b"/OpenAction",
    b"/Launch",
    b"/EmbeddedFile",
    b"/Annots",
    b"/Filespec",
    b"PK\x03\x04",
    b"evil",
    b"MZ\x90",
)
