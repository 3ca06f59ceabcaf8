"""The kiosk's version (the package's, ``cloudtab_rpc.version``) and the check
against the relay's minimum version."""

from __future__ import annotations

from cloudtab_rpc.version import VERSION, parse_version

KIOSK_VERSION = VERSION

__all__ = ["KIOSK_VERSION", "parse_version", "update_needed"]


def update_needed(min_version: str, current: str = KIOSK_VERSION) -> bool:
    """True when ``current`` is older than the relay's ``min_version``.

    An empty or malformed minimum never asks for an update.
    """
    if not min_version:
        return False
    try:
        return parse_version(current) < parse_version(min_version)
    except ValueError:
        return False
