"""Fuzz the job-opening path: decrypt -> open -> render with random and mutated files.

Whatever the customer (or an attacker) sends, the kiosk must end with a page
or with a KioskError subclass: never another exception, never a crash.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envelope
from kiosk.core.decrypt import open_job_manifest
from kiosk.core.demo import sample_image, sample_pdf, seal_job
from kiosk.core.errors import KioskError
from kiosk.core.opened import open_ciphertexts

KEY = envelope.generate_private_key()
PUBLIC = envelope.public_key_bytes(KEY)
SEEDS = {
    "application/pdf": sample_pdf(2),
    "image/png": sample_image("PNG", (64, 48)),
    "image/jpeg": sample_image("JPEG", (64, 48)),
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    media_type = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[media_type])
    for _ in range(draw(st.integers(0, 8))):
        action = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if action == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif action == "truncate":
            del data[pos:]
        elif action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 256))]
        else:
            chunk = draw(st.binary(min_size=1, max_size=32))
            data[pos : pos + len(chunk)] = chunk
    return media_type, bytes(data)


random_files = st.tuples(
    st.sampled_from(sorted(SEEDS)),
    st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=512).map(lambda b: b"%PDF-1.7\n" + b),
        st.binary(max_size=512).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
        st.binary(max_size=512).map(lambda b: b"\xff\xd8\xff\xe0" + b),
    ),
)


def open_and_render(media_type: str, data: bytes, corrupt_at: int | None = None) -> None:
    sealed = seal_job(PUBLIC, "fuzz-job", [("f", media_type, data)])
    ciphertext = bytearray(sealed.ciphertexts[0])
    if corrupt_at is not None:
        ciphertext[corrupt_at % len(ciphertext)] ^= 0x5A
    try:
        manifest = open_job_manifest(sealed.sealed_manifest, KEY, "fuzz-job")
        opened = open_ciphertexts("fuzz-job", manifest, [ciphertext], "A4")
        try:
            assert opened.page_count >= 1
            for index in {0, opened.page_count - 1}:
                page = opened.render(index, 0.2)
                assert len(page.rgba) == page.width * page.height * 4
            assert opened.print_pdf().startswith(b"%PDF")
        finally:
            opened.wipe()
    except KioskError:
        pass  # a clean, explainable failure


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_documents_open_or_fail_cleanly(case: tuple[str, bytes]) -> None:
    open_and_render(*case)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_files)
def test_random_bytes_open_or_fail_cleanly(case: tuple[str, bytes]) -> None:
    open_and_render(*case)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(SEEDS)), st.integers(min_value=0))
def test_corrupted_ciphertext_always_fails_cleanly(media_type: str, where: int) -> None:
    with pytest.raises(KioskError):
        sealed = seal_job(PUBLIC, "fuzz-job", [("f", media_type, SEEDS[media_type])])
        ciphertext = bytearray(sealed.ciphertexts[0])
        ciphertext[where % len(ciphertext)] ^= 0x5A
        manifest = open_job_manifest(sealed.sealed_manifest, KEY, "fuzz-job")
        open_ciphertexts("fuzz-job", manifest, [ciphertext], "A4")
