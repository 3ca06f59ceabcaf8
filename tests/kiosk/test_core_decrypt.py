"""Decrypt -> verify -> open, from envelope-sealed jobs; tampering fails cleanly, per job."""

from __future__ import annotations

import hashlib

import pytest

import envelope
from kiosk.core.config import PriceTable
from kiosk.core.decrypt import decrypt_file, file_print_options, open_job_manifest
from kiosk.core.demo import sample_image, sample_pdf, seal_job
from kiosk.core.errors import DecryptError, DocumentError, KioskError
from kiosk.core.opened import open_ciphertexts
from kiosk.core.options import PrintOptions
from kiosk.core.printing.plan import plan_print
from kiosk.core.render import open_document


@pytest.fixture(scope="module")
def key() -> envelope.keys.PrivateKey:
    return envelope.generate_private_key()


@pytest.fixture(scope="module")
def public(key: envelope.keys.PrivateKey) -> bytes:
    return envelope.public_key_bytes(key)


def test_job_opens_and_verifies(key: envelope.keys.PrivateKey, public: bytes) -> None:
    pdf, png = sample_pdf(3), sample_image("PNG")
    sealed = seal_job(
        public,
        "job-1",
        [("a.pdf", "application/pdf", pdf), ("b.png", "image/png", png)],
        envelope.JobOptions(color="color", sides="two-sided-long-edge", media="A4"),
        customer="Grace",
        note="thanks",
        copies=2,
    )
    manifest = open_job_manifest(sealed.sealed_manifest, key, "job-1")
    assert manifest.customer_name == "Grace" and manifest.note == "thanks"
    assert [f.name for f in manifest.files] == ["a.pdf", "b.png"]
    assert manifest.options == PrintOptions(copies=2, sides="two-sided-long-edge", color="color", media="A4")
    assert manifest.file_options == (manifest.options, manifest.options) and manifest.version == 2
    assert "content_key" not in repr(manifest)
    assert bytes(decrypt_file(manifest, 0, sealed.ciphertexts[0])) == pdf
    opened = open_ciphertexts("job-1", manifest, [bytearray(c) for c in sealed.ciphertexts], "A4")
    assert opened.page_count == 4
    assert opened.render(3, 0.2).width > 0
    merged = opened.print_pdf()
    assert merged.startswith(b"%PDF")
    buffers = [doc._buffer for doc in opened.documents]
    opened.wipe()
    assert all(not any(b) for b in buffers)
    with pytest.raises(KioskError):
        opened.render(0)


def test_single_pdf_prints_a_rewritten_copy(key: envelope.keys.PrivateKey, public: bytes) -> None:
    """The printer never gets the customer's bytes, but the same pages (docs/security.md T26)."""
    pdf = sample_pdf(2)
    sealed = seal_job(public, "job-2", [("a.pdf", "application/pdf", pdf)])
    manifest = open_job_manifest(sealed.sealed_manifest, key, "job-2")
    opened = open_ciphertexts("job-2", manifest, [bytearray(sealed.ciphertexts[0])], "A4")
    printed = bytes(opened.print_pdf())
    assert printed.startswith(b"%PDF-") and printed != pdf
    assert open_document(bytearray(printed), "application/pdf").page_count == 2


def test_manifest_bound_to_job_id(key: envelope.keys.PrivateKey, public: bytes) -> None:
    sealed = seal_job(public, "job-a", [("a.pdf", "application/pdf", sample_pdf(1))])
    with pytest.raises(DecryptError):
        open_job_manifest(sealed.sealed_manifest, key, "job-b")


def test_wrong_key(public: bytes) -> None:
    sealed = seal_job(public, "job-a", [("a.pdf", "application/pdf", sample_pdf(1))])
    with pytest.raises(DecryptError):
        open_job_manifest(sealed.sealed_manifest, envelope.generate_private_key(), "job-a")


