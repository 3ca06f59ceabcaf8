"""Known-answer tests: RFC 9180 A.3 and CloudTab's own vectors, byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke

from envelope import (
    ManifestError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    WrongKeyError,
    ciphertext_size,
    decode_public_key,
    file_key,
    fingerprint,
    fingerprint_display,
    open_bytes,
    open_manifest,
    public_key_bytes,
    seal_bytes,
)
from envelope.manifest import (
    JobOptions,
    job_info,
    open_reply,
    parse,
    reply_info,
    seal_reply,
)
from tests.envelope import make_vectors
from tests.envelope.hpke_ref import private_key_from_hex, seal_base, setup_base_s

DATA = Path(__file__).resolve().parents[1] / "data"
RFC = json.loads((DATA / "rfc9180_p256_vectors.json").read_text())
VEC: dict[str, Any] = json.loads((DATA / "envelope_vectors.json").read_text())
V1: dict[str, Any] = json.loads((DATA / "envelope_vectors_v1.json").read_text())


def plaintext_of(item: dict[str, Any]) -> bytes:
    if item["content"] == "inline":
        return bytes.fromhex(item["plaintext"])
    assert item["content"] == "byte i = i mod 251"
    return make_vectors.pattern_bytes(item["size"])


@pytest.mark.parametrize("v", RFC["vectors"], ids=lambda v: v["name"][:20])
def test_rfc9180_key_schedule(v: dict[str, Any]) -> None:
    recipient = private_key_from_hex(v["skRm"])
    ephemeral = private_key_from_hex(v["skEm"])
    assert public_key_bytes(recipient).hex() == v["pkRm"]
    enc, ctx = setup_base_s(recipient.public_key(), ephemeral, bytes.fromhex(v["info"]), v["aead_id"])
    assert enc.hex() == v["enc"]
    assert ctx.shared_secret.hex() == v["shared_secret"]
    assert ctx.key_schedule_context.hex() == v["key_schedule_context"]
    assert ctx.secret.hex() == v["secret"]
    assert ctx.key.hex() == v["key"]
    assert ctx.base_nonce.hex() == v["base_nonce"]
    for e in v["encryptions"]:
        assert ctx.nonce(e["seq"]).hex() == e["nonce"]
        ct = ctx.seal(e["seq"], bytes.fromhex(e["aad"]), bytes.fromhex(e["plaintext"]))
        assert ct.hex() == e["ciphertext"]


def test_rfc9180_vector_opens_with_cryptography() -> None:
    """cryptography's Suite agrees with the RFC (sequence 0 is single-shot Seal)."""
    from cryptography.hazmat.bindings._rust import openssl as rust_openssl

    v = RFC["vectors"][0]
    decrypt = getattr(rust_openssl.hpke, "_decrypt_with_aad", None)
    assert decrypt is not None, "the pinned cryptography build has an aad-capable HPKE decrypt"
    suite = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    e = v["encryptions"][0]
    sealed = bytes.fromhex(v["enc"] + e["ciphertext"])
    plain = decrypt(
        suite,
        sealed,
        private_key_from_hex(v["skRm"]),
        bytes.fromhex(v["info"]),
        bytes.fromhex(e["aad"]),
    )
    assert plain.hex() == e["plaintext"]


def test_reference_hpke_matches_cryptography_suite() -> None:
    """The deterministic test path produces bytes cryptography's Suite accepts."""
    shop = private_key_from_hex(VEC["shop_private_scalar"])
    suite = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    for scalar in ("01" * 32, VEC["ephemeral_private_scalar"]):
        sealed = seal_base(shop.public_key(), private_key_from_hex(scalar), b"info", b"hello")
        assert suite.decrypt(sealed, shop, info=b"info") == b"hello"


def test_shop_key_and_fingerprint() -> None:
    shop = private_key_from_hex(VEC["shop_private_scalar"])
    pub = decode_public_key(VEC["shop_public_key"])
    assert public_key_bytes(pub) == public_key_bytes(shop)
    assert public_key_bytes(pub).hex() == VEC["shop_public_key_hex"]
    assert fingerprint(pub).hex() == VEC["fingerprint"]
    assert fingerprint_display(pub) == VEC["fingerprint_display"]


def test_sealed_manifest_bytes() -> None:
    shop = private_key_from_hex(VEC["shop_private_scalar"])
    eph = private_key_from_hex(VEC["ephemeral_private_scalar"])
    assert job_info(VEC["job_id"]).hex() == VEC["hpke_info"]
    manifest = parse(VEC["manifest_json"].encode("utf-8"))
    assert manifest.to_json() == VEC["manifest_json"].encode("utf-8")
    assert manifest.content_key.hex() == VEC["content_key"]
    sealed = seal_base(shop.public_key(), eph, job_info(VEC["job_id"]), manifest.to_json())
    assert sealed.hex() == VEC["sealed_manifest"]
    assert open_manifest(sealed, shop, VEC["job_id"]) == manifest


