"""Multi-recipient sealed manifest (docs/envelope.md §5.2) in Python: vectors, each kiosk opens, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envelope import (
    ManifestError,
    WrongKeyError,
    generate_private_key,
    open_manifest,
    public_key_bytes,
    recipients,
    seal_manifest,
    seal_manifest_multi,
)
from envelope.manifest import parse
from tests.envelope import make_multi_vectors
from tests.envelope.hpke_ref import private_key_from_hex

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def vec() -> dict[str, Any]:
    return json.loads((DATA / "envelope_vectors_multi.json").read_text(encoding="utf-8"))


def test_vectors_reproduce_byte_for_byte(vec: dict[str, Any]) -> None:
    assert make_multi_vectors.build() == vec


def test_every_recipient_opens_the_vector(vec: dict[str, Any]) -> None:
    sealed = bytes.fromhex(vec["sealed_manifest"])
    want = parse(vec["manifest_json"].encode("utf-8"))
    assert [fp.hex() for fp in recipients(sealed)] == [r["fingerprint"] for r in vec["recipients"]]
    for r in vec["recipients"]:
        assert open_manifest(sealed, private_key_from_hex(r["private_scalar"]), vec["job_id"]) == want


def test_vector_failures(vec: dict[str, Any]) -> None:
    sealed = bytes.fromhex(vec["sealed_manifest"])
    first = private_key_from_hex(vec["recipients"][0]["private_scalar"])
    outsider = private_key_from_hex(vec["outsider_private_scalar"])
    stripped = sealed[:5] + b"\x01" + sealed[6 : 6 + 145] + bytes.fromhex(vec["body"])
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    cases = [(sealed, first, "job-OTHER"), (sealed, outsider, vec["job_id"])]
    cases += [(stripped, first, vec["job_id"]), (flipped, first, vec["job_id"])]
    for data, key, job in cases:
        with pytest.raises(WrongKeyError):
            open_manifest(data, key, job)
    assert len(vec["failures"]) == len(cases)


def test_random_seal_opens_for_each_key_and_old_single_recipient_still_opens(vec: dict[str, Any]) -> None:
    keys = [generate_private_key() for _ in range(3)]
    manifest = parse(vec["manifest_json"].encode("utf-8"))
    sealed = seal_manifest_multi(manifest, [public_key_bytes(k) for k in keys], "job-1")
    assert all(open_manifest(sealed, k, "job-1") == manifest for k in keys)
    assert open_manifest(seal_manifest(manifest, keys[0].public_key(), "job-1"), keys[0], "job-1") == manifest


def test_sender_limits(vec: dict[str, Any]) -> None:
    manifest = parse(vec["manifest_json"].encode("utf-8"))
    key = generate_private_key().public_key()
    for keys in ([], [key, key], [generate_private_key().public_key() for _ in range(17)]):
        with pytest.raises(ManifestError):
            seal_manifest_multi(manifest, keys, "job-1")
