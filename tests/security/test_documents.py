"""Hostile documents at the kiosk (docs/security.md T17-T20): fuzzed PDFs and
images, decompression bombs, PDFs with JavaScript and attachments, hostile names.

Everything goes through kiosk.core's real open/render path (pypdfium2, Pillow);
the only acceptable failure is a KioskError with a sentence to show.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core import (
    errors,
    render,
)
from tests.security import pdfs

SEED_PDF = pdfs.simple_pdf(b"Seed")
SEEDS = {"application/pdf": SEED_PDF}


def _open_and_render(data: bytes, media_type: str) -> None:
    """Open and render up to three pages; only KioskError may come out."""
    try:
        document = render.open_document(bytearray(data), media_type)
    except errors.KioskError as exc:
        assert str(exc), "an error must carry a sentence to show"
        return
    try:
        for index in range(min(document.page_count, 3)):
            try:
                page = document.render_fit(index, 120, 160)
            except errors.DocumentError:
                continue
            assert len(page.rgba) == page.width * page.height * 4
    finally:
        document.close()


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 256))]
    return bytes(data)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.one_of(mutated(SEED_PDF), st.binary(max_size=2048).map(lambda b: b"%PDF-1.4\n" + b)))
def test_fuzzed_pdf_bytes_fail_cleanly(data: bytes) -> None:
    _open_and_render(data, "application/pdf")


@pytest.fixture(scope="module")
def image_seeds() -> dict[str, bytes]:
    return {"image/png": pdfs.small_png(), "image/jpeg": pdfs.small_jpeg()}


@FUZZ
@given(st.data())
def test_fuzzed_image_bytes_fail_cleanly(image_seeds: dict[str, bytes], data: st.DataObject) -> None:
    media_type = data.draw(st.sampled_from(sorted(image_seeds)))
    blob = data.draw(
        st.one_of(
            mutated(image_seeds[media_type]), st.binary(max_size=512).map(lambda b: image_seeds[media_type][:16] + b)
        )
    )
    _open_and_render(blob, media_type)


def test_declared_type_is_only_a_hint() -> None:
    with pytest.raises(errors.UnsupportedMedia):
        render.open_document(bytearray(b"MZ\x90\x00 not a document"), "application/pdf")
    document = render.open_document(bytearray(SEED_PDF), "image/png")  # a PDF that claims to be PNG
    try:
        assert document.page_count == 1
    finally:
        document.close()


@pytest.mark.parametrize(
    ("width", "height", "full"),
    [
        (20_000, 20_000, True),  # 400 Mpx of real zero rows: ~400 MB decoded, ~390 KB compressed
        (8_000, 8_000, True),  # 64 Mpx: under Pillow's own limit, over the kiosk's
        (60_000, 60_000, False),  # header only claims 3.6 Gpx
    ],
)
def test_png_decompression_bomb_is_refused(width: int, height: int, full: bool) -> None:
    bomb = pdfs.png_bomb(width, height) if full else pdfs.png_header_bomb(width, height)
    assert len(bomb) < 2_000_000
    started = time.monotonic()
    with pytest.raises(errors.DocumentTooLarge) as caught:
        render.open_document(bytearray(bomb), "image/png")
    assert time.monotonic() - started < 5.0, "the bomb must be refused before decoding"
    assert "pixel" in str(caught.value) or "large" in str(caught.value)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def callback_server() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pdf-js-ran", _Recorder.hits
    server.shutdown()
    server.server_close()


def test_pdf_with_javascript_and_attachment_renders_inert(
    callback_server: tuple[str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pypdfium2 as pdfium

    url, hits = callback_server
    name = b"cloudtab-attachment-marker.exe"
    payload = b"MZ-ATTACHMENT-PAYLOAD-7f3a"
    hostile = pdfs.hostile_pdf(url, name, payload)
    # The test document really carries what it claims: an attachment pdfium can see.
    probe = pdfium.PdfDocument(hostile)
    try:
        assert probe.count_attachments() == 1
    finally:
        probe.close()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    before = set(os.listdir("/tmp"))
    document = render.open_document(bytearray(hostile), "application/pdf")
    try:
        assert document.page_count == 1
        page = document.render_fit(0, 300, 400)
        assert any(b != 255 for b in page.rgba[: page.width * 4 * page.height : 4]), "page is blank"
    finally:
        document.close()
    time.sleep(0.3)  # give a launched URL time to arrive, if anything launched it
    assert hits == [], "PDF JavaScript ran"
    leaked = [p for p in tmp_path.rglob("*") if name.decode() in p.name or (p.is_file() and payload in p.read_bytes())]
    assert leaked == [], "attachment extracted"
    assert not {n for n in set(os.listdir("/tmp")) - before if name.decode() in n}


HOSTILE_NAMES = [
    "../../../../etc/cron.d/evil.pdf",
    "C:\\Windows\\System32\\evil.pdf",
    "/absolute/path.pdf",
    "bell\x07and\x1b[31mred\x1b[0m.pdf",
    "new\nline\rreturn.pdf",
    "invoice\u202efdp.exe",  # RIGHT-TO-LEFT OVERRIDE: shows as "invoiceexe.pdf"
    "\u2067isolate\u2069.pdf",
    "mark\u200f\u061c.pdf",
    "null\x00byte.pdf",
]
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _displayable(text: str) -> bool:
    return not any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in text)


@pytest.mark.parametrize("hostile", HOSTILE_NAMES, ids=lambda n: repr(n)[:30])
def test_hostile_file_names_are_sanitised(hostile: str) -> None:
    """What the kiosk shows for a manifest's file and customer names is one plain,
    displayable name: no path, no control character, no bidirectional override."""
    import hashlib

    import envelope
    from kiosk.core import decrypt

    private_key = envelope.generate_private_key()
    data = SEED_PDF
    manifest = envelope.Manifest(
        content_key=envelope.new_content_key(),
        files=(envelope.FileEntry(hostile, "application/pdf", len(data), hashlib.sha256(data).hexdigest()),),
        customer=envelope.Customer(name=hostile, note="note " + hostile),
    )
    sealed = envelope.seal_manifest(manifest, private_key.public_key(), "job-1")
    opened = decrypt.open_job_manifest(sealed, private_key, "job-1")
    shown = opened.files[0].name
    assert shown, "a name must remain"
    assert "/" not in shown and "\\" not in shown, shown
    assert _displayable(shown), repr(shown)
    assert _displayable(opened.customer_name), repr(opened.customer_name)
