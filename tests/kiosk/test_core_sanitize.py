"""kiosk.core.sanitize: the rewritten PDF draws exactly what the original draws."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from PIL import ImageChops

from kiosk.core.sanitize import rewrite_pdf
from tests.security import pdfs


def _page(box: bytes, extra: bytes = b"") -> bytes:
    content = b"0 0 1 rg 150 150 100 100 re f 1 0 0 rg 20 20 30 60 re f"
    return pdfs.build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox " + box + extra + b" /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        ]
    )


@pytest.mark.parametrize(
    ("box", "extra"),
    [
        (b"[0 0 400 200]", b""),
        (b"[100 100 500 500]", b""),
        (b"[0 0 400 200]", b" /Rotate 90"),
        (b"[0 0 400 200]", b" /Rotate 270"),
        (b"[0 0 400 400]", b" /CropBox [100 100 300 300]"),
    ],
)
def test_rewritten_page_renders_like_the_original(box: bytes, extra: bytes) -> None:
    original = _page(box, extra)
    rewritten = rewrite_pdf(pdfium.PdfDocument(original))
    a = pdfium.PdfDocument(original)[0].render(scale=0.5).to_pil().convert("RGB")
    b = pdfium.PdfDocument(rewritten)[0].render(scale=0.5).to_pil().convert("RGB")
    assert a.size == b.size
    assert ImageChops.difference(a, b).getbbox() is None
