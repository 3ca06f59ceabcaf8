"""Safe local file names for names taken from a manifest.

A manifest name is chosen by the customer, so it may hold paths, hidden-file
dots, control characters or Windows device names. The result is one plain path
component, unique (case-insensitively) among the names already handed out.
"""

from __future__ import annotations

import re
import unicodedata

# C0, DEL and C1 controls (U+0085 is a line break to some tools), line and
# paragraph separators, and the characters Windows forbids in names.
_UNSAFE = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029<>:"|?*\\\\/]')
_DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)", re.IGNORECASE)
MAX_NAME_BYTES = 200
FALLBACK = "file"


def _shorten(stem: str, ext: str) -> str:
    while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    if not stem:
        return (stem + ext)[:MAX_NAME_BYTES]
    return stem + ext


def display_text(text: str, max_chars: int = 500) -> str:
    """``text`` safe to show on a screen: no control or format characters.

    Removes C0/C1 controls and Unicode format characters (category Cf: the
    bidirectional overrides and isolates that make ``invoice\u202efdp.exe``
    look like ``invoiceexe.pdf``, zero-width characters), turns line breaks and
    tabs into spaces, collapses runs of spaces and cuts to ``max_chars``.
    """
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\t\n\r\x0b\x0c\x85\u2028\u2029":
            kept.append(" ")
        elif category not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(char)
    return " ".join("".join(kept).split())[:max_chars]


def sanitize_name(name: str) -> str:
    """One safe path component for ``name`` (never empty, hidden or a device),
    free of control and format characters (docs/envelope.md section 8): Unicode
    format characters (Cf: bidi overrides and isolates, zero-width) are removed,
    C0/C1 controls, U+2028/U+2029 and ``<>:"|?*`` become ``_``."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) != "Cf")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", name)
    name = name.strip().lstrip(".").strip().rstrip(". ")
    if not name:
        name = FALLBACK
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    else:
        ext = "." + ext
    if _DEVICE.fullmatch(stem.strip()) or _DEVICE.fullmatch(name.split(".")[0].strip()):
        stem = "_" + stem
    return _shorten(stem, ext)


def unique_names(names: list[str], taken: set[str] | None = None) -> list[str]:
    """Sanitise every name and number duplicates: ``a.pdf``, ``a (2).pdf``, ...

    ``taken`` holds names already present (compared case-insensitively).
    """
    used = {n.casefold() for n in (taken or set())}
    result = []
    for raw in names:
        clean = sanitize_name(raw)
        stem, dot, ext = clean.rpartition(".")
        if not dot or not stem:
            stem, ext = clean, ""
        else:
            ext = "." + ext
        candidate, n = clean, 1
        while candidate.casefold() in used:
            n += 1
            candidate = _shorten(stem, f" ({n}){ext}")
        used.add(candidate.casefold())
        result.append(candidate)
    return result
