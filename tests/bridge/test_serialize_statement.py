"""The kiosk's statement reaches the page's JSON unchanged (bytes as base64url, empty fields left out)."""

from __future__ import annotations

import base64

from cloudtab.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from web_bridge.serialize import job_to_dict, shop_to_dict


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_statement_fields_pass_through() -> None:
    statement = common_pb2.KioskStatement(
        sealed_detail=b"\xfa" * 33,
        signature=b"\x01" * 64,
        sign_time=Timestamp(seconds=1_764_000_000),
        kiosk_label="Counter 2",
    )
    out = job_to_dict(common_pb2.Job(job_id="j1", kiosk_statement=statement))["statement"]
    assert set(out) == {"sealed_detail", "signature", "sign_time", "kiosk_label"}
    assert _unb64(out["sealed_detail"]) == statement.sealed_detail
    assert _unb64(out["signature"]) == statement.signature
    assert out["sign_time"] == "2025-11-24T16:00:00Z"
    assert out["kiosk_label"] == "Counter 2"


def test_no_statement_is_null_and_unknown_wait_reason_is_named_unknown() -> None:
    assert job_to_dict(common_pb2.Job(job_id="j1"))["statement"] is None
    out = job_to_dict(common_pb2.Job(kiosk_statement=common_pb2.KioskStatement(wait_reason=77)))["statement"]  # type: ignore[arg-type]
    assert out == {"wait_reason": "unknown"}


def test_shop_lists_kiosk_keys() -> None:
    key = common_pb2.KioskKey(label="Counter 1", public_key=b"\x04" * 65, signing_key=b"", key_fingerprint=b"\xab" * 32)
    out = shop_to_dict(common_pb2.Shop(slug="s", kiosk_keys=[key]))["kiosk_keys"]
    assert out == [
        {"label": "Counter 1", "public_key": out[0]["public_key"], "signing_key": "", "key_fingerprint": "ab" * 32}
    ]
    assert _unb64(out[0]["public_key"]) == key.public_key
