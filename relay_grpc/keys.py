"""Shop public keys as the relay checks and shows them: the envelope's rules
(docs/envelope.md section 2), one implementation in ``envelope.keys``.
"""

from __future__ import annotations

from envelope.errors import InvalidKeyError
from envelope.keys import fingerprint as _fingerprint
from envelope.keys import format_fingerprint, public_key_from_bytes
from relay_grpc.errors import Reason, RelayError

__all__ = ["fingerprint", "fingerprint_display", "validate_public_key"]


def validate_public_key(public_key: bytes, field: str = "public_key") -> bytes:
    """Return ``public_key`` if it is a 65-byte uncompressed point on P-256 (``field`` names it).

    Raises:
        RelayError: INVALID_REQUEST, wrong length, compressed form or not on the curve.
    """
    try:
        public_key_from_bytes(public_key)
    except InvalidKeyError as exc:
        raise RelayError(Reason.INVALID_REQUEST, f"{field}: {exc}", field=field) from None
    return public_key


def fingerprint(public_key: bytes) -> bytes:
    """SHA-256 of the public key bytes (32 bytes)."""
    return _fingerprint(public_key)


def fingerprint_display(fp: bytes) -> str:
    """First 10 bytes of the fingerprint ``fp`` in Crockford base32, as XXXX-XXXX-XXXX-XXXX."""
    return format_fingerprint(fp)
