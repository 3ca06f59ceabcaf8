"""The file types this kiosk prints, by media type and file name extension.

:func:`accepted_media_types` is what the kiosk publishes in its shop profile:
PDF and photos always, HEIC only when pillow-heif is installed, Office and
text documents only when LibreOffice is found (:func:`kiosk.core.convert.find_soffice`).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

PDF = "application/pdf"
BASIC_IMAGES = ("image/jpeg", "image/png")
PHOTO_TYPES = ("image/webp", "image/gif", "image/tiff")
HEIF_TYPES = ("image/heic", "image/heif")

# media type -> kind (the file name extension LibreOffice is given)
OFFICE_MEDIA_TYPES: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/rtf": "rtf",
    "text/plain": "txt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
OFFICE_ALIASES = {"text/rtf": "rtf"}  # other names browsers use for the same kinds
OFFICE_KINDS = frozenset(OFFICE_MEDIA_TYPES.values())
IMAGE_EXTENSIONS = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "heif": "image/heif",
}


def office_kind(media_type: str, name: str = "") -> str | None:
    """The Office kind (docx, xlsx, ...) a file claims by its media type, else by its name."""
    kind = OFFICE_MEDIA_TYPES.get(media_type) or OFFICE_ALIASES.get(media_type)
    if kind:
        return kind
    if media_type in ("", "application/octet-stream"):
        ext = Path(name).suffix.lower().lstrip(".")
        if ext in OFFICE_KINDS:
            return ext
    return None


def image_type(media_type: str, name: str = "") -> str | None:
    """The photo media type a file claims (image/heic, ...), by media type, else by its name."""
    if media_type in BASIC_IMAGES + PHOTO_TYPES + HEIF_TYPES:
        return media_type
    if media_type in ("", "application/octet-stream"):
        return IMAGE_EXTENSIONS.get(Path(name).suffix.lower().lstrip("."))
    return None


def heif_available() -> bool:
    """Whether pillow-heif is installed (HEIC/HEIF photos can be opened)."""
    return importlib.util.find_spec("pillow_heif") is not None


def accepted_media_types(
    *, office: bool | None = None, heif: bool | None = None, environ: dict[str, str] | None = None
) -> tuple[str, ...]:
    """Every media type this kiosk can print, in a stable order.

    ``office``/``heif`` default to what is installed on this machine.
    """
    if office is None:
        from kiosk.core.convert import find_soffice

        office = find_soffice(dict(os.environ) if environ is None else environ) is not None
    if heif is None:
        heif = heif_available()
    types = [PDF, *BASIC_IMAGES, *PHOTO_TYPES]
    if heif:
        types += HEIF_TYPES
    if office:
        types += list(OFFICE_MEDIA_TYPES)
    return tuple(types)
