"""The shop's key set: every active kiosk's encryption and signing key, one fingerprint.

A shop may have several kiosks (counters); each has an ECDH P-256 key that jobs are
sealed to and an ECDSA P-256 key that signs its receipts (docs/envelope.md §2.1).
The customer checks one fingerprint over all of them: the QR fragment ``#f=`` pins it,
the page and the kiosk show it as ``XXXX-XXXX-XXXX-XXXX`` and as six words.

Canonical form (version 1)::

    record   = encryption_key (65) ‖ signing_key (65, or 65 zero bytes when absent)
    key set  = "cloudtab/v1 keyset" ‖ I2OSP(n, 1) ‖ record_1 ‖ … ‖ record_n
               (records sorted bytewise ascending, 1 <= n <= 32, no encryption key twice)
    fingerprint = SHA-256(key set)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from envelope.b64 import b64url_decode, b64url_encode
from envelope.errors import InvalidKeyError
from envelope.keys import PUBLIC_KEY_SIZE, format_fingerprint, public_key_from_bytes
from envelope.recipients import MAX_RECIPIENTS

KEYSET_DOMAIN = b"cloudtab/v1 keyset"
MAX_KIOSKS = MAX_RECIPIENTS  # the page seals each job to every kiosk of the set
NO_SIGNING_KEY = bytes(PUBLIC_KEY_SIZE)
FRAGMENT_PARAM = "f"


@dataclass(frozen=True, order=True)
class KioskRecord:
    """One kiosk's public keys: 65-byte points; ``signing_key`` empty when it has none."""

    encryption_key: bytes
    signing_key: bytes = b""

    def __post_init__(self) -> None:
        public_key_from_bytes(self.encryption_key)
        if self.signing_key:
            public_key_from_bytes(self.signing_key)

    def canonical(self) -> bytes:
        """The record's 130 bytes in the key set."""
        return self.encryption_key + (self.signing_key or NO_SIGNING_KEY)


def keyset_bytes(records: Iterable[KioskRecord]) -> bytes:
    """The canonical key set (sorted records behind the versioned domain string).

    Raises:
        InvalidKeyError: no record, more than 32, or an encryption key twice.
    """
    canon = sorted(r.canonical() for r in records)
    if not 1 <= len(canon) <= MAX_KIOSKS:
        raise InvalidKeyError(f"a key set has 1 to {MAX_KIOSKS} kiosks")
    if len({c[:PUBLIC_KEY_SIZE] for c in canon}) != len(canon):
        raise InvalidKeyError("a key set names an encryption key twice")
    return KEYSET_DOMAIN + bytes([len(canon)]) + b"".join(canon)


def keyset_fingerprint(records: Iterable[KioskRecord]) -> bytes:
    """SHA-256 of :func:`keyset_bytes` (32 bytes)."""
    return hashlib.sha256(keyset_bytes(records)).digest()


def keyset_display(records: Iterable[KioskRecord]) -> str:
    """``XXXX-XXXX-XXXX-XXXX`` of the key set fingerprint."""
    return format_fingerprint(keyset_fingerprint(records))


def encode_fingerprint(digest: bytes) -> str:
    """The ``#f=`` value: unpadded base64url of the 32-byte fingerprint (43 characters)."""
    if len(digest) != 32:
        raise InvalidKeyError("a key set fingerprint has 32 bytes")
    return b64url_encode(digest)


def decode_fingerprint(text: str) -> bytes:
    """Parse a ``#f=`` value.

    Raises:
        InvalidKeyError: not unpadded base64url of exactly 32 bytes.
    """
    try:
        raw = b64url_decode(text)
    except ValueError as exc:
        raise InvalidKeyError("key set fingerprint is not unpadded base64url") from exc
    if len(raw) != 32:
        raise InvalidKeyError("a key set fingerprint has 32 bytes")
    return raw
