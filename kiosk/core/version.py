"""The kiosk's version and the check against the relay's minimum version."""

from __future__ import annotations

import re

KIOSK_VERSION = "0.1.0"

_VERSION = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int]:
    """Parse "1.2.3" (pre-release suffixes ignored) into a tuple.

    Raises:
        ValueError: if the text does not start with a version number.
    """
    match = _VERSION.match(text or "")
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


def update_needed(min_version: str, current: str = KIOSK_VERSION) -> bool:
    """True when ``current`` is older than the relay's ``min_version``.

    An empty or unparseable minimum never asks for an update.
    """
    if not min_version:
        return False
    try:
        return parse_version(current) < parse_version(min_version)
    except ValueError:
        return False
