"""Test-only HPKE base mode with an injectable ephemeral key.

pyca/cryptography's ``hpke.Suite`` draws its own ephemeral key, so test vectors
need this deterministic path built from cryptography's primitives (ECDH, HMAC,
HKDFExpand, AES-GCM). Tests check that it agrees with ``hpke.Suite`` (the
Suite opens what this seals) and with the RFC 9180 A.3 vectors. Production
code never imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from envelope.keys import public_key_bytes

KEM_P256 = 0x0010
KDF_SHA256 = 0x0001
AEAD_KEY_SIZES = {0x0001: 16, 0x0002: 32}
_V1 = b"HPKE-v1"
_KEM_SUITE = b"KEM" + KEM_P256.to_bytes(2, "big")


def _extract(salt: bytes, ikm: bytes) -> bytes:
    mac = hmac.HMAC(salt or bytes(32), hashes.SHA256())
    mac.update(ikm)
    return mac.finalize()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, _V1 + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + _V1 + suite + label + info, length)


@dataclass(frozen=True)
class Context:
    """Key schedule output, with the intermediate values the vectors list."""

    shared_secret: bytes
    key_schedule_context: bytes
    secret: bytes
    key: bytes
    base_nonce: bytes

    def nonce(self, seq: int) -> bytes:
        """base_nonce XOR seq (RFC 9180 section 5.2)."""
        return bytes(a ^ b for a, b in zip(self.base_nonce, seq.to_bytes(12, "big"), strict=True))

    def seal(self, seq: int, aad: bytes, plaintext: bytes) -> bytes:
        """AEAD seal at sequence number ``seq``."""
        return AESGCM(self.key).encrypt(self.nonce(seq), plaintext, aad)


def _schedule(shared_secret: bytes, info: bytes, aead_id: int) -> Context:
    suite = b"HPKE" + KEM_P256.to_bytes(2, "big") + KDF_SHA256.to_bytes(2, "big") + aead_id.to_bytes(2, "big")
    psk_id_hash = _labeled_extract(suite, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(suite, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(suite, shared_secret, b"secret", b"")
    key = _labeled_expand(suite, secret, b"key", context, AEAD_KEY_SIZES[aead_id])
    nonce = _labeled_expand(suite, secret, b"base_nonce", context, 12)
    return Context(shared_secret, context, secret, key, nonce)


def setup_base_s(
    recipient: ec.EllipticCurvePublicKey,
    ephemeral: ec.EllipticCurvePrivateKey,
    info: bytes,
    aead_id: int = 0x0002,
) -> tuple[bytes, Context]:
    """SetupBaseS with a fixed ephemeral key: returns (enc, context)."""
    enc = public_key_bytes(ephemeral)
    dh = ephemeral.exchange(ec.ECDH(), recipient)
    eae_prk = _labeled_extract(_KEM_SUITE, b"", b"eae_prk", dh)
    kem_context = enc + public_key_bytes(recipient)
    shared = _labeled_expand(_KEM_SUITE, eae_prk, b"shared_secret", kem_context, 32)
    return enc, _schedule(shared, info, aead_id)


def seal_base(
    recipient: ec.EllipticCurvePublicKey,
    ephemeral: ec.EllipticCurvePrivateKey,
    info: bytes,
    plaintext: bytes,
    aad: bytes = b"",
    aead_id: int = 0x0002,
) -> bytes:
    """Single-shot Seal with a fixed ephemeral key: enc || ciphertext."""
    enc, ctx = setup_base_s(recipient, ephemeral, info, aead_id)
    return enc + ctx.seal(0, aad, plaintext)


def private_key_from_hex(scalar_hex: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from its 32-byte scalar in hex."""
    return ec.derive_private_key(int(scalar_hex, 16), ec.SECP256R1())
