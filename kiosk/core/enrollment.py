"""Enrollment and key rotation, and the stored shop profile (``shop.json``).

The kiosk generates its key pair locally, redeems the one-time code with
ShopJobsService.Enroll, and stores the shop id, token and profile. Rotation
makes a new key current at the relay and keeps the old one for its jobs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from cloudtab.v1 import common_pb2

import envelope
from envelope.keyset import KioskRecord, encode_fingerprint, keyset_fingerprint
from envelope.words import digest_words
from kiosk.core.config import read_json, write_private
from kiosk.core.counters import key_listed, own_label
from kiosk.core.errors import ConfigError, EnrollmentError, KioskError
from kiosk.core.keystore import KeyStore
from kiosk.core.relay import RelayClient

log = logging.getLogger(__name__)

PROFILE_FILE = "shop.json"


@dataclass(frozen=True)
class ShopProfile:
    """The enrolled shop, as the relay described it."""

    shop_id: str
    slug: str
    display_name: str
    public_key: bytes
    fingerprint: bytes
    fingerprint_display: str
    retention_seconds: int = 1800
    min_kiosk_version: str = ""
    accepted_media_types: tuple[str, ...] = ()
    relay_address: str = ""
    kiosk_label: str = ""  # this kiosk's counter in the shop ("Counter 2"); "" before several kiosks
    # SHA-256 of the shop's key set (docs/envelope.md §2.1) as the relay lists it; b"" in
    # profiles stored before key sets: then this kiosk's encryption key alone.
    keyset_fingerprint: bytes = b""

    @property
    def public_key_b64(self) -> str:
        """The public key as it went in old posters' URLs (#k=)."""
        return envelope.encode_public_key(self.public_key)

    @property
    def keyset_digest(self) -> bytes:
        """The key set fingerprint customers compare (32 bytes)."""
        if self.keyset_fingerprint:
            return self.keyset_fingerprint
        return keyset_fingerprint([KioskRecord(self.public_key)]) if self.public_key else b""

    @property
    def keyset_param(self) -> str:
        """The poster URL's ``#f=`` value (base64url of the key set fingerprint)."""
        return encode_fingerprint(self.keyset_digest)

    @property
    def keyset_display(self) -> str:
        """``XXXX-XXXX-XXXX-XXXX`` of the key set fingerprint ("" before enrolment)."""
        return envelope.keys.format_fingerprint(self.keyset_digest) if self.keyset_digest else ""

    @property
    def keyset_words(self) -> list[str]:
        """The six words of the key set fingerprint (the customer's page shows the same)."""
        return digest_words(self.keyset_digest) if self.keyset_digest else []

    @classmethod
    def from_proto(cls, shop_id: str, shop: common_pb2.Shop, relay_address: str) -> ShopProfile:
        public_key = bytes(shop.public_key)
        return cls(
            shop_id=shop_id,
            slug=shop.slug,
            display_name=shop.display_name,
            public_key=public_key,
            fingerprint=envelope.fingerprint(public_key) if public_key else bytes(shop.key_fingerprint),
            fingerprint_display=shop.key_fingerprint_display
            or (envelope.fingerprint_display(public_key) if public_key else ""),
            retention_seconds=shop.retention_seconds or 1800,
            min_kiosk_version=shop.min_kiosk_version,
            accepted_media_types=tuple(shop.accepted_media_types),
            relay_address=relay_address,
            keyset_fingerprint=shop_keyset_fingerprint(shop),
        )


def shop_keyset_fingerprint(shop: common_pb2.Shop) -> bytes:
    """The key set fingerprint of the relay's list of the shop's kiosks (b"" without keys).

    Raises:
        EnrollmentError: the relay lists keys that are not valid points.
    """
    try:
        if shop.kiosk_keys:
            return keyset_fingerprint([KioskRecord(bytes(k.public_key), bytes(k.signing_key)) for k in shop.kiosk_keys])
        return keyset_fingerprint([KioskRecord(bytes(shop.public_key))]) if shop.public_key else b""
    except envelope.InvalidKeyError as exc:
        raise EnrollmentError(f"the relay lists an invalid kiosk key: {exc}") from None


