"""A shop's published capabilities and price list: validation at the relay boundary and storage form.

Public data the kiosk publishes (ShopJobsService.PublishCapabilities) and
GetShop serves. The relay checks shape and sizes only (it never prices a job):
every list non-empty, short and without repeats, every word from the option
vocabulary of docs/envelope.md §4, prices in range and at most one per
(media, color, duplex). Stored as compact JSON on the shop row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from relay_grpc.errors import Reason, RelayError

MEDIA = ("A4", "Letter", "A3", "Legal")
COLORS = ("monochrome", "color")
SIDES = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
PAGES_PER_SHEET = (1, 2, 4)
MAX_PRICES = 64
MAX_AMOUNT = 1_000_000
MAX_MEDIA_TYPES = 32
MAX_STORED = 16_384
_CURRENCY = re.compile(r"[A-Z]{3}")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}")


@dataclass(frozen=True)
class SheetPrice:
    """Price of one sheet (minor currency units) for a paper size, colour mode and one/two sides."""

    media: str
    color: str
    duplex: bool
    amount: int


@dataclass(frozen=True)
class Capabilities:
    """What a shop's printer offers, its price list and the document types its kiosk prints."""

    media: tuple[str, ...]
    color: tuple[str, ...]
    sides: tuple[str, ...]
    pages_per_sheet: tuple[int, ...]
    currency: str
    prices: tuple[SheetPrice, ...]
    accepted_media_types: tuple[str, ...]

    def to_json(self) -> str:
        """The storage form (compact JSON)."""
        data = {
            "media": list(self.media),
            "color": list(self.color),
            "sides": list(self.sides),
            "pages_per_sheet": list(self.pages_per_sheet),
            "currency": self.currency,
            "prices": [[p.media, p.color, p.duplex, p.amount] for p in self.prices],
            "accepted_media_types": list(self.accepted_media_types),
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Capabilities:
        """Read the storage form back (written by :meth:`to_json`, so trusted)."""
        data: dict[str, Any] = json.loads(text)
        return cls(
            media=tuple(data["media"]),
            color=tuple(data["color"]),
            sides=tuple(data["sides"]),
            pages_per_sheet=tuple(data["pages_per_sheet"]),
            currency=data["currency"],
            prices=tuple(SheetPrice(m, c, bool(d), int(a)) for m, c, d, a in data["prices"]),
            accepted_media_types=tuple(data["accepted_media_types"]),
        )


def _refuse(field: str, message: str) -> RelayError:
    return RelayError(Reason.INVALID_REQUEST, f"capabilities: {message}", field=f"capabilities.{field}")


def _words(name: str, values: tuple[Any, ...], allowed: tuple[Any, ...]) -> tuple[Any, ...]:
    if not values:
        raise _refuse(name, f"{name} must not be empty")
    if len(set(values)) != len(values):
        raise _refuse(name, f"{name} repeats a value")
    for value in values:
        if value not in allowed:
            raise _refuse(name, f"{name} must be among {', '.join(map(str, allowed))}")
    return values


def validate(caps: Capabilities) -> Capabilities:
    """Check published capabilities at the relay boundary.

    Raises:
        RelayError: INVALID_REQUEST (``field`` names the list) for an empty, repeated or unknown option word, a bad
            currency, a price out of range or given twice, a malformed or
            excess media type, or too much data.
    """
    _words("media", caps.media, MEDIA)
    _words("color", caps.color, COLORS)
    _words("sides", caps.sides, SIDES)
    _words("pages_per_sheet", caps.pages_per_sheet, PAGES_PER_SHEET)
    if not _CURRENCY.fullmatch(caps.currency):
        raise _refuse("currency", "currency must be three capital letters (ISO 4217)")
    if len(caps.prices) > MAX_PRICES:
        raise _refuse("prices", f"at most {MAX_PRICES} prices")
    seen: set[tuple[str, str, bool]] = set()
    for price in caps.prices:
        key = (price.media, price.color, price.duplex)
        if price.media not in caps.media or price.color not in caps.color:
            raise _refuse("prices", "a price names a paper size or colour mode not offered")
        if key in seen:
            raise _refuse("prices", "two prices for the same paper, colour and sides")
        seen.add(key)
        if not 0 <= price.amount <= MAX_AMOUNT:
            raise _refuse("prices", f"a price must be 0..{MAX_AMOUNT} minor units")
    types = caps.accepted_media_types
    if not 1 <= len(types) <= MAX_MEDIA_TYPES:
        raise _refuse("accepted_media_types", f"1..{MAX_MEDIA_TYPES} accepted media types")
    if len(set(types)) != len(types):
        raise _refuse("accepted_media_types", "accepted media types repeat a value")
    for media_type in types:
        if len(media_type) > 127 or not _MEDIA_TYPE.fullmatch(media_type):
            raise _refuse("accepted_media_types", "an accepted media type is not type/subtype")
    if len(caps.to_json()) > MAX_STORED:
        raise _refuse("accepted_media_types", "too large")
    return caps
