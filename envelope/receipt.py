"""Receipts signed by the kiosk: what it says about a job, checkable by the customer's page.

Every state change a kiosk makes (received, printing, completed, rejected) carries a
signature over a versioned canonical message (docs/envelope.md §2.2) with the kiosk's
ECDSA P-256 signing key; the relay stores and forwards it unchanged and cannot make one.
Signatures are IEEE P1363 ``r ‖ s`` (64 bytes), the form WebCrypto verifies.

Message (version 1)::

    "cloudtab/v1 receipt" ‖ 0x00 ‖ F(job_id) ‖ F(state) ‖ F(reason) ‖ I2OSP(sign_time_ms, 8)
      ‖ manifest_sha256 (32) ‖ F(wait_reason) ‖ F(detail_sha256: 32 bytes or empty)
    F(x) = I2OSP(len(x), 2) ‖ x        (strings as UTF-8)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from envelope.errors import EnvelopeError, InvalidKeyError
from envelope.keys import PrivateKey, public_key_from_bytes

RECEIPT_DOMAIN = b"cloudtab/v1 receipt\x00"
SIGNATURE_SIZE = 64
KIOSK_STATES = ("received", "printing", "completed", "rejected")
_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


@dataclass(frozen=True)
class Receipt:
    """The signed facts of one state change.

    ``state`` is the lowercase state name the page shows (``"completed"``); ``reason``
    the reject reason exactly as sent (empty otherwise); ``wait_reason`` the wait
    reason's enum name without its ``WAIT_REASON_`` prefix, lowercase (empty when
    none); ``manifest_sha256`` SHA-256 of the sealed manifest the customer submitted;
    ``detail_sha256`` SHA-256 of the statement's sealed detail, or empty.
    """

    job_id: str
    state: str
    sign_time_ms: int
    manifest_sha256: bytes
    reason: str = ""
    wait_reason: str = ""
    detail_sha256: bytes = b""


def _field(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise EnvelopeError("a receipt field is longer than 65,535 bytes")
    return len(data).to_bytes(2, "big") + data


def receipt_message(receipt: Receipt) -> bytes:
    """The canonical bytes that are signed.

    Raises:
        EnvelopeError: a field out of range (state, time, digest sizes).
    """
    if receipt.state not in KIOSK_STATES:
        raise EnvelopeError("a receipt is for received, printing, completed or rejected")
    if not 0 <= receipt.sign_time_ms < 2**63:
        raise EnvelopeError("receipt time out of range")
    if len(receipt.manifest_sha256) != 32 or len(receipt.detail_sha256) not in (0, 32):
        raise EnvelopeError("receipt digests have 32 bytes")
    return (
        RECEIPT_DOMAIN
        + _field(receipt.job_id.encode("utf-8"))
        + _field(receipt.state.encode("ascii"))
        + _field(receipt.reason.encode("utf-8"))
        + receipt.sign_time_ms.to_bytes(8, "big")
        + receipt.manifest_sha256
        + _field(receipt.wait_reason.encode("ascii"))
        + _field(receipt.detail_sha256)
    )


def sign_receipt(key: PrivateKey, receipt: Receipt) -> bytes:
    """ECDSA P-256 / SHA-256 signature (deterministic, RFC 6979) as 64 bytes ``r ‖ s``."""
    der = key.sign(receipt_message(receipt), _ECDSA)
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_receipt(signing_key: bytes, receipt: Receipt, signature: bytes) -> bool:
    """True when ``signature`` (64 bytes ``r ‖ s``) is the kiosk's over ``receipt``."""
    if len(signature) != SIGNATURE_SIZE:
        return False
    try:
        public = public_key_from_bytes(signing_key)
        message = receipt_message(receipt)
    except (InvalidKeyError, EnvelopeError):
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data`` (the manifest and detail digests of a receipt)."""
    return hashlib.sha256(data).digest()
