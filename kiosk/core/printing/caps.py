"""What one printer can do, read from its IPP Get-Printer-Attributes answer.

The printer's attributes (``color-supported``, ``print-color-mode-supported``,
``sides-supported``, ``media-supported``, ``number-up-supported``,
``finishings-supported``) become the option words of kiosk.core.options, so
routing and the published capabilities speak the page's vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kiosk.core.options import COLORS, MEDIA, PAGES_PER_SHEET, SIDES, PrintOptions
from kiosk.core.printing.ipp_printer import MEDIA_KEYWORDS

_WORD_FOR_KEYWORD = {keyword: word for word, keyword in MEDIA_KEYWORDS.items()}
# RFC 8011 / PWG 5100.1 finishings enums worth a word on screen.
FINISHING_WORDS = {4: "staple", 5: "punch", 6: "cover", 7: "bind", 8: "saddle stitch", 9: "edge stitch", 10: "fold"}


@dataclass(frozen=True)
class PrinterCaps:
    """A printer's choices in option words; ``finishings`` are IPP finishings enums (3 = none)."""

    media: tuple[str, ...] = MEDIA
    color: tuple[str, ...] = COLORS
    sides: tuple[str, ...] = SIDES
    pages_per_sheet: tuple[int, ...] = PAGES_PER_SHEET
    finishings: tuple[int, ...] = ()

    def supports(self, options: PrintOptions) -> bool:
        """Whether this printer can print a job with these options."""
        return (
            options.media in self.media
            and options.color in self.color
            and options.sides in self.sides
            and options.pages_per_sheet in self.pages_per_sheet
        )

    @property
    def summary(self) -> str:
        """'colour, two-sided, A4 A3' for the settings and job screens."""
        parts = ["colour" if "color" in self.color else "black and white"]
        parts.append("two-sided" if len(self.sides) > 1 else "one-sided")
        parts.append(" ".join(self.media))
        parts += [FINISHING_WORDS[f] for f in self.finishings if f in FINISHING_WORDS]
        return ", ".join(parts)


ANYTHING = PrinterCaps()  # the demo printer and a printer not yet asked


def _words(values: Iterable[object]) -> list[str]:
    return [str(v) for v in values if v is not None]


def caps_from_attributes(attrs: Mapping[str, Sequence[object]]) -> PrinterCaps:
    """Capabilities from Get-Printer-Attributes; a missing attribute means the IPP default (one-sided, 1-up)."""
    media_keywords = _words(attrs.get("media-supported", ()))
    media = tuple(w for w in MEDIA if MEDIA_KEYWORDS[w] in media_keywords)
    modes = _words(attrs.get("print-color-mode-supported", ()))
    colour = bool((attrs.get("color-supported") or [False])[0]) or "color" in modes
    sides = tuple(s for s in SIDES if s in _words(attrs.get("sides-supported", ())) or s == "one-sided")
    up: set[int] = set()
    for value in attrs.get("number-up-supported", ()):
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            up.add(value)
        elif isinstance(value, tuple) and len(value) == 2:
            low, high = value
            up.update(n for n in PAGES_PER_SHEET if int(low) <= n <= int(high))
    finishings = tuple(int(v) for v in attrs.get("finishings-supported", ()) if isinstance(v, int) and v != 3)
    return PrinterCaps(
        media=media,
        color=COLORS if colour else ("monochrome",),
        sides=sides,
        pages_per_sheet=tuple(n for n in PAGES_PER_SHEET if n in up or n == 1),
        finishings=finishings,
    )


def union(caps: Iterable[PrinterCaps]) -> PrinterCaps:
    """What at least one of the printers can do (each choice on its own)."""
    every = list(caps)
    return PrinterCaps(
        media=tuple(m for m in MEDIA if any(m in c.media for c in every)),
        color=tuple(c for c in COLORS if any(c in p.color for p in every)),
        sides=tuple(s for s in SIDES if any(s in p.sides for p in every)),
        pages_per_sheet=tuple(n for n in PAGES_PER_SHEET if any(n in p.pages_per_sheet for p in every)),
        finishings=tuple(sorted({f for p in every for f in p.finishings})),
    )


def keyword_media(keyword: str) -> str | None:
    """The option word for an IPP media keyword (None for sizes the kiosk does not offer)."""
    return _WORD_FOR_KEYWORD.get(keyword)
