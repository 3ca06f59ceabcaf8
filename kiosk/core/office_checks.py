"""Checks on an Office document's bytes before LibreOffice is allowed to open it.

The bytes must be the kind the file claims (a PDF named ``.docx`` is refused,
not guessed at), and a zip package (DOCX, XLSX, PPTX, ODT, ODS, ODP) is
unpacked once in memory, a bounded chunk at a time, counting what it really
holds: the declared sizes in a zip can lie, the counted bytes cannot.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from kiosk.core.errors import DocumentError, DocumentTooLarge, PasswordProtected

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 1 << 20
# The part that makes a package that kind of document.
MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
    "odt": "content.xml",
    "ods": "content.xml",
    "odp": "content.xml",
}
ODF_MIMETYPE = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
    "odp": b"application/vnd.oasis.opendocument.presentation",
}
NAMES = {
    "docx": "Word",
    "doc": "Word",
    "odt": "text",
    "rtf": "RTF",
    "txt": "text",
    "xlsx": "Excel",
    "ods": "spreadsheet",
    "pptx": "PowerPoint",
    "odp": "presentation",
}
_ROW = re.compile(rb"<(?:[A-Za-z0-9_]+:)?row[\s/>]")
_OTHER_KINDS = (
    (b"%PDF-", "a PDF"),
    (b"\xff\xd8\xff", "a JPEG photo"),
    (b"\x89PNG", "a PNG image"),
)


class NotThatKind(DocumentError):
    """The file's bytes are not the kind of document its name or type says."""


class PackageTooLarge(DocumentTooLarge):
    """A zip package unpacks too large, has too many parts or too many rows."""


def check_office_bytes(data: bytes | bytearray, kind: str, *, max_unpacked: int, max_parts: int, max_rows: int) -> None:
    """Refuse bytes that are not a plausible ``kind`` document, or that unpack too large.

    Raises:
        NotThatKind: the bytes are another kind of file (PDF, photo, ...) or not a document.
        PasswordProtected: an encrypted Office package.
        PackageTooLarge: over ``max_unpacked`` bytes, ``max_parts`` parts or ``max_rows`` rows.
        DocumentError: a damaged package.
    """
    label = f"{NAMES.get(kind, kind.upper())} document"
    head = bytes(data[:1024])
    for magic, what in _OTHER_KINDS:
        if magic in head[: 1024 if magic == b"%PDF-" else len(magic)]:
            raise NotThatKind(f"this file is named as a {label} but it is {what}; send it as {what}")
    if kind in MAIN_PART:
        if head.startswith(OLE2_MAGIC):
            raise PasswordProtected(f"this {label} is password-protected; ask for an unprotected copy")
        if not head.startswith(ZIP_MAGIC):
            raise NotThatKind(f"this file is named as a {label} but it is not one")
        _check_package(data, kind, label, max_unpacked, max_parts, max_rows)
    elif kind == "doc" and not head.startswith(OLE2_MAGIC):
        raise NotThatKind(f"this file is named as a {label} but it is not one")
    elif kind == "rtf" and not head.lstrip().startswith(b"{\\rtf"):
        raise NotThatKind(f"this file is named as an {label} but it is not one")
    elif kind == "txt" and b"\x00" in data:
        raise NotThatKind("this file is named as a text file but it is not plain text")


def _check_package(
    data: bytes | bytearray, kind: str, label: str, max_unpacked: int, max_parts: int, max_rows: int
) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
            if len(infos) > max_parts:
                raise PackageTooLarge(f"this {label} has {len(infos)} parts; the kiosk opens at most {max_parts}")
            names = {info.filename for info in infos}
            if MAIN_PART[kind] not in names:
                raise NotThatKind(f"this file is named as a {label} but it is not one")
            if kind in ODF_MIMETYPE:
                if "mimetype" not in names:
                    raise NotThatKind(f"this file is named as a {label} but it is not one")
                with package.open("mimetype") as part:
                    if part.read(100).strip() != ODF_MIMETYPE[kind]:
                        raise NotThatKind(f"this file is named as a {label} but it is not one")
            if any(info.flag_bits & 0x1 for info in infos):
                raise PasswordProtected(f"this {label} is password-protected; ask for an unprotected copy")
            if sum(info.file_size for info in infos) > max_unpacked:
                raise PackageTooLarge(_too_large(label, max_unpacked))
            unpacked = rows = 0
            for info in infos:
                count_rows = kind == "xlsx" and info.filename.startswith("xl/worksheets/")
                tail = b""
                with package.open(info) as part:
                    while chunk := part.read(CHUNK):
                        unpacked += len(chunk)
                        if unpacked > max_unpacked:
                            raise PackageTooLarge(_too_large(label, max_unpacked))
                        if count_rows:
                            joined = tail + chunk
                            rows += len(_ROW.findall(joined)) - len(_ROW.findall(tail))
                            tail = joined[-64:]
                            if rows > max_rows:
                                raise PackageTooLarge(
                                    f"this spreadsheet has more than {max_rows:,} rows; too many to print"
                                )
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, NotImplementedError, ValueError):
        raise DocumentError(f"this {label} is damaged and cannot be opened") from None
    except RuntimeError:  # zipfile: an encrypted part
        raise PasswordProtected(f"this {label} is password-protected; ask for an unprotected copy") from None


def _too_large(label: str, limit: int) -> str:
    return f"this {label} unpacks to more than {limit >> 20} MB; too large to open safely"
