"""Hostile documents stay harmless: each is refused or defused with a clear reason,
nothing is left behind, and the next conversion works.
"""

from __future__ import annotations

import http.server
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from kiosk.core import convert
from kiosk.core.convert import (
    ConversionTimeout,
    ConversionTooLarge,
    ConvertLimits,
    convert_to_pdf,
)
from kiosk.core.demo_documents import libreoffice_convert
from kiosk.core.errors import DocumentError, PasswordProtected
from kiosk.core.office_checks import NotThatKind, PackageTooLarge
from tests.kiosk import office_samples
from tests.kiosk.convert_helpers import assert_nothing_left, pages, text_and_images


@pytest.fixture(autouse=True)
def _needs_libreoffice(office_documents) -> Iterator[None]:
    yield
    assert_nothing_left()
    # the kiosk serves the next job: a small real conversion still works
    assert pages(convert_to_pdf(b"next customer\n", "txt")) == 1
    assert_nothing_left()


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request path."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            requests.append(f"{self.command} {self.path}")
            self.send_response(404)
            self.end_headers()

        do_GET = do_HEAD = do_OPTIONS = do_PROPFIND = _any

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_docx_zip_bomb_is_refused_before_libreoffice_opens_it() -> None:
    bomb = office_samples.docx_bomb(600 << 20)
    assert len(bomb) < 2 << 20  # a small upload ...
    with pytest.raises(PackageTooLarge, match="unpacks to more than 512 MB"):  # ... that unpacks past the limit
        convert_to_pdf(bomb, "docx")


def test_zip_bomb_lying_about_its_size_is_counted_not_trusted(monkeypatch) -> None:
    bomb = bytearray(office_samples.docx_bomb(64 << 20, zip64=False))
    # declare 1,000 bytes for the 64 MB part, in its local header and in the central directory
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = bomb.find(signature, bomb.find(signature) + 1) if signature == b"PK\x03\x04" else bomb.rfind(signature)
        struct.pack_into("<I", bomb, at + offset, 1000)
    monkeypatch.setattr(convert, "_run", lambda *a: pytest.fail("LibreOffice was given the bomb"))
    with pytest.raises(DocumentError, match="damaged|unpacks to more than"):
        convert_to_pdf(bytes(bomb), "docx", ConvertLimits(max_unpacked_bytes=16 << 20))


def test_a_million_row_spreadsheet_is_refused_with_the_reason() -> None:
    sheet = office_samples.xlsx_rows(1_000_000)
    started = time.monotonic()
    with pytest.raises(PackageTooLarge, match="more than 200,000 rows"):
        convert_to_pdf(sheet, "xlsx")
    assert time.monotonic() - started < 60  # refused by counting, not by the time limit


def test_auto_run_macro_never_runs_and_the_document_still_converts(tmp_path, monkeypatch) -> None:
    canary = tmp_path / "macro-ran.txt"
    document = office_samples.macro_odt(str(canary))
    # both with the sandbox and without it (only the profile stops the macro then)
    for method in ("bwrap", "none"):
        box = convert.sandbox()
        assert box is not None
        monkeypatch.setitem(convert._SANDBOX, box.soffice, convert.Sandbox(box.soffice, method, box.ram_dir))
        pdf = convert_to_pdf(document, "odt")
        assert "auto-run macro" in text_and_images(pdf)[0]
        assert not canary.exists(), f"the macro ran ({method})"
        monkeypatch.undo()


def test_links_and_ole_objects_are_never_fetched(tmp_path, web_server) -> None:
    base, requests = web_server
    secret = tmp_path / "kiosk-private.txt"
    secret.write_text("PRIVATE-KIOSK-FILE\n")
    local_image = tmp_path / "local.png"
    local_image.write_bytes(_png())
    document = office_samples.linked_odt(base, str(local_image), str(secret))
    text, images = text_and_images(convert_to_pdf(document, "odt"))
    assert "A document with links." in text
    assert requests == [], "the converter reached the network"
    assert images == 0, "a linked image (web or local file) was embedded"
    assert "PRIVATE-KIOSK-FILE" not in text


def test_the_unshare_fallback_also_keeps_the_network_out(tmp_path, web_server, monkeypatch) -> None:
    """Without bubblewrap the kiosk falls back to unshare -n: still no network (files are not hidden then)."""
    base, requests = web_server
    box = convert.sandbox()
    assert box is not None
    monkeypatch.setitem(convert._SANDBOX, box.soffice, convert.Sandbox(box.soffice, "unshare", box.ram_dir))
    document = office_samples.linked_odt(base, str(tmp_path / "none.png"), str(tmp_path / "none.txt"))
    assert "A document with links." in text_and_images(convert_to_pdf(document, "odt"))[0]
    assert requests == [], "the converter reached the network"


def test_without_the_sandbox_libreoffice_would_fetch_the_links(tmp_path, web_server) -> None:
    """Why the sandbox matters: the same document, opened by LibreOffice as is, reaches out."""
    base, requests = web_server
    local_image = tmp_path / "local.png"
    local_image.write_bytes(_png())
    document = office_samples.linked_odt(base, str(local_image), str(tmp_path / "none.txt"))
    pdf = libreoffice_convert({"linked.odt": document}, "pdf")["linked.odt"]
    assert any("/image.png" in r for r in requests) and any("/object.ods" in r for r in requests)
    assert text_and_images(pdf)[1] >= 1  # the local image was pulled in


def test_a_hanging_conversion_is_stopped_at_the_time_limit() -> None:
    endless = b"".join(b"line %d of a very long text file\n" % n for n in range(400_000))
    started = time.monotonic()
    with pytest.raises(ConversionTimeout, match="longer than 3 seconds"):
        convert_to_pdf(endless, "txt", ConvertLimits(seconds=3))
    assert time.monotonic() - started < 30


def test_the_memory_limit_stops_a_conversion(office_documents) -> None:
    with pytest.raises(ConversionTooLarge, match="more memory"):
        convert_to_pdf(office_documents["pptx"], "pptx", ConvertLimits(memory_bytes=300 << 20))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "it is a PDF"),
        (b"%PDF-1.4\n%\xe2\xe3\n" + b"PK\x03\x04" + b"\x00" * 200, "it is a PDF"),  # PDF and zip at once
        (b"\xff\xd8\xff\xe0JFIF", "it is a JPEG photo"),
        (b"MZ\x90\x00 not a document", "not one"),
    ],
)
def test_a_file_whose_bytes_are_not_its_name_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(NotThatKind, match=reason):
        convert_to_pdf(data, "docx")


def test_password_protected_office_file_gets_a_clear_reason() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600  # what Office writes for an encrypted .docx
    with pytest.raises(PasswordProtected, match="password-protected"):
        convert_to_pdf(ole2, "docx")


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 40), (255, 0, 0)).save(out, format="PNG")
    return out.getvalue()
