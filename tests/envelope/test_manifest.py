"""Manifest schema, JSON form, HPKE seal/open against cryptography's hpke.Suite."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke

from envelope import (
    Customer,
    FileEntry,
    Manifest,
    ManifestError,
    PrintOptions,
    WrongKeyError,
    generate_private_key,
    job_info,
    new_content_key,
    open_manifest,
    seal_manifest,
)
from envelope.manifest import parse, validate

SHA = "ab" * 32


def sample(**options: Any) -> Manifest:
    return Manifest(
        content_key=new_content_key(),
        files=(FileEntry(name="a.pdf", type="application/pdf", size=10, sha256=SHA),),
        customer=Customer(name="Ann", note="thanks"),
        options=PrintOptions(**options),
    )


def test_json_shape_and_order() -> None:
    m = sample(copies=3, pages="1-2,4")
    data = json.loads(m.to_json())
    assert list(data) == ["v", "k", "customer", "files", "options"]
    assert data["options"] == {
        "copies": 3,
        "color": "bw",
        "duplex": "none",
        "pages": "1-2,4",
        "paper": "A4",
    }
    assert parse(m.to_json()) == m
    assert "k" not in m.to_dict(include_key=False)
    assert m.content_key.hex() not in repr(m)


def test_unknown_keys_ignored() -> None:
    data = sample().to_dict()
    data["extra"] = {"x": 1}
    data["files"][0]["color_profile"] = "sRGB"
    data["options"]["staple"] = True
    assert validate(data).files[0].name == "a.pdf"


MUTATIONS = [
    lambda d: d.pop("k"),
    lambda d: d.update(v=2),
    lambda d: d.update(v=True),
    lambda d: d.update(k="AAAA"),
    lambda d: d.pop("customer"),
    lambda d: d["customer"].pop("note"),
    lambda d: d["customer"].update(name="x" * 201),
    lambda d: d.update(files=[]),
    lambda d: d.update(files=d["files"] * 101),
    lambda d: d["files"][0].pop("sha256"),
    lambda d: d["files"][0].update(sha256="AB" * 32),
    lambda d: d["files"][0].update(size=-1),
    lambda d: d["files"][0].update(size=1.5),
    lambda d: d["files"][0].update(type="pdf"),
    lambda d: d["options"].update(copies=0),
    lambda d: d["options"].update(copies=1000),
    lambda d: d["options"].update(copies=True),
    lambda d: d["options"].update(color="red"),
    lambda d: d["options"].update(duplex="both"),
    lambda d: d["options"].update(paper="A5"),
    lambda d: d["options"].update(pages="3-1"),
    lambda d: d["options"].update(pages="0"),
    lambda d: d["options"].update(pages="1,,2"),
    lambda d: d["options"].pop("pages"),
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_invalid_manifests(mutate: Any) -> None:
    data = sample().to_dict()
    mutate(data)
    with pytest.raises(ManifestError):
        validate(data)


@pytest.mark.parametrize("raw", [b"", b"[]", b"\xff", b"{", b"x" * (2 << 20)])
def test_unparseable(raw: bytes) -> None:
    with pytest.raises(ManifestError):
        parse(raw)


def test_seal_is_hpke_suite_output() -> None:
    """What we seal opens with cryptography's Suite, and the other way round."""
    key = generate_private_key()
    m = sample()
    sealed = seal_manifest(m, key.public_key(), "J1")
    suite = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    assert suite.decrypt(sealed, key, info=b"cloudtab/v1 job:J1") == m.to_json()
    other = suite.encrypt(m.to_json(), key.public_key(), info=job_info("J1"))
    assert open_manifest(other, key, "J1") == m


def test_manifest_bound_to_job_and_key() -> None:
    key = generate_private_key()
    sealed = seal_manifest(sample(), key.public_key(), "J1")
    with pytest.raises(WrongKeyError):
        open_manifest(sealed, key, "J2")
    with pytest.raises(WrongKeyError):
        open_manifest(sealed, generate_private_key(), "J1")
    with pytest.raises(WrongKeyError):
        open_manifest(sealed[:-1], key, "J1")
    with pytest.raises(WrongKeyError):
        open_manifest(b"\x05" + sealed[1:], key, "J1")


@pytest.mark.parametrize("job_id", ["", "x" * 129, "a\nb", "\x00"])
def test_bad_job_ids(job_id: str) -> None:
    with pytest.raises(ManifestError):
        job_info(job_id)
