"""The page gets the shop's published capabilities and price list in pricing.js's words (or null)."""

from __future__ import annotations

from cloudtab.v1 import common_pb2

from web_bridge.serialize import shop_to_dict


def test_capabilities_reach_the_page() -> None:
    caps = common_pb2.ShopCapabilities(
        media=["A4"],
        color=["monochrome", "color"],
        sides=["one-sided", "two-sided-long-edge"],
        pages_per_sheet=[1, 2],
        currency="EUR",
        prices=[common_pb2.SheetPrice(media="A4", color="color", duplex=True, amount=70)],
        accepted_media_types=["application/pdf"],
    )
    body = shop_to_dict(common_pb2.Shop(slug="s", capabilities=caps, accepted_media_types=["application/pdf"]))
    assert body["capabilities"] == {
        "media": ["A4"],
        "color": ["monochrome", "color"],
        "sides": ["one-sided", "two-sided-long-edge"],
        "pages_per_sheet": [1, 2],
        "currency": "EUR",
        "prices": [{"media": "A4", "color": "color", "duplex": True, "amount": 70}],
        "accepted_media_types": ["application/pdf"],
    }
    assert shop_to_dict(common_pb2.Shop(slug="s"))["capabilities"] is None  # not published yet
