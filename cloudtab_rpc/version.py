"""CloudTab's one version string (the installed package's metadata) and one parser.

The relay, the bridge and the kiosk report :data:`VERSION`; the relay's kiosk
gate and the kiosk's update check both compare with :func:`parse_version`.
No grpc here.
"""

from __future__ import annotations

import re
from importlib import metadata

_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
UNKNOWN = "0.0.0+unknown"


def package_version(distribution: str = "cloudtab") -> str:
    """The installed version of ``distribution`` (setup.cfg ``version``), or
    :data:`UNKNOWN` when it is not installed (a bundle built without its metadata)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return UNKNOWN


VERSION = package_version()


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` (a pre-release ``-x`` or build ``+y`` suffix is ignored) -> (1, 2, 3).

    Raises:
        ValueError: not a semantic version MAJOR.MINOR.PATCH.
    """
    match = _SEMVER.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a semantic version like 0.1.0: {text[:40]!r}")
    return int(match[1]), int(match[2]), int(match[3])
