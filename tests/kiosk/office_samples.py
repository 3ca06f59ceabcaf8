"""Hostile Office documents for the conversion tests, built byte by byte.

Each builder returns the bytes a customer could upload; none needs LibreOffice.
"""

from __future__ import annotations

import io
import zipfile

ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:ooo="http://openoffice.org/2004/office" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'office:version="1.3"'
)
ODT_MIME = "application/vnd.oasis.opendocument.text"


def odt(body: str, scripts: str = "") -> bytes:
    """A zipped ODT whose content.xml has ``scripts`` and ``body`` (text elements)."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS}>{scripts}'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODT_MIME}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), ODT_MIME)
        package.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        package.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def macro_odt(canary: str) -> bytes:
    """An ODT with an embedded Basic macro bound to "document loaded" that writes ``canary``."""
    code = (
        f'Sub Main\nDim n As Integer\nn = FreeFile\nOpen "{canary}" For Output As #n\n'
        'Print #n, "macro ran"\nClose #n\nEnd Sub\n'
    )
    scripts = (
        '<office:scripts><office:script script:language="ooo:Basic"><ooo:libraries>'
        '<ooo:library-embedded ooo:name="Standard"><ooo:module ooo:name="Module1"><ooo:source-code>'
        f"{code}</ooo:source-code></ooo:module></ooo:library-embedded></ooo:libraries></office:script>"
        '<office:event-listeners><script:event-listener script:language="ooo:script" '
        'script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.Module1.Main?'
        'language=Basic&amp;location=document" xlink:type="simple"/></office:event-listeners></office:scripts>'
    )
    return odt("<text:p>A document with an auto-run macro.</text:p>", scripts)


def linked_odt(http_base: str, local_image: str, local_text: str) -> bytes:
    """An ODT linking an image and an OLE object over HTTP, a local image and a local text file."""

    def frame(name: str, inner: str) -> str:
        return (
            f'<text:p><draw:frame draw:name="{name}" text:anchor-type="as-char" svg:width="3cm" '
            f'svg:height="3cm">{inner}</draw:frame></text:p>'
        )

    link = 'xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"'
    body = (
        "<text:p>A document with links.</text:p>"
        f'<text:section text:name="S1"><text:section-source xlink:href="file://{local_text}" '
        'xlink:type="simple" text:filter-name="Text"/><text:p>placeholder</text:p></text:section>'
        + frame("web-image", f'<draw:image xlink:href="{http_base}/image.png" {link}/>')
        + frame("local-image", f'<draw:image xlink:href="file://{local_image}" {link}/>')
        + frame("ole", f'<draw:object xlink:href="{http_base}/object.ods" {link}/>')
    )
    return odt(body)


def docx_bomb(unpacked: int, zip64: bool = True) -> bytes:
    """A DOCX whose word/document.xml (its second part) unpacks to ``unpacked`` bytes of spaces (~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with package.open("word/document.xml", "w", force_zip64=zip64) as part:
            block = b" " * (1 << 20)
            for _ in range(unpacked >> 20):
                part.write(block)
    return buf.getvalue()


def xlsx_rows(rows: int) -> bytes:
    """A minimal XLSX with one sheet of ``rows`` rows (one number each)."""
    ct = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
        'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    wb = (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    wb_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", ct)
        package.writestr("_rels/.rels", rels)
        package.writestr("xl/workbook.xml", wb)
        package.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
                b'.org/spreadsheetml/2006/main"><sheetData>'
            )
            for start in range(1, rows + 1, 10_000):
                part.write(
                    b"".join(
                        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n)
                        for n in range(start, min(start + 10_000, rows + 1))
                    )
                )
            part.write(b"</sheetData></worksheet>")
    return buf.getvalue()
