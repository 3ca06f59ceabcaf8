"""The kiosk publishes its shop's choices, price list and document types; GetShop serves them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.core.capabilities import shop_capabilities
from kiosk.core.config import Offer, PriceTable, Settings
from kiosk.core.errors import ConfigError
from kiosk.core.formats import accepted_media_types
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer


@pytest.fixture
def customer(relay) -> Iterator[Customer]:  # type: ignore[no-untyped-def]
    channel = relay.channel()
    yield Customer(channel)
    channel.close()


def test_capabilities_from_settings() -> None:
    settings = Settings(
        prices=PriceTable(bw_cents=12, colour_cents=60, currency="CHF", sheets=(("A3", "color", True, 200),)),
        offer=Offer(media=("A4", "A3"), sides=("one-sided", "two-sided-long-edge"), pages_per_sheet=(1, 2)),
    )
    caps = shop_capabilities(settings)
    assert (caps.media, caps.color, caps.sides, caps.pages_per_sheet) == (
        ("A4", "A3"),
        ("monochrome", "color"),
        ("one-sided", "two-sided-long-edge"),
        (1, 2),
    )
    assert caps.accepted_media_types == accepted_media_types()
    assert caps.prices.currency == "CHF"
    assert caps.prices.per_sheet("A4", "monochrome", False) == 12
    assert caps.prices.per_sheet("A3", "color", True) == 200
    assert shop_capabilities(settings, lambda: ("application/pdf",)).accepted_media_types == ("application/pdf",)


@pytest.mark.parametrize(
    "offer",
    [
        Offer(media=()),
        Offer(media=("A5",)),
        Offer(color=("bw",)),
        Offer(pages_per_sheet=(3,)),
        Offer(sides=("one-sided", "one-sided")),
    ],
)
def test_offer_must_use_the_vocabulary(offer: Offer) -> None:
    with pytest.raises(ConfigError):
        Settings(offer=offer).validate()


def test_kiosk_publishes_when_it_connects_and_when_settings_change(  # type: ignore[no-untyped-def]
    relay, customer, tmp_path: Path
) -> None:
    slug, code = relay.add_shop("Price Shop")
    core = KioskCore(tmp_path / "kiosk")
    try:
        core.enroll(relay.address, code)
        assert not customer.shop(slug).HasField("capabilities")
        core.start()
        deadline = time.monotonic() + 20
        while not customer.shop(slug).HasField("capabilities") and time.monotonic() < deadline:
            time.sleep(0.1)
        served = customer.shop(slug)
        caps = served.capabilities
        assert (list(caps.media), list(caps.color), caps.currency) == (["A4"], ["monochrome", "color"], "EUR")
        assert list(caps.pages_per_sheet) == [1, 2, 4]
        assert {(p.media, p.color, p.duplex, p.amount) for p in caps.prices} == {
            ("A4", "monochrome", False, 10),
            ("A4", "monochrome", True, 10),
            ("A4", "color", False, 50),
            ("A4", "color", True, 50),
        }
        assert list(served.accepted_media_types) == list(accepted_media_types())

        core.save_settings(
            core.settings.replace(
                prices=PriceTable(bw_cents=7, colour_cents=40, currency="GBP"),
                offer=Offer(media=("A4", "Letter"), color=("monochrome",)),
            )
        )
        deadline = time.monotonic() + 20
        while customer.shop(slug).capabilities.currency != "GBP" and time.monotonic() < deadline:
            time.sleep(0.1)
        caps = customer.shop(slug).capabilities
        assert (caps.currency, list(caps.media), list(caps.color)) == ("GBP", ["A4", "Letter"], ["monochrome"])
        assert {p.amount for p in caps.prices} == {7} and len(caps.prices) == 4
    finally:
        core.stop()
