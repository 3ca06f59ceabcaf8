"""What a decrypted file becomes before it is opened for preview, pricing and printing.

Office and text documents are converted to PDF (:mod:`kiosk.core.convert`,
sandboxed LibreOffice); HEIC, WebP, GIF and TIFF photos are laid out on pages
(:mod:`kiosk.core.images`), and so are JPEG and PNG when the job asks for a
photo layout (fill, a photo size, several per sheet); PDF (and JPEG/PNG at the
default layout) go on unchanged to
:func:`kiosk.core.render.open_document`. Either way the rest of the kiosk sees
a PDF (or a JPEG/PNG it already knows) and never the original document.
"""

from __future__ import annotations

from kiosk.core.convert import ConvertLimits, convert_to_pdf
from kiosk.core.formats import BASIC_IMAGES, HEIF_TYPES, PHOTO_TYPES, image_type, office_kind
from kiosk.core.images import PhotoLayout, photos_to_pdf


def to_printable(
    plain: bytearray,
    media_type: str,
    name: str = "",
    paper: str = "A4",
    *,
    limits: ConvertLimits | None = None,
    layout: PhotoLayout | None = None,
) -> tuple[bytearray, str]:
    """(bytes, media type) ready for open_document; ``plain`` itself when nothing is to be done.

    A new buffer is returned for a converted file; the caller wipes ``plain``.

    Raises:
        UnsupportedMedia, DocumentTooLarge, PasswordProtected, DocumentError
        (ConversionError, ConversionTimeout, ConversionTooLarge for documents).
    """
    kind = office_kind(media_type, name)
    if kind is not None:
        return convert_to_pdf(plain, kind, limits), "application/pdf"
    photo = image_type(media_type, name)
    chosen = layout is not None and layout != PhotoLayout()
    if photo in PHOTO_TYPES + HEIF_TYPES or (photo in BASIC_IMAGES and chosen):
        return bytearray(photos_to_pdf(plain, photo, paper, layout)), "application/pdf"
    return plain, media_type