@pytest.mark.parametrize("where", ["manifest", "first", "last", "truncate", "extend", "swap"])
def test_tampering_is_a_clean_decrypt_error(key: envelope.keys.PrivateKey, public: bytes, where: str) -> None:
    big = sample_pdf(1) + b"%" + b"x" * 150_000  # three records
    sealed = seal_job(public, "job-t", [("a.pdf", "application/pdf", big), ("b.pdf", "application/pdf", big)])
    manifest_bytes = bytearray(sealed.sealed_manifest)
    cts = [bytearray(c) for c in sealed.ciphertexts]
    if where == "manifest":
        manifest_bytes[-5] ^= 1
        with pytest.raises(DecryptError):
            open_job_manifest(bytes(manifest_bytes), key, "job-t")
        return
    if where == "first":
        cts[0][10] ^= 0x80
    elif where == "last":
        cts[0][-1] ^= 0x01
    elif where == "truncate":
        cts[0] = cts[0][: 65536 + 16]
    elif where == "extend":
        cts[0] += b"\x00" * 17
    elif where == "swap":
        cts = [cts[1], cts[0]]
    manifest = open_job_manifest(bytes(manifest_bytes), key, "job-t")
    with pytest.raises(DecryptError):
        open_ciphertexts("job-t", manifest, cts, "A4")


def test_decrypted_but_broken_document(key: envelope.keys.PrivateKey, public: bytes) -> None:
    sealed = seal_job(public, "job-x", [("a.pdf", "application/pdf", b"%PDF-1.4 not really")])
    manifest = open_job_manifest(sealed.sealed_manifest, key, "job-x")
    with pytest.raises(DocumentError):
        open_ciphertexts("job-x", manifest, [bytearray(sealed.ciphertexts[0])], "A4")


def test_kiosk_opens_format_1_manifests() -> None:
    """The frozen format-1 vector opens into the kiosk's options: page ranges across files, job copies."""
    import json
    from pathlib import Path

    from tests.envelope.hpke_ref import private_key_from_hex

    v1 = json.loads((Path(__file__).resolve().parents[1] / "data" / "envelope_vectors_v1.json").read_text())
    manifest = open_job_manifest(
        bytes.fromhex(v1["sealed_manifest"]), private_key_from_hex(v1["shop_private_scalar"]), v1["job_id"]
    )
    assert manifest.version == 1 and manifest.file_options is None and manifest.reply_key is None
    assert manifest.options == PrintOptions(
        copies=2, sides="two-sided-long-edge", color="color", page_ranges="1-3,5", media="A4"
    )
    assert len(manifest.files) == 5


def test_format_2_per_file_options(key: envelope.keys.PrivateKey, public: bytes) -> None:
    """Each file keeps its own copies and pages; the job's options are shared; the reply key passes through."""
    reply = envelope.public_key_bytes(envelope.generate_private_key())
    content = envelope.new_content_key()
    pdf, png = sample_pdf(5), sample_image("PNG")
    entries = (
        envelope.FileEntry(
            "a.pdf", "application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest(), copies=2, page_ranges="1-3,5"
        ),
        envelope.FileEntry("b.png", "image/png", len(png), hashlib.sha256(png).hexdigest(), copies=3),
    )
    job_options = envelope.JobOptions(
        color="color", sides="two-sided-short-edge", media="Letter", pages_per_sheet=2, orientation="landscape"
    )
    m = envelope.Manifest(content_key=content, files=entries, options=job_options, reply_key=reply)
    manifest = open_job_manifest(
        envelope.seal_manifest(m, envelope.public_key_from_bytes(public), "job-v2"), key, "job-v2"
    )
    shared = PrintOptions(
        color="color", sides="two-sided-short-edge", media="Letter", pages_per_sheet=2, orientation="landscape"
    )
    assert manifest.options == shared  # copies differ, so the job's are 1; pages are per file
    assert manifest.file_options == (shared.with_(copies=2, page_ranges="1-3,5"), shared.with_(copies=3))
    assert manifest.reply_key == reply and manifest.version == 2
    single = open_job_manifest(
        seal_job(
            public, "job-one", [("a.pdf", "application/pdf", pdf)], job_options, copies=4, page_ranges="2-5"
        ).sealed_manifest,
        key,
        "job-one",
    )
    assert single.options == shared.with_(copies=4, page_ranges="2-5")


