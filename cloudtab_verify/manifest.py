"""The static manifest: SHA-256 of every file under the bridge's static folder.

The same digests feed the page's Subresource Integrity attributes (``sri``) and the
committed ``docs/static-manifest.json`` that ``cloudtab-verify`` compares against.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

STATIC_URL_PREFIX = "/static/"
MANIFEST_FORMAT = 1


def static_folder() -> Path:
    """The static folder of the installed ``web_bridge`` package (no Flask import)."""
    return Path(__file__).resolve().parents[1] / "web_bridge" / "static"


def file_digests(folder: Path) -> dict[str, str]:
    """Hex SHA-256 of every file under ``folder``, keyed by its POSIX path relative to it.

    Hidden files and folders (names starting with ``.``) are not served and are skipped.
    """
    digests: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        digests[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def sri(hex_digest: str) -> str:
    """The Subresource Integrity value (``sha256-<base64>``) of a hex SHA-256."""
    return "sha256-" + base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def build(folder: Path) -> dict[str, Any]:
    """The manifest document of ``folder``: format, URL prefix and the digests."""
    return {
        "format": MANIFEST_FORMAT,
        "algorithm": "sha256",
        "prefix": STATIC_URL_PREFIX,
        "files": file_digests(folder),
    }


def dumps(manifest: dict[str, Any]) -> str:
    """The manifest as stable JSON text (sorted, two-space indent, final newline)."""
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def release_digest(text: str | bytes) -> str:
    """Hex SHA-256 of a manifest file's bytes: the static set a page says it serves.

    The bridge computes it from ``dumps(build(static folder))``, which is byte for byte the
    committed ``docs/static-manifest.json`` of its release (``scripts/static-manifest --check``).
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def parse(text: str | bytes, source: str = "manifest") -> dict[str, str]:
    """The ``files`` digests of a manifest document.

    Raises:
        ValueError: if it is not a manifest of a known format.
    """
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{source} is not a CloudTab static manifest (format {MANIFEST_FORMAT})")
    files = document.get("files")
    if not isinstance(files, dict):
        raise ValueError(f"{source} has no files")  # noqa: TRY004 (a bad file, not a bad argument)
    return {str(name): str(digest) for name, digest in files.items()}


def load(path: Path) -> dict[str, str]:
    """The ``files`` digests of a manifest file.

    Raises:
        ValueError: if the file is not a manifest of a known format.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path} is not a CloudTab static manifest (format {MANIFEST_FORMAT})")
    files = document.get("files")
    if not isinstance(files, dict):
        raise ValueError(f"{path} has no files")  # noqa: TRY004 (a bad file, not a bad argument)
    return {str(name): str(digest) for name, digest in files.items()}
