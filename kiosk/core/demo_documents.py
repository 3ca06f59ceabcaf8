"""Real Office documents made by LibreOffice itself, for tests, benchmarks and demos.

Flat ODF text (.fodt/.fods/.fodp, A4, one page per "page" with explicit page
breaks) is written here and LibreOffice converts it to the kind asked for, so
the files are what LibreOffice really writes, not hand-made imitations. Trusted
input only: this is not the sandboxed customer path (:mod:`kiosk.core.convert`).
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from kiosk.core.convert import find_soffice

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'office:version="1.3"'
)
SOURCE = {
    "docx": "fodt",
    "doc": "fodt",
    "odt": "fodt",
    "rtf": "fodt",
    "xlsx": "fods",
    "ods": "fods",
    "pptx": "fodp",
    "odp": "fodp",
}
FILTER = {"doc": "doc:MS Word 97", "rtf": "rtf:Rich Text Format"}
A4 = (
    '<style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm" '
    'fo:page-height="29.7cm" fo:margin="2cm"/></style:page-layout>'
)


def _png() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 200), (250, 250, 250))
    ImageDraw.Draw(img).ellipse((40, 20, 280, 180), fill=(20, 90, 200))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def text_fodt(pages: int = 10, body: str = "", extra_content: str = "") -> str:
    """A flat ODT of ``pages`` A4 pages; page 1 has a table and an image."""
    image = base64.b64encode(_png()).decode()
    parts = []
    for n in range(1, pages + 1):
        style = ' text:style-name="Break"' if n > 1 else ""
        parts.append(f'<text:h{style} text:outline-level="1">Page {n}</text:h>')
        parts.append(f"<text:p>{escape(body or 'CloudTab test document, converted at the kiosk.')}</text:p>")
        if n == 1:
            rows = "".join(
                f"<table:table-row><table:table-cell><text:p>Item {r}</text:p></table:table-cell>"
                f"<table:table-cell><text:p>{r * 3} EUR</text:p></table:table-cell></table:table-row>"
                for r in range(1, 6)
            )
            parts.append(
                f'<table:table table:name="Prices"><table:table-column table:number-columns-repeated="2"/>'
                f"{rows}</table:table>"
            )
            parts.append(
                '<text:p><draw:frame draw:name="Picture" text:anchor-type="as-char" svg:width="6cm" '
                f'svg:height="3.75cm"><draw:image><office:binary-data>{image}</office:binary-data>'
                "</draw:image></draw:frame></text:p>"
            )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document {NS} office:mimetype='
        f'"application/vnd.oasis.opendocument.text"><office:automatic-styles>{A4}'
        '<style:style style:name="Break" style:family="paragraph"><style:paragraph-properties '
        'fo:break-before="page"/></style:style></office:automatic-styles><office:master-styles>'
        '<style:master-page style:name="Standard" style:page-layout-name="pm1"/></office:master-styles>'
        f"{extra_content}<office:body><office:text>{''.join(parts)}</office:text></office:body></office:document>"
    )


def sheet_fods(pages: int = 10, rows_per_page: int = 20) -> str:
    """A flat ODS whose one sheet prints on ``pages`` pages (a manual break every page)."""
    rows = []
    for n in range(pages * rows_per_page):
        style = "Break" if n and n % rows_per_page == 0 else "Row"
        rows.append(
            f'<table:table-row table:style-name="{style}"><table:table-cell office:value-type="float" '
            f'office:value="{n}"><text:p>{n}</text:p></table:table-cell><table:table-cell '
            f'office:value-type="string"><text:p>Row {n}</text:p></table:table-cell></table:table-row>'
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document {NS} office:mimetype='
        f'"application/vnd.oasis.opendocument.spreadsheet"><office:automatic-styles>{A4}'
        '<style:style style:name="Row" style:family="table-row"><style:table-row-properties '
        'style:row-height="0.5cm"/></style:style>'
        '<style:style style:name="Break" style:family="table-row"><style:table-row-properties '
        'style:row-height="0.5cm" fo:break-before="page"/></style:style></office:automatic-styles>'
        '<office:master-styles><style:master-page style:name="Default" style:page-layout-name="pm1"/>'
        '</office:master-styles><office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f'<table:table-column table:number-columns-repeated="2"/>{"".join(rows)}</table:table>'
        "</office:spreadsheet></office:body></office:document>"
    )


def slides_fodp(pages: int = 10) -> str:
    """A flat ODP of ``pages`` slides with a title each."""
    slides = "".join(
        f'<draw:page draw:name="Slide {n}" draw:master-page-name="Default"><draw:frame svg:x="2cm" '
        f'svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Slide {n}</text:p>'
        "</draw:text-box></draw:frame></draw:page>"
        for n in range(1, pages + 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document {NS} office:mimetype='
        '"application/vnd.oasis.opendocument.presentation"><office:automatic-styles>'
        '<style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="28cm" '
        'fo:page-height="15.75cm" style:print-orientation="landscape"/></style:page-layout>'
        '</office:automatic-styles><office:master-styles><style:master-page style:name="Default" '
        f'style:page-layout-name="pm1"/></office:master-styles><office:body><office:presentation>{slides}'
        "</office:presentation></office:body></office:document>"
    )


def flat_source(kind: str, pages: int = 10) -> tuple[str, str]:
    """(extension, flat ODF text) LibreOffice converts into ``kind``."""
    ext = SOURCE[kind]
    if ext == "fodt":
        return ext, text_fodt(pages)
    if ext == "fods":
        return ext, sheet_fods(pages)
    return ext, slides_fodp(pages)


def libreoffice_convert(sources: dict[str, bytes], target: str, timeout: float = 240) -> dict[str, bytes]:
    """Convert {file name: bytes} to ``target`` (e.g. "docx", "doc:MS Word 97") in one LibreOffice run.

    Raises:
        RuntimeError: LibreOffice is missing or wrote no output for some file.
    """
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    ext = target.split(":")[0]
    work = Path(tempfile.mkdtemp(prefix="cloudtab-demo-docs-"))
    try:
        for name, data in sources.items():
            (work / name).write_bytes(data)
        result = subprocess.run(
            [
                str(soffice),
                "--headless",
                "--norestore",
                "--nologo",
                "--nodefault",
                "--nolockcheck",
                f"-env:UserInstallation=file://{work}/profile",
                "--convert-to",
                target,
                "--outdir",
                str(work / "out"),
                *sorted(str(work / n) for n in sources),
            ],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        out = {}
        for name in sources:
            path = work / "out" / f"{Path(name).stem}.{ext}"
            if not path.is_file():
                raise RuntimeError(f"LibreOffice did not convert {name}: {result.stdout[-500:]!r}")
            out[name] = path.read_bytes()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_document(kind: str, pages: int = 10) -> bytes:
    """A ``pages``-page document of ``kind`` (docx, doc, odt, rtf, xlsx, ods, pptx, odp, txt)."""
    if kind == "txt":
        return "\f".join(f"Page {n}\n" + "CloudTab text line.\n" * 10 for n in range(1, pages + 1)).encode()
    if kind == "ods":
        # why: an .ods written from our .fods printed only its first page here (LibreOffice 7.4.7);
        # written from the .xlsx it prints every page
        return libreoffice_convert({"sample.xlsx": make_document("xlsx", pages)}, "ods")["sample.xlsx"]
    ext, text = flat_source(kind, pages)
    name = f"sample.{ext}"
    return libreoffice_convert({name: text.encode()}, FILTER.get(kind, kind))[name]
