"""A printer's health from printer-state, printer-state-reasons and marker levels, in plain words.

Domain only (no I/O): kiosk.core.printing.fleet polls the printers and
builds :class:`PrinterHealth` with :func:`health_from_attributes`. The words
come from kiosk.core.printing.words (the kiosk's catalogue); IPP keywords
stay in ``reasons`` for logs and tests, never on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kiosk.core.printing import words
from kiosk.core.printing.ipp_printer import PRINTER_STATES
from kiosk.core.printing.wait import WaitReason

# Reason prefixes that stop printing until someone acts, and the customer's wait reason for each.
STOPPING: tuple[tuple[str, WaitReason], ...] = (
    ("media-jam", WaitReason.PRINTER_PAPER_JAM),
    ("media-empty", WaitReason.PRINTER_OUT_OF_PAPER),
    ("media-needed", WaitReason.PRINTER_OUT_OF_PAPER),
    ("input-tray-missing", WaitReason.PRINTER_OUT_OF_PAPER),
    ("toner-empty", WaitReason.PRINTER_OUT_OF_TONER),
    ("marker-supply-empty", WaitReason.PRINTER_OUT_OF_TONER),
    ("door-open", WaitReason.PRINTER_DOOR_OPEN),
    ("cover-open", WaitReason.PRINTER_DOOR_OPEN),
    ("output-area-full", WaitReason.PRINTER_NEEDS_ATTENTION),
    ("offline", WaitReason.PRINTER_OFFLINE),
    ("shutdown", WaitReason.PRINTER_OFFLINE),
    ("printer-stopped", WaitReason.PRINTER_PAUSED),
    ("paused", WaitReason.PRINTER_PAUSED),
)


@dataclass(frozen=True)
class Marker:
    """One supply (toner, ink): its name and level in percent (-1 unknown), and the printer's low mark."""

    name: str
    level: int
    low: int = 10


@dataclass(frozen=True)
class PrinterHealth:
    """One printer's state as last polled; ``state`` is idle | processing | stopped | unknown | unreachable."""

    name: str
    state: str
    reasons: tuple[str, ...] = ()
    markers: tuple[Marker, ...] = ()

    @property
    def stopping_reason(self) -> WaitReason | None:
        """The customer's wait reason when this printer cannot print now (None when it can)."""
        keys = [r for r in self.reasons if r != "none"]
        for prefix, reason in STOPPING:
            if any(key.startswith(prefix) for key in keys):
                return reason
        if self.state == "unreachable":
            return WaitReason.PRINTER_OFFLINE
        if self.state == "stopped":
            return WaitReason.PRINTER_NEEDS_ATTENTION
        return None

    @property
    def stopped(self) -> bool:
        """Whether printing waits for someone to act at the printer."""
        return self.stopping_reason is not None

    @property
    def low_supplies(self) -> tuple[Marker, ...]:
        """Supplies at or under their low mark (known levels only)."""
        return tuple(m for m in self.markers if 0 <= m.level <= max(m.low, 0))

    @property
    def words(self) -> str:
        """One sentence for the queue screen ('Out of paper', 'Ready - Black toner is low (5%)')."""
        if self.state == "unreachable":
            return words.UNREACHABLE
        text = words.printer_words(self.state, self.reasons)
        low = self.low_supplies
        if low and not any(w in text for w in ("toner", "ink")):
            supply = ", ".join(words.supply_words(m.name, m.level) for m in low)
            text = f"{text} - {supply}"
        return text


def health_from_attributes(name: str, attrs: Mapping[str, Sequence[object]]) -> PrinterHealth:
    """Health from Get-Printer-Attributes (printer-state, printer-state-reasons, marker-*)."""
    state_value = (attrs.get("printer-state") or [None])[0]
    state = PRINTER_STATES.get(state_value, "unknown") if isinstance(state_value, int) else "unknown"
    reasons = tuple(str(r) for r in attrs.get("printer-state-reasons", ()) if r is not None and r != "none")
    names = [str(n) for n in attrs.get("marker-names", ())]
    levels = [v for v in attrs.get("marker-levels", ()) if isinstance(v, int)]
    lows = [v for v in attrs.get("marker-low-levels", ()) if isinstance(v, int)]
    markers = tuple(
        Marker(names[i] if i < len(names) else "", levels[i], lows[i] if i < len(lows) else 10)
        for i in range(len(levels))
    )
    return PrinterHealth(name=name, state=state, reasons=reasons, markers=markers)


def unreachable(name: str) -> PrinterHealth:
    """The health of a printer that did not answer."""
    return PrinterHealth(name=name, state="unreachable")
