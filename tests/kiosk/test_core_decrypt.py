"""Decrypt -> verify -> open, from envelope-sealed jobs; tampering fails cleanly, per job."""

from __future__ import annotations

import pytest

import envelope
from kiosk.core.decrypt import decrypt_file, open_job_manifest
from kiosk.core.demo import sample_image, sample_pdf, seal_job
from kiosk.core.errors import DecryptError, DocumentError, KioskError
from kiosk.core.jobs import PrintOptions
from kiosk.core.opened import open_ciphertexts
from kiosk.core.render import open_document


@pytest.fixture(scope="module")
def key() -> envelope.keys.PrivateKey:
    return envelope.generate_private_key()


@pytest.fixture(scope="module")
def public(key: envelope.keys.PrivateKey) -> bytes:
    return envelope.public_key_bytes(key)


def test_job_opens_and_verifies(key: envelope.keys.PrivateKey, public: bytes) -> None:
    pdf, png = sample_pdf(3), sample_image("PNG")
    sealed = seal_job(public, "job-1", [("a.pdf", "application/pdf", pdf), ("b.png", "image/png", png)],
                      envelope.PrintOptions(copies=2, color="color", duplex="long", pages="1-2", paper="A4"),
                      customer="Grace", note="thanks")
    manifest = open_job_manifest(sealed.sealed_manifest, key, "job-1")
    assert manifest.customer_name == "Grace" and manifest.note == "thanks"
    assert [f.name for f in manifest.files] == ["a.pdf", "b.png"]
    assert manifest.options == PrintOptions(copies=2, sides="two-sided-long-edge", color="color",
                                            page_ranges="1-2", media="A4")
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
        cts[0] = cts[0][:65536 + 16]
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
