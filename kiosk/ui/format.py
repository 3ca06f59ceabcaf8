"""Plain-text formatting of core state for the screens (no Kivy import).

Kept apart from the widgets so it is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

SIDES_TEXT = {
    "one-sided": "1-sided",
    "two-sided-long-edge": "2-sided",
    "two-sided-short-edge": "2-sided (short edge)",
}
COLOR_TEXT = {"monochrome": "B/W", "color": "Colour"}
STATE_TEXT = {
    "new": "New",
    "fetching": "Opening...",
    "ready": "Ready",
    "printing": "Printing",
    "printed": "Printed",
    "completed": "Completed",
    "rejected": "Rejected",
    "cancelled": "Cancelled by customer",
    "expired": "Expired",
    "failed": "Cannot be opened",
}


def time_left_text(left: timedelta) -> str:
    """'12:05 left', '1:02:03 left' or 'expired'."""
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d} left"
    return f"{minutes}:{secs:02d} left"


def options_text(options: Any) -> str:
    """'2 copies, Colour, 2-sided, A4, pages 1-3' from a PrintOptions."""
    copies = int(getattr(options, "copies", 1))
    parts = [f"{copies} cop{'y' if copies == 1 else 'ies'}"]
    parts.append(COLOR_TEXT.get(getattr(options, "color", ""), str(getattr(options, "color", ""))))
    parts.append(SIDES_TEXT.get(getattr(options, "sides", ""), str(getattr(options, "sides", ""))))
    parts.append(str(getattr(options, "media", "")))
    ranges = str(getattr(options, "page_ranges", "") or "")
    if ranges:
        parts.append(f"pages {ranges}")
    return ", ".join(p for p in parts if p)


def files_text(files: Iterable[Any], limit: int = 3) -> str:
    """File names joined, '+N more' past ``limit``; 'no files' when empty."""
    names = [str(getattr(f, "name", "") or "unnamed") for f in files]
    if not names:
        return "no files"
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" +{len(names) - limit} more"
    return shown


def pages_text(page_count: int | None) -> str:
    """'12 pages', '1 page' or '? pages' when not known yet."""
    if page_count is None:
        return "? pages"
    return f"{page_count} page{'' if page_count == 1 else 's'}"


def state_text(state: Any) -> str:
    """Human name of a LocalState (or of its value)."""
    value = getattr(state, "value", state)
    return STATE_TEXT.get(str(value), str(value).capitalize())


def price_text(price: Any) -> str:
    """The Price's display string, or '-' when unknown."""
    if price is None:
        return "-"
    display = getattr(price, "display", None)
    return str(display) if display else "-"


def sheets_text(price: Any) -> str:
    """'3 pages, 4 sheets (2 copies)' from a Price (sheets are over all copies)."""
    if price is None:
        return ""
    pages = int(getattr(price, "pages", 0))
    sheets = int(getattr(price, "sheets", 0))
    copies = int(getattr(price, "copies", 1))
    text = f"{pages} page{'' if pages == 1 else 's'}, {sheets} sheet{'' if sheets == 1 else 's'}"
    if copies != 1:
        text += f" ({copies} copies)"
    return text


def sentence(text: str) -> str:
    """A core message as a sentence on screen: first letter upper case, final full stop."""
    text = (text or "").strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def fingerprint_text(display: str) -> str:
    """The fingerprint as shown to people (already grouped by the core)."""
    return display or "(no key yet)"


def parse_cents(text: str, what: str) -> int:
    """A price typed by the shopkeeper ('0.10', '0,5', '2') in cents.

    Raises:
        ValueError: with a message naming ``what`` when it is not a non-negative amount.
    """
    raw = text.strip().replace(",", ".")
    try:
        value = round(float(raw) * 100)
    except (ValueError, OverflowError):
        raise ValueError(f"{what}: enter an amount such as 0.10") from None
    if not 0 <= value <= 100_000_000:
        raise ValueError(f"{what}: enter an amount such as 0.10")
    return int(value)
