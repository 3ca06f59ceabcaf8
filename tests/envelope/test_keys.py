"""Shop keys: encodings, fingerprints, PKCS#8 files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from envelope import (
    InvalidKeyError,
    decode_public_key,
    encode_public_key,
    fingerprint,
    fingerprint_display,
    generate_private_key,
    load_private_key,
    public_key_bytes,
    save_private_key,
)
from envelope.b64 import b64url_decode, b64url_encode
from envelope.keys import crockford_base32


def test_public_key_round_trip() -> None:
    key = generate_private_key()
    text = encode_public_key(key)
    assert "=" not in text and len(text) == 87
    assert public_key_bytes(decode_public_key(text)) == public_key_bytes(key)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AAAA",
        "BGD-1LolWp0xyWHrdMY1bWjASbiSO2H6bOZpYi5g8p-2eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk=",
        "B" * 87,
        "not base64!",
        b64url_encode(b"\x02" + bytes(32)),
    ],
)
def test_bad_public_keys(text: str) -> None:
    with pytest.raises(InvalidKeyError):
        decode_public_key(text)


def test_b64url_is_strict() -> None:
    assert b64url_decode(b64url_encode(b"\xff\xfe")) == b"\xff\xfe"
    for bad in ["A", "AB=", "AB+/", "AB C"]:
        with pytest.raises(ValueError):
            b64url_decode(bad)
    with pytest.raises(ValueError):
        b64url_decode("AB")  # non-zero trailing bits would be "AA"... "AB" is not canonical


def test_fingerprint_display_form() -> None:
    key = generate_private_key()
    display = fingerprint_display(key)
    groups = display.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert crockford_base32(fingerprint(key)[:10]) == "".join(groups)


def test_crockford_known_values() -> None:
    assert crockford_base32(bytes(10)) == "0" * 16
    assert crockford_base32(b"\xff" * 10) == "Z" * 16
    assert crockford_base32(b"\x08" + bytes(9)) == "1" + "0" * 15


@pytest.mark.parametrize("passphrase", [None, b"correct horse"])
def test_private_key_file(tmp_path: Path, passphrase: bytes | None) -> None:
    key = generate_private_key()
    path = tmp_path / "k.pem"
    save_private_key(path, key, passphrase)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    loaded = load_private_key(path, passphrase)
    assert public_key_bytes(loaded) == public_key_bytes(key)
    with pytest.raises(FileExistsError):
        save_private_key(path, key)


def test_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_private_key(path, generate_private_key(), b"right")
    with pytest.raises(InvalidKeyError):
        load_private_key(path, b"wrong")
    with pytest.raises(InvalidKeyError):
        load_private_key(path, None)