def test_several_files_print_with_their_own_pages_and_copies(key: envelope.keys.PrivateKey, public: bytes) -> None:
    """A format-2 job of two files: each file's pages and copies reach the print plan and its price."""
    pdf, png = sample_pdf(5), sample_image("PNG")
    content = envelope.new_content_key()
    entries = (
        envelope.FileEntry(
            "a.pdf", "application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest(), copies=2, page_ranges="1-3,5"
        ),
        envelope.FileEntry("b.png", "image/png", len(png), hashlib.sha256(png).hexdigest(), copies=3),
    )
    m = envelope.Manifest(content_key=content, files=entries, options=envelope.JobOptions(color="color"))
    manifest = open_job_manifest(
        envelope.seal_manifest(m, envelope.public_key_from_bytes(public), "job-p"), key, "job-p"
    )
    ciphertexts = [
        bytearray(envelope.seal_bytes(envelope.file_key(content, i), data)) for i, data in enumerate((pdf, png))
    ]
    opened = open_ciphertexts("job-p", manifest, ciphertexts, "A4")
    table = PriceTable(bw_cents=10, colour_cents=50, currency="EUR")
    plan = plan_print(opened.file_page_counts, manifest.options, table, file_print_options(manifest, manifest.options))
    assert [(f.index, f.options.copies, f.options.page_ranges, f.options.color) for f in plan.files] == [
        (0, 2, "1-3,5", "color"),
        (1, 3, "", "color"),
    ]
    assert (plan.total.pages, plan.total.sheets, plan.total.total_cents) == (5, 11, 550)
    edited = manifest.options.with_(color="monochrome")
    assert [f.color for f in file_print_options(manifest, edited) or []] == ["monochrome", "monochrome"]
    assert file_print_options(manifest, manifest.options.with_(copies=4)) is None  # the shop's copies win
    opened.wipe()


def test_the_photo_layout_applies_to_the_photos_and_the_pdf_prints_as_it_is(
    key: envelope.keys.PrivateKey, public: bytes
) -> None:
    """fill, 10x15 cm, two per sheet: the JPEG becomes one A4 sheet with two 10x15 prints;
    the PDF in the same job keeps its pages and size."""
    import pypdfium2 as pdfium

    from kiosk.core.options import MM

    pdf, jpeg = sample_pdf(3), sample_image("JPEG", (1200, 800))
    layout = envelope.JobOptions(photo_fit="fill", photo_size="10x15", photos_per_sheet=2)
    sealed = seal_job(public, "job-l", [("a.pdf", "application/pdf", pdf), ("b.jpg", "image/jpeg", jpeg)], layout)
    manifest = open_job_manifest(sealed.sealed_manifest, key, "job-l")
    assert manifest.options.photo_layout == ("fill", "10x15", 2)
    opened = open_ciphertexts(
        "job-l", manifest, [bytearray(c) for c in sealed.ciphertexts], "A4", layout=manifest.options.photo_layout
    )
    try:
        assert opened.file_page_counts == [3, 1]
        document = pdfium.PdfDocument(bytes(opened.file_pdf(1)))
        page = document[0]
        images = [o for o in page.get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        assert len(images) == 2  # the one photo, twice
        for image in images:
            left, bottom, right, top = image.get_bounds()
            assert {round((right - left) / MM), round((top - bottom) / MM)} == {100, 150}  # filled: exactly 10x15
        assert round(page.get_width() / MM) in (210, 297)
        page.close()
        document.close()
        plain = pdfium.PdfDocument(bytes(opened.file_pdf(0)))
        original = pdfium.PdfDocument(pdf)
        assert len(plain) == 3 and plain.get_page_size(0) == original.get_page_size(0)
        plain.close()
        original.close()
    finally:
        opened.wipe()
