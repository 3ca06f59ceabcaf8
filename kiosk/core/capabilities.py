"""What this kiosk publishes about its shop: printer choices, price list, accepted document types.

Public data (no job, no key): the relay serves it with GetShop so the
customer's page offers only what the shop can print and prices the job
before sending (web_bridge/static/js/pricing.js). Published with
``ShopJobsService.PublishCapabilities`` when the kiosk connects and when the
settings change (kiosk.core.service). The document types are what
kiosk.core.formats.accepted_media_types finds installed (LibreOffice,
pillow-heif).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.core.config import Settings
from kiosk.core.formats import accepted_media_types
from kiosk.core.pricing import PriceList


@dataclass(frozen=True)
class Capabilities:
    """Choices the page may offer (the option words of kiosk.core.options) and the price list."""

    media: tuple[str, ...]
    color: tuple[str, ...]
    sides: tuple[str, ...]
    pages_per_sheet: tuple[int, ...]
    prices: PriceList
    accepted_media_types: tuple[str, ...]


def shop_capabilities(
    settings: Settings, media_types: Callable[[], tuple[str, ...]] = accepted_media_types
) -> Capabilities:
    """The capabilities the shop's settings describe, priced with the kiosk's own price list."""
    offer = settings.offer
    prices = PriceList.from_table(settings.prices, offer.media)
    return Capabilities(
        media=tuple(offer.media),
        color=tuple(offer.color),
        sides=tuple(offer.sides),
        pages_per_sheet=tuple(offer.pages_per_sheet),
        prices=prices,
        accepted_media_types=media_types(),
    )
