"""The kiosk signs every state it sets; the signatures verify with the key the relay publishes."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path
from typing import Any

from cloudtab.v1 import common_pb2

import envelope
from envelope.keyset import KioskRecord, keyset_fingerprint
from envelope.receipt import Receipt, verify_receipt
from envelope.words import digest_words
from kiosk.core.demo import sample_image
from kiosk.core.jobs import LocalState
from kiosk.core.poster import shop_url
from kiosk.core.printing import PdfFolderPrinter
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile
from tests.kiosk.test_core_relay import job_in, wait_for


def new_point() -> bytes:
    return envelope.public_key_bytes(envelope.generate_private_key())


def _verifies(shop: common_pb2.Shop, job: common_pb2.Job, sealed_manifest: bytes, state: str) -> bool:
    statement = job.kiosk_statement
    receipt = Receipt(
        job.job_id,
        state,
        statement.sign_time.ToMilliseconds(),
        hashlib.sha256(sealed_manifest).digest(),
        reason=job.reason if state == "rejected" else "",
    )
    return any(verify_receipt(k.signing_key, receipt, statement.signature) for k in shop.kiosk_keys)


def test_kiosk_signs_received_and_rejected_with_its_published_key(relay: Any, tmp_path: Path) -> None:
    slug, code = relay.add_shop("Signed Copy")
    channel = relay.channel()
    customer = Customer(channel)
    core = KioskCore(tmp_path / "kiosk", printer=PdfFolderPrinter(tmp_path / "out"))
    try:
        core.enroll(relay.address, code)
        signing_file = core.data_dir / "keys" / "signing.pem"
        assert stat.S_IMODE(signing_file.stat().st_mode) == 0o600
        shop = customer.shop(slug)
        assert shop.kiosk_keys[0].signing_key == core.keystore.signing_public_key()
        # The kiosk shows (idle screen, poster) the key set the page checks: its own two keys.
        own = KioskRecord(core.keystore.public_key_bytes(), core.keystore.signing_public_key())
        profile = core.shop
        assert profile is not None and profile.keyset_digest == keyset_fingerprint([own])
        assert profile.keyset_words == digest_words(keyset_fingerprint([own]))
        assert shop_url("print.example.org", slug, profile.keyset_param, "f").endswith(f"#f={profile.keyset_param}")
        core.start()
        sent = customer.send(slug, [PlainFile("c.png", "image/png", sample_image("PNG"))])
        wait_for(job_in(core, sent.job_id, LocalState.READY), what="job ready")
        wait_for(lambda: customer.get(sent).state == common_pb2.JOB_STATE_RECEIVED, what="received")
        received = customer.get(sent)
        assert _verifies(shop, received, sent.sealed_manifest, "received")
        assert not _verifies(shop, received, sent.sealed_manifest, "completed")  # a relay cannot relabel it
        core.reject(sent.job_id, "printer")
        rejected = customer.get(sent)
        assert rejected.state == common_pb2.JOB_STATE_REJECTED
        assert _verifies(shop, rejected, sent.sealed_manifest, "rejected")

        # Another counter joins: the kiosk shows the relay's new key set, once it lists this kiosk.
        other = KioskRecord(new_point(), new_point())
        listed = common_pb2.Shop()
        listed.CopyFrom(customer.shop(slug))
        stranger = common_pb2.Shop(kiosk_keys=[common_pb2.KioskKey(public_key=other.encryption_key)])
        core.refresh_keyset(stranger)
        assert core.shop is not None and core.shop.keyset_digest == keyset_fingerprint([own])
        listed.kiosk_keys.add(public_key=other.encryption_key, signing_key=other.signing_key)
        core.refresh_keyset(listed)
        assert core.shop is not None and core.shop.keyset_digest == keyset_fingerprint([own, other])
        assert KioskCore(core.data_dir).shop.keyset_digest == keyset_fingerprint([own, other])  # type: ignore[union-attr]

        # A rotation publishes the same signing key again: pages that pinned it keep checking.
        before = core.keystore.signing_public_key()
        core.rotate_key()
        assert [k.signing_key for k in customer.shop(slug).kiosk_keys] == [before]
    finally:
        core.stop()
        channel.close()
