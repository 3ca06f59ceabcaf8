"""Key set fingerprints and kiosk receipts in Python: the shared vectors, and what must fail."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import envelope
from envelope.b64 import b64url_decode
from envelope.keyset import (
    KioskRecord,
    decode_fingerprint,
    encode_fingerprint,
    keyset_bytes,
    keyset_display,
    keyset_fingerprint,
)
from envelope.receipt import Receipt, receipt_message, sign_receipt, verify_receipt
from envelope.words import digest_words
from tests.envelope import make_receipt_vectors as make

DATA = Path(__file__).resolve().parents[1] / "data"
KEYSETS = json.loads((DATA / "keyset_vectors.json").read_text(encoding="utf-8"))
RECEIPTS = json.loads((DATA / "receipt_vectors.json").read_text(encoding="utf-8"))


def _records(items: list[dict[str, str]]) -> list[KioskRecord]:
    return [KioskRecord(b64url_decode(i["public_key"]), b64url_decode(i["signing_key"])) for i in items]


def _receipt(v: dict[str, Any]) -> Receipt:
    return Receipt(
        job_id=v["job_id"],
        state=v["state"],
        sign_time_ms=v["sign_time_ms"],
        manifest_sha256=bytes.fromhex(v["manifest_sha256"]),
        reason=v["reason"],
        wait_reason=v["wait_reason"],
        detail_sha256=bytes.fromhex(v["detail_sha256"]),
    )


def test_vector_files_are_what_the_generator_writes() -> None:
    assert make.keyset_vectors() == KEYSETS
    assert make.receipt_vectors() == RECEIPTS


def test_keyset_vectors() -> None:
    for v in KEYSETS["vectors"]:
        records = _records(v["kiosk_keys"])
        digest = keyset_fingerprint(records)
        assert keyset_bytes(records).hex() == v["keyset_hex"]
        assert digest.hex() == v["fingerprint_hex"]
        assert encode_fingerprint(digest) == v["fragment"] and decode_fingerprint(v["fragment"]) == digest
        assert keyset_display(records) == v["display"]
        assert digest_words(digest) == v["words"]
        # Order of the list does not matter; any change of a key does.
        assert keyset_fingerprint(list(reversed(records))) == digest
    fingerprints = {v["fingerprint_hex"] for v in KEYSETS["vectors"]}
    assert len(fingerprints) == len(KEYSETS["vectors"])


def test_invalid_keysets_and_fragments() -> None:
    for v in KEYSETS["invalid"]:
        with pytest.raises(envelope.InvalidKeyError):
            keyset_bytes(_records(v["kiosk_keys"]))
    with pytest.raises(envelope.InvalidKeyError):
        KioskRecord(b"\x04" + bytes(64))
    for bad in ("", "AAAA", KEYSETS["vectors"][0]["fragment"] + "A", KEYSETS["vectors"][0]["fragment"] + "="):
        with pytest.raises(envelope.InvalidKeyError):
            decode_fingerprint(bad)


def test_receipt_vectors_verify_and_reproduce() -> None:
    signer = make.key(RECEIPTS["signing_scalar"])
    public = b64url_decode(RECEIPTS["signing_key"])
    for v in RECEIPTS["vectors"]:
        receipt = _receipt(v)
        assert receipt_message(receipt).hex() == v["message_hex"]
        assert sign_receipt(signer, receipt) == b64url_decode(v["signature"])
        assert verify_receipt(public, receipt, b64url_decode(v["signature"]))


def test_altered_receipts_do_not_verify() -> None:
    public = b64url_decode(RECEIPTS["signing_key"])
    assert len(RECEIPTS["invalid"]) >= 6
    for v in RECEIPTS["invalid"]:
        assert not verify_receipt(public, _receipt(v), b64url_decode(v["signature"])), v["name"]
    good = _receipt(RECEIPTS["vectors"][2])
    signature = b64url_decode(RECEIPTS["vectors"][2]["signature"])
    assert not verify_receipt(public, good, signature[:63])
    assert not verify_receipt(b"\x04" + bytes(64), good, signature)
    assert not verify_receipt(public, replace(good, reason="x"), signature)


def test_random_keys_sign_and_verify() -> None:
    key = envelope.generate_private_key()
    receipt = Receipt("j1", "completed", 1, bytes(32))
    assert verify_receipt(envelope.public_key_bytes(key), receipt, sign_receipt(key, receipt))
    with pytest.raises(envelope.EnvelopeError):
        receipt_message(replace(receipt, state="queued"))
