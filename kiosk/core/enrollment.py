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

    @property
    def public_key_b64(self) -> str:
        """The public key as it goes in the poster URL (#k=)."""
        return envelope.encode_public_key(self.public_key)

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
        )


def save_profile(data_dir: Path, profile: ShopProfile) -> None:
    """Write shop.json (0600). Raises: ConfigError."""
    data = asdict(profile)
    data["public_key"] = profile.public_key.hex()
    data["fingerprint"] = profile.fingerprint.hex()
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
