"""Shop keys: ECDH P-256 generation, PKCS#8 storage, public key text form, fingerprints.

The public key travels as the 65-byte uncompressed point in unpadded base64url.
Its fingerprint is SHA-256 of those 65 bytes; people compare the first 10 bytes
written in Crockford base32 as ``XXXX-XXXX-XXXX-XXXX``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from envelope.b64 import b64url_decode, b64url_encode
from envelope.errors import InvalidKeyError

PUBLIC_KEY_SIZE = 65
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey


def generate_private_key() -> PrivateKey:
    """A fresh random P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def public_key_bytes(key: PublicKey | PrivateKey) -> bytes:
    """The 65-byte uncompressed point of a P-256 public (or private) key."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def public_key_from_bytes(data: bytes) -> PublicKey:
    """Load a 65-byte uncompressed P-256 point.

    Raises:
        InvalidKeyError: wrong length, compressed form, or not on the curve.
    """
    if len(data) != PUBLIC_KEY_SIZE or data[0] != 0x04:
        raise InvalidKeyError("public key must be a 65-byte uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as exc:
        raise InvalidKeyError("public key is not a point on P-256") from exc


def encode_public_key(key: PublicKey | PrivateKey | bytes) -> str:
    """Unpadded base64url of the 65-byte point (the ``#k=`` / ``.pub`` form)."""
    raw = key if isinstance(key, bytes) else public_key_bytes(key)
    public_key_from_bytes(raw)
    return b64url_encode(raw)


def decode_public_key(text: str) -> PublicKey:
    """Parse the base64url text form of a public key.

    Raises:
        InvalidKeyError: not base64url, or not a valid P-256 point.
    """
    try:
        raw = b64url_decode(text.strip())
    except ValueError as exc:
        raise InvalidKeyError("public key is not unpadded base64url") from exc
    return public_key_from_bytes(raw)


def fingerprint(key: PublicKey | PrivateKey | bytes) -> bytes:
    """SHA-256 of the 65-byte uncompressed point."""
    raw = key if isinstance(key, bytes) else public_key_bytes(key)
    return hashlib.sha256(raw).digest()


def crockford_base32(data: bytes) -> str:
    """Crockford base32 (no check symbol) of bytes, most significant bits first."""
    bits = len(data) * 8
    value = int.from_bytes(data, "big")
    pad = (-bits) % 5
    value <<= pad
    count = (bits + pad) // 5
    return "".join(CROCKFORD_ALPHABET[(value >> (5 * (count - 1 - i))) & 31] for i in range(count))


def fingerprint_display(key: PublicKey | PrivateKey | bytes) -> str:
    """The fingerprint as people read it: ``XXXX-XXXX-XXXX-XXXX`` (first 10 bytes)."""
    return format_fingerprint(fingerprint(key))


def format_fingerprint(digest: bytes) -> str:
    """``XXXX-XXXX-XXXX-XXXX`` of an already computed 32-byte fingerprint."""
    text = crockford_base32(digest[:10])
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def private_key_to_pem(key: PrivateKey, passphrase: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with the passphrase when one is given."""
    encryption: serialization.KeySerializationEncryption
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase)
    else:
        encryption = serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_private_key_pem(data: bytes, passphrase: bytes | None = None) -> PrivateKey:
    """Load a PKCS#8 (or SEC1) PEM P-256 private key.

    Raises:
        InvalidKeyError: unreadable PEM, wrong or missing passphrase, not P-256.
    """
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError("cannot load private key (wrong passphrase or not a PEM key)") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidKeyError("private key is not a P-256 key")
    return key


def save_private_key(path: Path, key: PrivateKey, passphrase: bytes | None = None) -> None:
    """Write the key as PKCS#8 PEM with mode 0600; never overwrites.

    Raises:
        FileExistsError: the file exists already.
    """
    data = private_key_to_pem(key, passphrase)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def load_private_key(path: Path, passphrase: bytes | None = None) -> PrivateKey:
    """Read a private key file written by :func:`save_private_key`.

    Raises:
        OSError: the file cannot be read.
        InvalidKeyError: see :func:`load_private_key_pem`.
    """
    return load_private_key_pem(Path(path).read_bytes(), passphrase)
