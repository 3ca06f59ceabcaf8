"""Print options: the one vocabulary, the PrintOptions value type and the page-range parser.

The same words are used by the sealed manifest (format v2, docs/envelope.md),
the shop capabilities the kiosk publishes, the bridge and the page's JS
(web_bridge/static/js/pricing.js):

=================  =========================================================
``copies``         1..999, per file
``page_ranges``    "" (all pages) or e.g. "1-3,5", per file
``color``          "monochrome" | "color"
``sides``          "one-sided" | "two-sided-long-edge" | "two-sided-short-edge"
``media``          paper size: "A4" | "Letter" | "A3" | "Legal"
``pages_per_sheet`` 1 | 2 | 4 (pages placed on each side of a sheet)
``orientation``    "portrait" | "landscape"
``photo_fit``      photos only: "fit" (inside 10 mm margins) | "fill" (cropped)
``photo_size``     photos only: "page" | "10x15" (cm) | "4x6" (in)
``photos_per_sheet`` photos only: 1 | 2 | 4 (one photo is repeated in each)
=================  =========================================================

The photo options apply to photo files (JPEG, PNG, HEIC, WebP, GIF, TIFF) and
to nothing else in the same job: a PDF or an Office document prints as it is
(kiosk.core.images lays the photos out when the job is opened).

The words are IPP's (copies, page-ranges, print-color-mode, sides, media,
number-up, orientation-requested) so they reach the printer unchanged. This
module imports nothing else of the kiosk but its errors, so jobs, pricing and
printing can all use it without an import cycle.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from kiosk.core.errors import PageRangeError, locate

MM = 72 / 25.4

# Paper sizes in points (width, height), portrait.
PAPER_SIZES: dict[str, tuple[float, float]] = {
    "A4": (210 * MM, 297 * MM),
    "Letter": (8.5 * 72, 11 * 72),
    "A3": (297 * MM, 420 * MM),
    "Legal": (8.5 * 72, 14 * 72),
}
MEDIA = tuple(PAPER_SIZES)
SIDES = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
COLORS = ("monochrome", "color")
PAGES_PER_SHEET = (1, 2, 4)
ORIENTATIONS = ("portrait", "landscape")
PHOTO_FITS = ("fit", "fill")
PHOTO_SIZES = ("page", "10x15", "4x6")
PHOTOS_PER_SHEET = (1, 2, 4)
MAX_COPIES = 999
MAX_RANGE_SPEC = 200

_PART = re.compile(r"^\s*(\d+)?\s*(-)?\s*(\d+)?\s*$")


@dataclass(frozen=True)
class PrintOptions:
    """How one document is printed: the job's options plus that file's pages and copies.

    ``page_ranges`` is "" for all pages or e.g. "1-3,5".
    """

    copies: int = 1
    sides: str = "one-sided"
    color: str = "monochrome"
    page_ranges: str = ""
    media: str = "A4"
    pages_per_sheet: int = 1
    orientation: str = "portrait"
    photo_fit: str = "fit"
    photo_size: str = "page"
    photos_per_sheet: int = 1

    def validate(self) -> None:
        """Raises ValueError for an option outside the vocabulary (ranges are checked against a document)."""
        if type(self.copies) is not int or not 1 <= self.copies <= MAX_COPIES:
            raise ValueError(f"copies must be 1 to {MAX_COPIES}")
        if self.sides not in SIDES:
            raise ValueError(f"unknown sides {self.sides!r}")
        if self.color not in COLORS:
            raise ValueError(f"unknown colour mode {self.color!r}")
        if self.media not in PAPER_SIZES:
            raise ValueError(f"unknown paper size {self.media!r}")
        if self.pages_per_sheet not in PAGES_PER_SHEET:
            raise ValueError("pages per sheet must be 1, 2 or 4")
        if self.orientation not in ORIENTATIONS:
            raise ValueError(f"unknown orientation {self.orientation!r}")
        if self.photo_fit not in PHOTO_FITS:
            raise ValueError(f"unknown photo fit {self.photo_fit!r}")
        if self.photo_size not in PHOTO_SIZES:
            raise ValueError(f"unknown photo size {self.photo_size!r}")
        if self.photos_per_sheet not in PHOTOS_PER_SHEET:
            raise ValueError("photos per sheet must be 1, 2 or 4")

    def with_(self, **changes: Any) -> PrintOptions:
        """A validated copy with some options changed.

        Raises:
            ValueError: for an unsupported value.
        """
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    @property
    def duplex(self) -> bool:
        return self.sides != "one-sided"

    @property
    def photo_layout(self) -> tuple[str, str, int]:
        """(fit, size, per sheet): the arguments of kiosk.core.images.PhotoLayout."""
        return (self.photo_fit, self.photo_size, self.photos_per_sheet)


def check_page_ranges(spec: str) -> None:
    """Check a range string's syntax without knowing the page count.

    Raises:
        PageRangeError: malformed, reversed or zero.
    """
    page_range_spans(spec, None)


def parse_page_ranges(spec: str, page_count: int) -> list[int]:
    """The 0-based page indexes a range string selects, in document order, no duplicates.

    "" selects every page. Parts are separated by commas: "3", "1-4",
    "5-" (to the end), "-2" (from the start).

    Raises:
        PageRangeError: malformed, reversed, zero or beyond ``page_count``.
    """
    return [start + i for start, stop in page_range_spans(spec, page_count) for i in range(stop - start)]


def page_range_spans(spec: str, page_count: int | None) -> list[tuple[int, int]]:
    """Like :func:`parse_page_ranges` but as merged (start, stop) 0-based half-open spans.

    With ``page_count`` None only the syntax is checked ("5-" then ends at page 5).

    Raises:
        PageRangeError: as parse_page_ranges.
    """
    if page_count is not None and page_count < 1:
        raise PageRangeError("the document has no pages")
    spec = (spec or "").strip()
    if not spec:
        return [(0, page_count)] if page_count is not None else []
    if len(spec) > MAX_RANGE_SPEC:
        raise PageRangeError("the page range is too long")
    spans: list[tuple[int, int]] = []
    for part in spec.split(","):
        match = _PART.match(part)
        if match is None or not part.strip():
            raise PageRangeError(f"'{part.strip()}' is not a page or range like 1-3")
        first, dash, last = match.groups()
        if first is None and last is None:
            raise PageRangeError("'-' needs a page number")
        if not dash and last is not None:
            raise PageRangeError(f"'{part.strip()}' is not a page or range like 1-3")
        lo = int(first) if first is not None else 1
        end = page_count if page_count is not None else lo
        hi = int(last) if last is not None else (end if dash else lo)
        if lo < 1 or hi < 1:
            raise PageRangeError("pages start at 1")
        if lo > hi:
            raise PageRangeError(f"range {lo}-{hi} goes backwards")
        if page_count is not None and hi > page_count:
            raise locate(
                PageRangeError(f"page {hi} does not exist (the document has {page_count})"),
                page=hi,
                page_count=page_count,
            )
        spans.append((lo - 1, hi))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def count_pages(spec: str, page_count: int) -> int:
    """Number of pages a range string selects.

    Raises:
        PageRangeError: as parse_page_ranges.
    """
    return sum(stop - start for start, stop in page_range_spans(spec, page_count))
