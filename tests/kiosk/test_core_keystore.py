"""Key store files, passphrase, token, pruning; settings and data folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import envelope
from kiosk.core.config import (
    Offer,
    PriceTable,
    PrinterSettings,
    Settings,
    load_settings,
    save_settings,
)
from kiosk.core.errors import ConfigError, KeyStoreError, WrongPassphrase
from kiosk.core.keystore import KeyStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_key_is_private_and_loads(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "kiosk")
    fp = store.generate()
    store.set_current(fp)
    path = tmp_path / "kiosk" / "keys" / f"{fp.hex()}.pem"
    assert mode(path) == 0o600
    assert mode(tmp_path / "kiosk" / "keys" / "index.json") == 0o600
    assert store.current_fingerprint == fp
    fresh = KeyStore(tmp_path / "kiosk")
    assert envelope.fingerprint(fresh.private_key(fp)) == fp
    assert envelope.fingerprint(fresh.public_key_bytes()) == fp
    assert b"ENCRYPTED" not in path.read_bytes()


def test_passphrase_encrypts_the_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, passphrase="correct horse")
    fp = store.generate()
    store.set_current(fp)
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "keys" / f"{fp.hex()}.pem").read_bytes()
    assert envelope.fingerprint(KeyStore(tmp_path, passphrase="correct horse").private_key(fp)) == fp
    with pytest.raises(WrongPassphrase):
        KeyStore(tmp_path, passphrase="wrong").private_key(fp)
    with pytest.raises(WrongPassphrase):
        KeyStore(tmp_path).check_passphrase()


def test_unknown_fingerprint_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError):
        KeyStore(tmp_path).private_key(b"\x01" * 32)


def test_token_file_is_private(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    assert store.token is None
    store.save_token("tok_abc")
    assert store.token == "tok_abc"
    assert mode(tmp_path / "token") == 0o600


def test_rotation_keeps_old_key_until_unused_and_old(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    old = store.generate()
    store.set_current(old)
    new = store.generate()
    store.set_current(new)
    assert set(store.fingerprints()) == {old, new}
    assert store.fingerprints()[0] == new
    # Recently retired: kept even with no job using it.
    assert store.prune(in_use=set(), retention_seconds=1800) == []
    import time

    later = time.time() + 1800 + 601
    # Still in use by a job: kept.
    assert store.prune(in_use={old}, retention_seconds=1800, now=later) == []
    assert store.prune(in_use=set(), retention_seconds=1800, now=later) == [old]
    assert store.fingerprints() == [new]
    with pytest.raises(KeyStoreError):
        store.remove(new)


def test_settings_round_trip_and_validation(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == Settings()
    settings = Settings(
        relay_address="127.0.0.1:5000",
        bridge_url="https://print.example",
        printer=PrinterSettings(kind="ipp", uri="ipp://printer:631/ipp/print"),
        prices=PriceTable(bw_cents=12, colour_cents=80, currency="CHF", sheets=(("A3", "color", True, 150),)),
        offer=Offer(media=("A4", "A3"), pages_per_sheet=(1, 2)),
        sound=False,
    )
    save_settings(tmp_path, settings)
    assert load_settings(tmp_path) == settings
    assert mode(tmp_path / "settings.json") == 0o600
    with pytest.raises(ConfigError):
        save_settings(tmp_path, settings.replace(sound=True).__class__(printer=PrinterSettings(kind="fax")))
    (tmp_path / "settings.json").write_text("[1, 2]")
    with pytest.raises(ConfigError):
        load_settings(tmp_path)
    assert PriceTable(currency="EUR").format(1234) == "EUR 12.34"