def save_profile(data_dir: Path, profile: ShopProfile) -> None:
    """Write shop.json (0600). Raises: ConfigError."""
    data = asdict(profile)
    data["public_key"] = profile.public_key.hex()
    data["fingerprint"] = profile.fingerprint.hex()
    data["keyset_fingerprint"] = profile.keyset_fingerprint.hex()
    data["accepted_media_types"] = list(profile.accepted_media_types)
    write_private(data_dir / PROFILE_FILE, json.dumps(data, indent=1).encode())


def load_profile(data_dir: Path) -> ShopProfile | None:
    """The stored profile, or None before enrollment. Raises: ConfigError."""
    data = read_json(data_dir / PROFILE_FILE)
    if data is None:
        return None
    try:
        data["public_key"] = bytes.fromhex(data["public_key"])
        data["fingerprint"] = bytes.fromhex(data["fingerprint"])
        data["keyset_fingerprint"] = bytes.fromhex(data.get("keyset_fingerprint") or "")
        data["accepted_media_types"] = tuple(data.get("accepted_media_types") or ())
        return ShopProfile(**data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{data_dir / PROFILE_FILE} is damaged: {exc}") from exc


def enroll(data_dir: Path, keystore: KeyStore, relay_address: str, code: str) -> ShopProfile:
    """Generate a key, redeem ``code`` at the relay, store token + profile. [blocking]

    On failure the new key is removed again and nothing else changes.

    Raises:
        EnrollmentError: bad code, unreachable relay, or the relay's answer is unusable.
        KeyStoreError, ConfigError: local storage failed.
    """
    if not code.strip():
        raise EnrollmentError("enter the enrollment code from `cloudtab-relay shop add`")
    fp = keystore.generate()
    public_key = keystore.public_key_bytes(fp)
    signing_key = keystore.signing_public_key(create=True)
    client = RelayClient(relay_address)
    try:
        response = client.enroll(code, public_key, signing_key)
    except KioskError:
        _discard(keystore, fp)
        raise
    finally:
        client.close()
    if not response.shop_token or not key_listed(response.shop, public_key):
        _discard(keystore, fp)
        raise EnrollmentError("the relay's answer does not match this kiosk's key")
    profile = ShopProfile.from_proto(response.shop_id, response.shop, relay_address)
    profile = ShopProfile(
        **{
            **asdict(profile),
            "public_key": public_key,
            "fingerprint": fp,
            "fingerprint_display": envelope.fingerprint_display(public_key),
            "kiosk_label": own_label(response.shop, public_key),
        }
    )
    keystore.save_token(response.shop_token)
    keystore.set_current(fp)
    save_profile(data_dir, profile)
    log.info("enrolled as shop %s", profile.slug)
    return profile


def rotate_key(data_dir: Path, keystore: KeyStore, client: RelayClient, profile: ShopProfile) -> ShopProfile:
    """Make a new key current at the relay; the old key stays for its jobs. [blocking]

    Raises:
        RelayError: the relay refused or is unreachable (the new key is discarded).
        KeyStoreError, ConfigError: local storage failed.
    """
    fp = keystore.generate()
    public_key = keystore.public_key_bytes(fp)
    try:
        response = client.rotate_key(public_key, keystore.signing_public_key(create=True))
    except KioskError:
        _discard(keystore, fp)
        raise
    keystore.set_current(fp)
    new = ShopProfile.from_proto(profile.shop_id, response.shop, profile.relay_address)
    new = ShopProfile(
        **{
            **asdict(new),
            "public_key": public_key,
            "fingerprint": fp,
            "fingerprint_display": envelope.fingerprint_display(public_key),
            "kiosk_label": own_label(response.shop, public_key) or profile.kiosk_label,
        }
    )
    save_profile(data_dir, new)
    log.info("rotated the shop key")
    return new


def _discard(keystore: KeyStore, fp: bytes) -> None:
    try:
        keystore.remove(fp)
    except KioskError:
        log.warning("could not remove an unused key file")
