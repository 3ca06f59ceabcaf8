"""Multi-recipient sealed manifest (docs/envelope.md §5.2): one job, several kiosks of a shop.

The manifest JSON (format 2) is encrypted once under a fresh random 32-byte
manifest key M (AES-256-GCM, zero nonce, the header as aad); M is HPKE-sealed
to each recipient's P-256 key, and each entry names the recipient's key
fingerprint (SHA-256 of its 65-byte point) so a kiosk finds its own::

    header = "CTMR" || 0x01 || n || n x (fingerprint (32) || wrapped M (113))
    sealed = header || AES-256-GCM(M, 0^12, manifest JSON, aad = header)

Single-recipient sealed manifests (§5) start with 0x04 (the HPKE enc point),
never with "C", so :func:`envelope.open_manifest` tells them apart.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from envelope.errors import ManifestError, WrongKeyError
from envelope.keys import PrivateKey, PublicKey, fingerprint, public_key_bytes, public_key_from_bytes
from envelope.manifest import ENC_SIZE, MAX_MANIFEST_SIZE, SUITE, VERSION, Manifest, job_info, parse

MAGIC = b"CTMR"
CONTAINER_VERSION = 1
MAX_RECIPIENTS = 16
"""The most keys one sealed manifest names, and so the most kiosks a shop has (key set, relay)."""
RECIPIENT_INFO_PREFIX = b"cloudtab/v3 recipient:"
MANIFEST_KEY_SIZE = 32
FINGERPRINT_SIZE = 32
WRAPPED_SIZE = ENC_SIZE + MANIFEST_KEY_SIZE + 16
ENTRY_SIZE = FINGERPRINT_SIZE + WRAPPED_SIZE
HEADER_FIXED = len(MAGIC) + 2
BODY_NONCE = bytes(12)

Wrap = Callable[[PublicKey, bytes, bytes], bytes]
"""(recipient key, info, M) -> enc || ciphertext; HPKE base mode single shot."""


def recipient_info(job_id: str) -> bytes:
    """HPKE info for wrapping M: ``cloudtab/v3 recipient:`` + UTF-8 job id.

    Raises:
        ManifestError: empty, too long, or containing control characters.
    """
    return RECIPIENT_INFO_PREFIX + job_info(job_id)[len(b"cloudtab/v1 job:") :]


def is_multi(sealed: bytes) -> bool:
    """True when ``sealed`` is a multi-recipient container (it starts with "CTMR")."""
    return sealed[: len(MAGIC)] == MAGIC


def _hpke_wrap(key: PublicKey, info: bytes, manifest_key: bytes) -> bytes:
    return SUITE.encrypt(manifest_key, key, info=info)


def seal_manifest_multi(
    manifest: Manifest,
    public_keys: Sequence[PublicKey | bytes],
    job_id: str,
    *,
    manifest_key: bytes | None = None,
    wrap: Wrap = _hpke_wrap,
) -> bytes:
    """Seal the manifest once, with M wrapped to every key, in the order given.

    ``manifest_key`` and ``wrap`` exist for the test vectors (fixed M and
    ephemeral keys); leave them alone otherwise.

    Raises:
        ManifestError: invalid manifest or job id, no keys, more than 16, or a key twice.
        InvalidKeyError: a key is not a P-256 point.
    """
    if not 1 <= len(public_keys) <= MAX_RECIPIENTS:
        raise ManifestError(f"a sealed manifest has 1..{MAX_RECIPIENTS} recipients")
    keys = [public_key_from_bytes(k) if isinstance(k, bytes) else k for k in public_keys]
    prints = [fingerprint(public_key_bytes(k)) for k in keys]
    if len(set(prints)) != len(prints):
        raise ManifestError("a recipient key is listed twice")
    body = manifest.to_json()
    m_key = secrets.token_bytes(MANIFEST_KEY_SIZE) if manifest_key is None else manifest_key
    if len(m_key) != MANIFEST_KEY_SIZE:
        raise ManifestError("the manifest key must be 32 bytes")
    info = recipient_info(job_id)
    header = bytearray(MAGIC + bytes([CONTAINER_VERSION, len(keys)]))
    for key, fp in zip(keys, prints, strict=True):
        wrapped = wrap(key, info, m_key)
        if len(wrapped) != WRAPPED_SIZE:
            raise ManifestError("wrapped manifest key has the wrong size")
        header += fp + wrapped
    return bytes(header) + AESGCM(m_key).encrypt(BODY_NONCE, body, bytes(header))


def recipients(sealed: bytes) -> list[bytes]:
    """The key fingerprints a container is sealed to, in order.

    Raises:
        WrongKeyError: not a well-formed container (one error for every malformation).
    """
    if len(sealed) < HEADER_FIXED or not is_multi(sealed) or sealed[4] != CONTAINER_VERSION:
        raise WrongKeyError("not a multi-recipient sealed manifest this receiver understands")
    count = sealed[5]
    end = HEADER_FIXED + count * ENTRY_SIZE
    if not 1 <= count <= MAX_RECIPIENTS or len(sealed) < end + 16:
        raise WrongKeyError("sealed manifest has an impossible length")
    if len(sealed) > end + MAX_MANIFEST_SIZE + 16:
        raise WrongKeyError("sealed manifest has an impossible length")
    prints = [sealed[HEADER_FIXED + i * ENTRY_SIZE :][:FINGERPRINT_SIZE] for i in range(count)]
    if len(set(prints)) != count:
        raise WrongKeyError("sealed manifest lists a recipient twice")
    return prints


def open_manifest_multi_bytes(sealed: bytes, private_key: PrivateKey, job_id: str) -> bytes:
    """Find this key's entry, unwrap M, open the body; the manifest JSON bytes (not validated).

    Raises:
        WrongKeyError: not sealed to this key, wrong job, altered, or malformed
            (one error: a receiver MUST NOT tell these apart to anyone).
        ManifestError: invalid job id.
    """
    info = recipient_info(job_id)
    prints = recipients(sealed)
    own = fingerprint(public_key_bytes(private_key))
    if own not in prints:
        raise WrongKeyError("the manifest is not sealed to this key")
    at = HEADER_FIXED + prints.index(own) * ENTRY_SIZE + FINGERPRINT_SIZE
    end = HEADER_FIXED + len(prints) * ENTRY_SIZE
    try:
        m_key = SUITE.decrypt(sealed[at : at + WRAPPED_SIZE], private_key, info=info)
        if len(m_key) != MANIFEST_KEY_SIZE:
            raise ValueError("manifest key size")
        return AESGCM(m_key).decrypt(BODY_NONCE, sealed[end:], sealed[:end])
    except (InvalidTag, ValueError):
        raise WrongKeyError(
            "manifest does not open with this key for this job (wrong key, other job, or altered)"
        ) from None


def open_manifest_multi(sealed: bytes, private_key: PrivateKey, job_id: str) -> Manifest:
    """Open and validate a multi-recipient sealed manifest (its JSON MUST be format 2).

    Raises:
        WrongKeyError: see :func:`open_manifest_multi_bytes`.
        ManifestError: the plaintext is not a valid format-2 manifest.
    """
    manifest = parse(open_manifest_multi_bytes(sealed, private_key, job_id))
    if manifest.version != VERSION:
        raise ManifestError("a multi-recipient manifest must be format 2")
    return manifest
