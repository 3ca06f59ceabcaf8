"""The day book's own AES-256 key, kept wrapped under the kiosk's current private key.

``<data_dir>/keys/daybook.key`` (mode 0600) holds a random 32-byte key
encrypted with AES-GCM under a wrapping key derived (HKDF-SHA256) from the
private key with the fingerprint it names. Whoever cannot read the kiosk's
private key (passphrase) cannot read the day book. After a key rotation the
day book key is wrapped again under the new current key the next time it is
used, before the old key can be pruned.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.core.config import read_json, write_private
from kiosk.core.errors import ConfigError, KeyStoreError
from kiosk.core.keystore import KEYS_DIR, KeyStore

log = logging.getLogger(__name__)

KEY_FILE = "daybook.key"
WRAP_INFO = b"cloudtab kiosk day book key wrap v1"
WRAP_AAD = b"cloudtab-daybook-key-v1"


def _wrapping_key(keystore: KeyStore, fp: bytes) -> bytes:
    """AES key derived from the private key ``fp``. Raises: KeyStoreError, WrongPassphrase."""
    private = keystore.private_key(fp)
    secret = private.private_numbers().private_value.to_bytes(32, "big")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=fp, info=WRAP_INFO).derive(secret)


def _path(keystore: KeyStore) -> Path:
    return keystore.data_dir / KEYS_DIR / KEY_FILE


def _store(keystore: KeyStore, key: bytes, fp: bytes) -> None:
    nonce = os.urandom(12)
    wrapped = AESGCM(_wrapping_key(keystore, fp)).encrypt(nonce, key, WRAP_AAD + fp)
    data = {
        "fingerprint": fp.hex(),
        "nonce": base64.b64encode(nonce).decode(),
        "wrapped": base64.b64encode(wrapped).decode(),
    }
    try:
        keystore.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(_path(keystore), json.dumps(data).encode())
    except (OSError, ConfigError) as exc:
        raise KeyStoreError(f"cannot store the day book key: {exc}") from exc


def daybook_key(keystore: KeyStore) -> bytes:
    """The day book key: unwrapped, created on first use, re-wrapped to the current key if needed.

    Raises:
        KeyStoreError: not enrolled, the wrapping key is gone, or the file is damaged.
        WrongPassphrase: the private key is locked.
    """
    current = keystore.current_fingerprint
    if current is None:
        raise KeyStoreError("the kiosk has no key yet; enroll first")
    try:
        data = read_json(_path(keystore))
    except ConfigError as exc:
        raise KeyStoreError("the day book key file is damaged") from exc
    if data is None:
        key = AESGCM.generate_key(bit_length=256)
        _store(keystore, key, current)
        return key
    try:
        fp = bytes.fromhex(str(data["fingerprint"]))
        nonce = base64.b64decode(str(data["nonce"]))
        wrapped = base64.b64decode(str(data["wrapped"]))
        key = AESGCM(_wrapping_key(keystore, fp)).decrypt(nonce, wrapped, WRAP_AAD + fp)
    except (KeyError, ValueError, InvalidTag) as exc:
        raise KeyStoreError("the day book key file is damaged") from exc
    if fp != current:
        _store(keystore, key, current)
        log.info("day book key wrapped under the current kiosk key")
    return key