@pytest.mark.parametrize("item", VEC["files"], ids=lambda f: f"file{f['index']}-{f['size']}")
def test_file_vectors(item: dict[str, Any]) -> None:
    plain = plaintext_of(item)
    assert hashlib.sha256(plain).hexdigest() == item["sha256"]
    key = file_key(bytes.fromhex(VEC["content_key"]), item["index"])
    assert key.hex() == item["file_key"]
    sealed = seal_bytes(key, plain)
    assert len(sealed) == item["ciphertext_size"] == ciphertext_size(item["size"])
    assert hashlib.sha256(sealed).hexdigest() == item["ciphertext_sha256"]
    if "ciphertext" in item:
        assert sealed.hex() == item["ciphertext"]
    else:
        assert sealed[-32:].hex() == item["ciphertext_tail_32"]
        assert sealed[65536:65552].hex() == item["first_record_tag"]
    assert open_bytes(key, sealed, expected_size=item["size"], expected_sha256=item["sha256"]) == plain


def test_failure_vectors() -> None:
    shop = private_key_from_hex(VEC["shop_private_scalar"])
    k = bytes.fromhex(VEC["content_key"])
    sealed = {i["index"]: seal_bytes(file_key(k, i["index"]), plaintext_of(i)) for i in VEC["files"]}
    expect = {f["case"]: f["expect"] for f in VEC["failures"]}
    checks: list[tuple[str, type[Exception], Any]] = [
        (
            "manifest opened with job id 'job-OTHER'",
            WrongKeyError,
            lambda: open_manifest(bytes.fromhex(VEC["sealed_manifest"]), shop, "job-OTHER"),
        ),
        (
            "reply opened with job id 'job-OTHER'",
            WrongKeyError,
            lambda: open_reply(
                bytes.fromhex(VEC["sealed_reply"]),
                private_key_from_hex(VEC["reply_private_scalar"]),
                "job-OTHER",
            ),
        ),
        (
            "file 4 without its last record",
            TruncatedError,
            lambda: open_bytes(file_key(k, 4), sealed[4][:65552]),
        ),
        (
            "file 4 with one extra byte appended",
            TamperedError,
            lambda: open_bytes(file_key(k, 4), sealed[4] + b"\0"),
        ),
        (
            "file 1 opened with key of file 2",
            TamperedError,
            lambda: open_bytes(file_key(k, 2), sealed[1]),
        ),
        (
            "file 3 followed by file 1's ciphertext",
            TrailingDataError,
            lambda: open_bytes(file_key(k, 3), sealed[3] + sealed[1]),
        ),
    ]
    assert set(expect) == {c[0] for c in checks}
    for case, exc, call in checks:
        assert exc.__name__ == expect[case]
        with pytest.raises(exc):
            call()


def test_vector_file_is_current() -> None:
    """The committed vectors are exactly what make_vectors produces."""
    assert make_vectors.build() == VEC


def test_sealed_reply_bytes() -> None:
    """The reply to the manifest's reply key: info, deterministic seal, open, round trip."""
    reply = private_key_from_hex(VEC["reply_private_scalar"])
    manifest = parse(VEC["manifest_json"].encode("utf-8"))
    assert manifest.reply_key == public_key_bytes(reply)
    assert reply_info(VEC["job_id"]).hex() == VEC["reply_info"]
    sealed = seal_base(
        reply.public_key(),
        private_key_from_hex(VEC["reply_ephemeral_private_scalar"]),
        reply_info(VEC["job_id"]),
        VEC["reply_plaintext"].encode("utf-8"),
    )
    assert sealed.hex() == VEC["sealed_reply"]
    assert open_reply(sealed, reply, VEC["job_id"]).decode("utf-8") == VEC["reply_plaintext"]
    fresh = seal_reply(manifest.reply_key or b"", VEC["job_id"], b"hello")
    assert fresh != seal_reply(manifest.reply_key or b"", VEC["job_id"], b"hello")  # fresh ephemeral
    assert open_reply(fresh, reply, VEC["job_id"]) == b"hello"
    with pytest.raises(WrongKeyError):
        open_reply(fresh, private_key_from_hex(VEC["shop_private_scalar"]), VEC["job_id"])


def test_format_1_vectors_still_open() -> None:
    """A receiver opens the frozen format-1 vectors into the format-2 types."""
    shop = private_key_from_hex(V1["shop_private_scalar"])
    manifest = open_manifest(bytes.fromhex(V1["sealed_manifest"]), shop, V1["job_id"])
    assert manifest.version == 1 and manifest.reply_key is None
    assert manifest.options == JobOptions(color="color", sides="two-sided-long-edge", media="A4")
    assert manifest.job_page_ranges == "1-3,5"
    assert [(f.copies, f.page_ranges) for f in manifest.files] == [(2, "")] * 5
    assert [f.sha256 for f in manifest.files] == [f["sha256"] for f in V1["files"]]
    with pytest.raises(ManifestError):
        manifest.to_json()  # format 1 is read, never written
