"""The kiosk's receipt-signing key: published at enrolment and rotation, served in kiosk_keys."""

from __future__ import annotations

from cloudtab.v1 import shop_jobs_pb2, shop_jobs_pb2_grpc

from tests.fixtures.inproc import InProcessRelay
from tests.relay.helpers import get_shop, new_public_key, reason_of


def test_signing_key_is_published_checked_and_kept_across_rotation(inproc_relay: InProcessRelay) -> None:
    channel = inproc_relay.channel()
    stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    slug, code = inproc_relay.add_shop("Signing Shop")
    public, signing = new_public_key(), new_public_key()

    bad = shop_jobs_pb2.EnrollRequest(
        enrollment_code=code, public_key=public, kiosk_version="0.1.0", signing_key=b"\x04" + bytes(64)
    )
    reason, metadata = reason_of(lambda: stub.Enroll(bad, timeout=10))
    assert reason == "INVALID_REQUEST" and metadata["field"] == "signing_key"

    request = shop_jobs_pb2.EnrollRequest(
        enrollment_code=code, public_key=public, kiosk_version="0.1.0", signing_key=signing
    )
    reply = stub.Enroll(request, timeout=10)
    assert [(k.public_key, k.signing_key) for k in reply.shop.kiosk_keys] == [(public, signing)]
    assert [(k.public_key, k.signing_key) for k in get_shop(channel, slug).kiosk_keys] == [(public, signing)]

    md = (("authorization", f"Bearer {reply.shop_token}"),)
    rotated = new_public_key()
    shop = stub.RotateKey(shop_jobs_pb2.RotateKeyRequest(public_key=rotated), metadata=md, timeout=10).shop
    assert [(k.public_key, k.signing_key) for k in shop.kiosk_keys] == [(rotated, signing)]
    other = new_public_key()
    request2 = shop_jobs_pb2.RotateKeyRequest(public_key=new_public_key(), signing_key=other)
    shop = stub.RotateKey(request2, metadata=md, timeout=10).shop
    assert shop.kiosk_keys[0].signing_key == other
