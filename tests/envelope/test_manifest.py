"""Manifest schema, JSON form, HPKE seal/open against cryptography's hpke.Suite."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke

from envelope import (
    Customer,
    FileEntry,
    JobOptions,
    Manifest,
    ManifestError,
    WrongKeyError,
    generate_private_key,
    job_info,
    new_content_key,
    open_manifest,
    public_key_bytes,
    seal_manifest,
)
from envelope.manifest import parse, validate

SHA = "ab" * 32


def sample(copies: int = 1, page_ranges: str = "", reply_key: bytes | None = None, **options: Any) -> Manifest:
    return Manifest(
        content_key=new_content_key(),
        files=(
            FileEntry(
                name="a.pdf", type="application/pdf", size=10, sha256=SHA, copies=copies, page_ranges=page_ranges
            ),
        ),
        customer=Customer(name="Ann", note="thanks"),
        options=JobOptions(**options),
        reply_key=reply_key,
    )


def test_json_shape_and_order() -> None:
    m = sample(copies=3, page_ranges="1-2,4")
    data = json.loads(m.to_json())
    assert list(data) == ["v", "k", "customer", "files", "options"]
    assert data["v"] == 2
    assert list(data["files"][0]) == ["name", "type", "size", "sha256", "copies", "page_ranges"]
    assert (data["files"][0]["copies"], data["files"][0]["page_ranges"]) == (3, "1-2,4")
    assert data["options"] == {
        "color": "monochrome",
        "sides": "one-sided",
        "media": "A4",
        "pages_per_sheet": 1,
        "orientation": "portrait",
    }
    assert parse(m.to_json()) == m
    reply = public_key_bytes(generate_private_key())
    with_reply = sample(reply_key=reply)
    assert list(json.loads(with_reply.to_json()))[-1] == "reply"
    assert parse(with_reply.to_json()).reply_key == reply
    assert "k" not in m.to_dict(include_key=False)
    assert m.content_key.hex() not in repr(m)


def test_photo_options_are_written_only_when_chosen_and_checked() -> None:
    chosen = sample(photo_fit="fill", photo_size="10x15", photos_per_sheet=2)
    options = json.loads(chosen.to_json())["options"]
    assert list(options)[5:] == ["photo_fit", "photo_size", "photos_per_sheet"]
    assert (options["photo_fit"], options["photo_size"], options["photos_per_sheet"]) == ("fill", "10x15", 2)
    assert parse(chosen.to_json()) == chosen
    assert "photo_fit" not in json.loads(sample(photo_size="4x6").to_json())["options"]  # defaults stay out
    explicit = sample().to_dict()
    explicit["options"].update(photo_fit="fit", photo_size="page", photos_per_sheet=1)
    assert validate(explicit).options == JobOptions()
    for key, bad in [
        ("photo_fit", "stretch"),
        ("photo_size", "9x13"),
        ("photos_per_sheet", 3),
        ("photos_per_sheet", "2"),
    ]:
        broken = sample().to_dict()
        broken["options"][key] = bad
        with pytest.raises(ManifestError):
            validate(broken)


def test_unknown_keys_ignored() -> None:
    data = sample().to_dict()
    data["extra"] = {"x": 1}
    data["files"][0]["color_profile"] = "sRGB"
    data["options"]["staple"] = True
    assert validate(data).files[0].name == "a.pdf"


MUTATIONS = [
    lambda d: d.pop("k"),
    lambda d: d.update(v=3),
    lambda d: d.update(v=0),
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
    lambda d: d["files"][0].update(copies=0),
    lambda d: d["files"][0].update(copies=1000),
    lambda d: d["files"][0].update(copies=True),
    lambda d: d["files"][0].pop("copies"),
    lambda d: d["files"][0].update(page_ranges="3-1"),
    lambda d: d["files"][0].update(page_ranges="0"),
    lambda d: d["files"][0].update(page_ranges="1,,2"),
    lambda d: d["files"][0].update(page_ranges="1 - 2"),
    lambda d: d["files"][0].pop("page_ranges"),
    lambda d: d["options"].update(color="bw"),
    lambda d: d["options"].update(sides="long"),
    lambda d: d["options"].update(media="A5"),
    lambda d: d["options"].update(pages_per_sheet=3),
    lambda d: d["options"].update(pages_per_sheet="2"),
    lambda d: d["options"].update(orientation="reverse-landscape"),
    lambda d: d["options"].pop("media"),
    lambda d: d.update(reply="AAAA"),
    lambda d: d.update(reply=None),
    lambda d: d.update(reply="B" + "A" * 86),  # 65 bytes, not a point on the curve
    # format 1 words are not format 2
    lambda d: d.update(options={"copies": 1, "color": "bw", "duplex": "none", "pages": "", "paper": "A4"}),
]

V1_OPTIONS = {"copies": 2, "color": "bw", "duplex": "short", "pages": "2-3", "paper": "Letter"}


def test_format_1_reads_into_format_2_types() -> None:
    data = sample().to_dict()
    data["v"] = 1
    data["options"] = dict(V1_OPTIONS)
    for f in data["files"]:
        del f["copies"], f["page_ranges"]
    m = validate(data)
    assert (m.version, m.job_page_ranges, m.files[0].copies) == (1, "2-3", 2)
    assert m.options == JobOptions(color="monochrome", sides="two-sided-short-edge", media="Letter")
    for key, bad in [
        ("copies", 0),
        ("color", "monochrome"),
        ("duplex", "one-sided"),
        ("paper", "A5"),
        ("pages", "3-1"),
    ]:
        broken = json.loads(json.dumps(data))
        broken["options"][key] = bad
        with pytest.raises(ManifestError):
            validate(broken)


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
