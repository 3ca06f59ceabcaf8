"""The kiosk's private keys (by fingerprint) and its shop token, in the data folder.

Layout under ``<data_dir>/keys``: ``<fingerprint hex>.pem`` (PKCS#8, mode 0600,
encrypted when a passphrase is set), ``signing.pem`` (the kiosk's ECDSA P-256 key for
its receipts, docs/envelope.md §2.2: stored the same way, kept across rotations so
pages that pinned it still check later receipts of their jobs) and ``index.json`` naming the current key
and when each older key was retired. The shop token is ``<data_dir>/token``
(0600). After a rotation old keys stay until no job sealed to them can still
exist (see :meth:`KeyStore.prune`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

import envelope
from kiosk.core.config import ensure_data_dir, read_json, write_private
from kiosk.core.errors import ConfigError, KeyStoreError, WrongPassphrase

log = logging.getLogger(__name__)

KEYS_DIR = "keys"
INDEX_FILE = "index.json"
TOKEN_FILE = "token"
SIGNING_FILE = "signing.pem"


class KeyStore:
    """Private keys and the shop token of one kiosk.

    Thread-safe for reads; writes happen from one thread at a time (enrollment,
    rotation) by design of the core.
    """

    def __init__(self, data_dir: Path, passphrase: str | None = None) -> None:
        self.data_dir = data_dir
        self.keys_dir = data_dir / KEYS_DIR
        self._passphrase = passphrase.encode("utf-8") if passphrase else None
        self._cache: dict[bytes, envelope.keys.PrivateKey] = {}

    # -- index ---------------------------------------------------------------
    def _index(self) -> dict[str, object]:
        try:
            data = read_json(self.keys_dir / INDEX_FILE)
        except ConfigError as exc:
            raise KeyStoreError(str(exc)) from exc
        return data or {"current": None, "retired": {}}

    def _save_index(self, index: dict[str, object]) -> None:
        try:
            write_private(self.keys_dir / INDEX_FILE, json.dumps(index, indent=1).encode())
        except ConfigError as exc:
            raise KeyStoreError(str(exc)) from exc

    @property
    def current_fingerprint(self) -> bytes | None:
        """Fingerprint of the key new jobs are sealed to, or None before enrollment."""
        current = self._index().get("current")
        return bytes.fromhex(current) if isinstance(current, str) else None

    def fingerprints(self) -> list[bytes]:
        """Every fingerprint with a key file, current first."""
        current = self.current_fingerprint
        found = []
        if self.keys_dir.is_dir():
            for path in sorted(self.keys_dir.glob("*.pem")):
                try:
                    found.append(bytes.fromhex(path.stem))
                except ValueError:
                    continue
        found.sort(key=lambda fp: fp != current)
        return found

    # -- keys ------------------------------------------------------------------
    def generate(self) -> bytes:
        """Create and store a new key pair (not yet current); return its fingerprint.

        Raises:
            KeyStoreError: the key file cannot be written.
        """
        ensure_data_dir(self.data_dir)
        try:
            self.keys_dir.mkdir(mode=0o700, exist_ok=True)
            key = envelope.generate_private_key()
            fp = envelope.fingerprint(key)
            envelope.save_private_key(self.keys_dir / f"{fp.hex()}.pem", key, self._passphrase)
        except OSError as exc:
            raise KeyStoreError(f"cannot store the new key: {exc.strerror}") from exc
        self._cache[fp] = key
        return fp

    def set_current(self, fp: bytes) -> None:
        """Make ``fp`` the current key; the previous one is retired now.

        Raises:
            KeyStoreError: no such key, or the index cannot be written.
        """
        if not (self.keys_dir / f"{fp.hex()}.pem").exists():
            raise KeyStoreError("no such key in the key store")
        index = self._index()
        retired = dict(index.get("retired") or {})  # type: ignore[call-overload]
        old = index.get("current")
        if isinstance(old, str) and old != fp.hex():
            retired[old] = time.time()
        retired.pop(fp.hex(), None)
        self._save_index({"current": fp.hex(), "retired": retired})

    def holds(self, fp: bytes) -> bool:
        """True when the key store has the private key with this fingerprint."""
        return fp in self._cache or (self.keys_dir / f"{fp.hex()}.pem").exists()

    def private_key(self, fp: bytes) -> envelope.keys.PrivateKey:
        """The private key with this fingerprint.

        Raises:
            KeyStoreError: no key with this fingerprint (e.g. an old poster's key was pruned).
            WrongPassphrase: the key is encrypted and the passphrase is missing or wrong.
        """
        cached = self._cache.get(fp)
        if cached is not None:
            return cached
        path = self.keys_dir / f"{fp.hex()}.pem"
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError("the job is sealed to a key this kiosk does not have") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read a key file: {exc.strerror}") from exc
        key = self._load_pem(pem, "a key file is damaged")
        if envelope.fingerprint(key) != fp:
            raise KeyStoreError("a key file does not match its name")
        self._cache[fp] = key
        return key

    def public_key_bytes(self, fp: bytes | None = None) -> bytes:
        """65-byte public point of a key (default: the current one).

        Raises:
            KeyStoreError, WrongPassphrase: as private_key; KeyStoreError if none is current.
        """
        fp = fp or self.current_fingerprint
        if fp is None:
            raise KeyStoreError("the kiosk has no key yet; enroll first")
        return envelope.public_key_bytes(self.private_key(fp))

    def check_passphrase(self) -> None:
        """Load the current key once, so a wrong passphrase shows at start.

        Raises:
            WrongPassphrase, KeyStoreError.
        """
        fp = self.current_fingerprint
        if fp is not None:
            self.private_key(fp)

    def remove(self, fp: bytes) -> None:
        """Delete a key file that is not current (best-effort overwrite first)."""
        if fp == self.current_fingerprint:
            raise KeyStoreError("cannot remove the current key")
        path = self.keys_dir / f"{fp.hex()}.pem"
        self._cache.pop(fp, None)
        try:
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.write(os.urandom(size))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise KeyStoreError(f"cannot remove an old key: {exc.strerror}") from exc
        index = self._index()
        retired = dict(index.get("retired") or {})  # type: ignore[call-overload]
        retired.pop(fp.hex(), None)
        self._save_index({"current": index.get("current"), "retired": retired})

    def prune(self, in_use: Iterable[bytes], retention_seconds: int, now: float | None = None) -> list[bytes]:
        """Delete retired keys no job can still need; return their fingerprints.

        A retired key goes once it was retired longer ago than the retention
        window plus 10 minutes (every job sealed before the rotation has
        expired by then) and no job in ``in_use`` names it.
        """
        now = time.time() if now is None else now
        keep = set(in_use)
        index = self._index()
        removed = []
        for fp_hex, retired_at in dict(index.get("retired") or {}).items():  # type: ignore[call-overload]
            fp = bytes.fromhex(fp_hex)
            if fp in keep or not isinstance(retired_at, int | float):
                continue
            if now - retired_at > retention_seconds + 600:
                self.remove(fp)
                removed.append(fp)
        if removed:
            log.info("removed %d retired key(s)", len(removed))
        return removed

    # -- signing key -------------------------------------------------------------
    def signing_key(self, create: bool = False) -> envelope.keys.PrivateKey | None:
        """The kiosk's receipt-signing key; None when there is none and ``create`` is False.

        Raises:
            KeyStoreError: the key file cannot be read, written or is damaged.
            WrongPassphrase: it is encrypted and the passphrase is missing or wrong.
        """
        cached = self._cache.get(b"signing")
        if cached is not None:
            return cached
        path = self.keys_dir / SIGNING_FILE
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
            return self._new_signing_key(path)
        except OSError as exc:
            raise KeyStoreError(f"cannot read the signing key: {exc.strerror}") from exc
        key = self._load_pem(pem, "the signing key file is damaged")
        self._cache[b"signing"] = key
        return key

    def _load_pem(self, pem: bytes, damaged: str) -> envelope.keys.PrivateKey:
        """A private key from its PEM, with the passphrase when the PEM is encrypted.

        Raises:
            WrongPassphrase: encrypted and no or a wrong passphrase.
            KeyStoreError: ``damaged`` when an unencrypted PEM does not load.
        """
        encrypted = b"ENCRYPTED" in pem.split(b"\n", 1)[0]
        if encrypted and not self._passphrase:
            raise WrongPassphrase("the private key is protected by a passphrase; enter it to start")
        try:
            return envelope.load_private_key_pem(pem, self._passphrase if encrypted else None)
        except envelope.InvalidKeyError:
            if encrypted:
                raise WrongPassphrase("wrong passphrase for the private key") from None
            raise KeyStoreError(damaged) from None

    def _new_signing_key(self, path: Path) -> envelope.keys.PrivateKey:
        ensure_data_dir(self.data_dir)
        try:
            self.keys_dir.mkdir(mode=0o700, exist_ok=True)
            key = envelope.generate_private_key()
            envelope.save_private_key(path, key, self._passphrase)
        except OSError as exc:
            raise KeyStoreError(f"cannot store the signing key: {exc.strerror}") from exc
        self._cache[b"signing"] = key
        return key

    def signing_public_key(self, create: bool = False) -> bytes:
        """65-byte public point of the signing key (b"" when there is none).

        Raises:
            KeyStoreError, WrongPassphrase: as :meth:`signing_key`.
        """
        key = self.signing_key(create)
        return envelope.public_key_bytes(key) if key is not None else b""

    # -- token -----------------------------------------------------------------
    @property
    def token(self) -> str | None:
        """The shop token, or None before enrollment.

        Raises:
            KeyStoreError: the token file exists but cannot be read.
        """
        try:
            return (self.data_dir / TOKEN_FILE).read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyStoreError("cannot read the shop token file") from exc

    def save_token(self, token: str) -> None:
        """Store the shop token (mode 0600).

        Raises:
            KeyStoreError: it cannot be written.
        """
        ensure_data_dir(self.data_dir)
        try:
            write_private(self.data_dir / TOKEN_FILE, token.encode("ascii"))
        except (ConfigError, UnicodeEncodeError) as exc:
            raise KeyStoreError(f"cannot store the shop token: {exc}") from exc
