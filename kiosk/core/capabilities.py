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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.core.config import Settings
from kiosk.core.formats import accepted_media_types
from kiosk.core.pricing import PriceList
from kiosk.core.printing.caps import PrinterCaps, union


@dataclass(frozen=True)
class Capabilities:
    """Choices the page may offer (the option words of kiosk.core.options) and the price list."""

    media: tuple[str, ...]
    color: tuple[str, ...]
    sides: tuple[str, ...]
    pages_per_sheet: tuple[int, ...]
    prices: PriceList
    accepted_media_types: tuple[str, ...]


def _within(offered: tuple[Any, ...], possible: tuple[Any, ...]) -> tuple[Any, ...]:
    """The offered choices some printer can do; the offer unchanged when none can (keep the page usable)."""
    both = tuple(v for v in offered if v in possible)
    return both or offered


def shop_capabilities(
    settings: Settings,
    media_types: Callable[[], tuple[str, ...]] = accepted_media_types,
    printer_caps: Iterable[PrinterCaps] = (),
) -> Capabilities:
    """The shop's offer within what its printers can do together, priced with the kiosk's own price list.

    ``printer_caps`` are the capabilities read from the printers (those not
    read yet are left out); their union bounds each choice of the offer.
    """
    offer = settings.offer
    known = list(printer_caps)
    able = union(known) if known else None
    media = _within(offer.media, able.media) if able else tuple(offer.media)
    prices = PriceList.from_table(settings.prices, media)
    return Capabilities(
        media=media,
        color=_within(offer.color, able.color) if able else tuple(offer.color),
        sides=_within(offer.sides, able.sides) if able else tuple(offer.sides),
        pages_per_sheet=_within(offer.pages_per_sheet, able.pages_per_sheet) if able else tuple(offer.pages_per_sheet),
        prices=prices,
        accepted_media_types=media_types(),
    )
