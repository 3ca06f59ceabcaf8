"""Shop public keys: P-256 validation and fingerprints.

Private copy of the fingerprint rule of the envelope (ARCHITECTURE.md section 2):
fingerprint = SHA-256 of the 65-byte uncompressed point, shown as its first 10
bytes in Crockford base32, XXXX-XXXX-XXXX-XXXX.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric import ec

from relay_grpc.errors import Reason, RelayError

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def validate_public_key(public_key: bytes) -> bytes:
    """Return ``public_key`` if it is a 65-byte uncompressed point on P-256.

    Raises:
        RelayError: INVALID_REQUEST, wrong length, compressed form or not on the curve.
    """
    if len(public_key) != 65 or public_key[0] != 0x04:
        raise RelayError(Reason.INVALID_REQUEST, "public_key must be a 65-byte uncompressed P-256 point", field="public_key")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    except ValueError:
        raise RelayError(Reason.INVALID_REQUEST, "public_key is not a valid P-256 point", field="public_key") from None
    return public_key


def fingerprint(public_key: bytes) -> bytes:
    """SHA-256 of the public key bytes (32 bytes)."""
    return hashlib.sha256(public_key).digest()


def fingerprint_display(fp: bytes) -> str:
    """First 10 bytes of ``fp`` in Crockford base32, as XXXX-XXXX-XXXX-XXXX."""
    value = int.from_bytes(fp[:10], "big")
    chars = "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(75, -1, -5))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))
