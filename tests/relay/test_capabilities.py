"""PublishCapabilities: the kiosk's capabilities and price list, checked at the boundary, served by GetShop."""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from cloudtab.v1 import common_pb2, shop_jobs_pb2

from cloudtab_rpc.reasons import Reason
from relay_grpc.capabilities import Capabilities, SheetPrice, validate
from relay_grpc.errors import RelayError
from tests.relay.helpers import code_of, enroll, error_of, get_shop

SC = grpc.StatusCode

GOOD = Capabilities(
    media=("A4", "A3"),
    color=("monochrome", "color"),
    sides=("one-sided", "two-sided-long-edge"),
    pages_per_sheet=(1, 2, 4),
    currency="EUR",
    prices=(
        SheetPrice("A4", "monochrome", False, 10),
        SheetPrice("A4", "monochrome", True, 15),
        SheetPrice("A4", "color", False, 50),
        SheetPrice("A3", "color", True, 120),
    ),
    accepted_media_types=("application/pdf", "image/jpeg", "image/png", "image/heic"),
)


def to_proto(caps: Capabilities) -> common_pb2.ShopCapabilities:
    return common_pb2.ShopCapabilities(
        media=caps.media,
        color=caps.color,
        sides=caps.sides,
        pages_per_sheet=caps.pages_per_sheet,
        currency=caps.currency,
        prices=[
            common_pb2.SheetPrice(media=p.media, color=p.color, duplex=p.duplex, amount=p.amount) for p in caps.prices
        ],
        accepted_media_types=caps.accepted_media_types,
    )


BAD = {
    "no media": {"media": ()},
    "unknown media": {"media": ("A5",)},
    "repeated colour": {"color": ("color", "color")},
    "old colour word": {"color": ("bw",)},
    "unknown sides": {"sides": ("duplex",)},
    "3 per sheet": {"pages_per_sheet": (1, 3)},
    "no pages per sheet": {"pages_per_sheet": ()},
    "currency word": {"currency": "euro"},
    "currency lower": {"currency": "eur"},
    "negative price": {"prices": (SheetPrice("A4", "color", False, -1),)},
    "huge price": {"prices": (SheetPrice("A4", "color", False, 1_000_001),)},
    "price twice": {"prices": (SheetPrice("A4", "color", False, 1), SheetPrice("A4", "color", False, 2))},
    "price for paper not offered": {"prices": (SheetPrice("Legal", "color", False, 1),)},
    "too many prices": {"prices": tuple(SheetPrice("A4", "color", bool(i % 2), i) for i in range(65))},
    "no media types": {"accepted_media_types": ()},
    "bad media type": {"accepted_media_types": ("pdf",)},
    "media type with NUL": {"accepted_media_types": ("application/pdf\x00",)},
    "too many media types": {"accepted_media_types": tuple(f"image/x{i}" for i in range(33))},
    "repeated media type": {"accepted_media_types": ("image/png", "image/png")},
}


@pytest.mark.parametrize("change", BAD.values(), ids=list(BAD))
def test_boundary_refuses(change: dict[str, object]) -> None:
    with pytest.raises(RelayError) as refused:
        validate(dataclasses.replace(GOOD, **change))  # type: ignore[arg-type]
    assert refused.value.reason is Reason.INVALID_REQUEST
    assert refused.value.metadata["field"].startswith("capabilities.")


def test_storage_round_trip() -> None:
    assert Capabilities.from_json(validate(GOOD).to_json()) == GOOD


def test_publish_then_get_shop(relay) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Caps Shop")
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        before = get_shop(channel, slug)
        assert not before.HasField("capabilities")
        assert list(before.accepted_media_types) == ["application/pdf", "image/jpeg", "image/png"]

        reply = kiosk.stub.PublishCapabilities(
            shop_jobs_pb2.PublishCapabilitiesRequest(capabilities=to_proto(GOOD)), metadata=kiosk.md, timeout=10
        )
        assert reply.shop.capabilities == to_proto(GOOD)
        served = get_shop(channel, slug)
        assert served.capabilities == to_proto(GOOD)
        assert list(served.accepted_media_types) == list(GOOD.accepted_media_types)

        # A refused publish keeps what was published before; the error names the problem.
        bad = to_proto(dataclasses.replace(GOOD, currency="euro"))
        call = lambda: kiosk.stub.PublishCapabilities(
            shop_jobs_pb2.PublishCapabilitiesRequest(capabilities=bad), metadata=kiosk.md, timeout=10
        )
        assert code_of(call) == SC.INVALID_ARGUMENT
        assert "currency" in (error_of(call).details() or "")
        empty = lambda: kiosk.stub.PublishCapabilities(
            shop_jobs_pb2.PublishCapabilitiesRequest(), metadata=kiosk.md, timeout=10
        )
        assert code_of(empty) == SC.INVALID_ARGUMENT
        assert get_shop(channel, slug).capabilities == to_proto(GOOD)

        # Publishing again replaces; without the shop token nothing is accepted.
        plain = dataclasses.replace(
            GOOD, media=("Letter",), color=("monochrome",), prices=(), accepted_media_types=("application/pdf",)
        )
        kiosk.stub.PublishCapabilities(
            shop_jobs_pb2.PublishCapabilitiesRequest(capabilities=to_proto(plain)), metadata=kiosk.md, timeout=10
        )
        assert get_shop(channel, slug).capabilities == to_proto(plain)
        anonymous = lambda: kiosk.stub.PublishCapabilities(
            shop_jobs_pb2.PublishCapabilitiesRequest(capabilities=to_proto(GOOD)), timeout=10
        )
        assert code_of(anonymous) == SC.UNAUTHENTICATED
        assert get_shop(channel, slug).capabilities == to_proto(plain)
