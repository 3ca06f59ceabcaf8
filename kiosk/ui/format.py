"""Plain-text formatting of core state for the screens (no Kivy import).

Kept apart from the widgets so it is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from envelope.names import display_text

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
    "completed": "Done",
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
    photo = photo_layout_text(options)
    if photo:
        parts.append(photo)
    return ", ".join(p for p in parts if p)


def photo_layout_text(options: Any) -> str:
    """'photos 10x15 cm, 2 per sheet, filled' when the customer chose a photo layout, else ''."""
    fit = getattr(options, "photo_fit", "fit")
    size = getattr(options, "photo_size", "page")
    per_sheet = int(getattr(options, "photos_per_sheet", 1))
    if (fit, size, per_sheet) == ("fit", "page", 1):
        return ""
    words = [{"10x15": "photos 10x15 cm", "4x6": "photos 4x6 in"}.get(size, "photos page size")]
    if per_sheet > 1:
        words.append(f"{per_sheet} per sheet")
    words.append("filled (cropped)" if fit == "fill" else "whole")
    return ", ".join(words)


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


def counter_text(label: str) -> str:
    """Where another counter of the shop has a job: "At Counter 2"."""
    shown = " ".join(display_text(label, 40).split())
    return f"At {shown or 'another counter'}"


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


# Words that must never reach the screen: gRPC status names, IPP keywords,
# enum names, Python exception names and tracebacks, command lines.
PROTOCOL_WORDS = re.compile(
    r"\b(CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|ALREADY_EXISTS|PERMISSION_DENIED"
    r"|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|OUT_OF_RANGE|UNIMPLEMENTED|INTERNAL|UNAVAILABLE"
    r"|DATA_LOSS|UNAUTHENTICATED)\b"
    r"|\bJOB_STATE_\w+|\bStatusCode\.|\bgrpc\b|\bipps?://\S*printers?/|\bIPP\b"
    r"|(?i:\b(job|printer|media|marker|toner|door|cover)-[a-z]+(-[a-z]+)*\b)"
    r"|\bone-sided\b|\btwo-sided-(long|short)-edge\b|\bmonochrome\b|\bprint-color-mode\b"
    r"|Traceback|\b[A-Z][A-Za-z]+(Error|Exception)\b|\bErrno\b|\bcloudtab-relay\b|\bcloudtab-kiosk\b"
    r"|(?i:\b(?P<word>\w+) - (?P=word)\b)|0x[0-9a-fA-F]{4}"
)


def has_protocol_words(text: str) -> bool:
    """True when ``text`` contains a status-code name, an IPP keyword, a traceback or a command."""
    return bool(PROTOCOL_WORDS.search(text or ""))


def plain(text: str, fallback: str) -> str:
    """A core message as a sentence, or ``fallback`` when it carries protocol words."""
    text = sentence(text)
    if not text or has_protocol_words(text):
        return fallback
    return text


def connection_text(status: str, online: bool, message: str = "") -> str:
    """The relay connection for the offline banner, in plain words (never the gRPC detail)."""
    if online:
        return "Online"
    return {
        "connecting": "Connecting to the relay...",
        "unauthorized": "The relay no longer accepts this kiosk. Set it up again (Settings).",
        "update-needed": "This kiosk needs an update before it can receive jobs.",
        "stopped": "Not receiving jobs.",
        "not-enrolled": "Not set up yet.",
    }.get(status, "Offline: cannot reach the relay. Retrying; new jobs arrive when it is back.")


def print_status_text(status: Any) -> str:
    """A PrintStatus as one line (the core already words it plainly)."""
    if status is None:
        return ""
    return plain(str(getattr(status, "message", "") or ""), "The printer reports a problem.")


def print_status_tone(status: Any) -> str:
    """'success', 'warning' or 'muted' for a PrintStatus (success is never shown in orange)."""
    state = str(getattr(getattr(status, "state", None), "value", ""))
    if state == "completed":
        return "success"
    if state == "failed":
        return "warning"
    return "muted"


def clock_text(when: datetime | None) -> str:
    """'10:42' in local time, '' when unknown."""
    if when is None:
        return ""
    return when.astimezone().strftime("%H:%M")


def file_price_lines(plan: Any, files: Any) -> list[str]:
    """'report.pdf: 3 pages, 2 sheets = EUR 0.20' per printed file of a PrintPlan (only for 2+ files)."""
    names = [str(getattr(f, "name", "") or "file") for f in files]
    entries = list(getattr(plan, "files", ()))
    if len(names) < 2:
        return []
    lines = []
    for entry in entries:
        name = names[entry.index] if entry.index < len(names) else f"File {entry.index + 1}"
        lines.append(f"{name}: {sheets_text(entry.price)} = {price_text(entry.price)}")
    return lines
