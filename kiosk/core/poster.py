"""The shop poster: the URL customers scan, its QR code, and a printable A4 page.

URL: ``https://<bridge>/s/<slug>#f=<key set fingerprint b64url>`` (docs/envelope.md
§2.1; older posters carry ``#k=<public key>``); the fragment never reaches a server, so
the key set the QR pins is the one the customer's page checks. The poster also prints the
fingerprint and its six words, which the kiosk's idle screen and the page show too.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from urllib.parse import quote

from kiosk.core.errors import ConfigError

A4_PX = (1654, 2339)  # A4 at 200 dpi


def shop_url(bridge_url: str, slug: str, value: str, param: str = "k") -> str:
    """The poster URL: ``#<param>=<value>`` (``f`` and the key set fingerprint for new posters).

    Raises:
        ConfigError: no bridge URL or slug.
    """
    base = bridge_url.strip().rstrip("/")
    if not base:
        raise ConfigError("set the web bridge address in the settings first")
    if not slug:
        raise ConfigError("the kiosk is not enrolled")
    if "://" not in base:
        base = "https://" + base
    return f"{base}/s/{quote(slug, safe='')}#{param}={value}"


def qr_png(url: str, scale: int = 10, border: int = 4) -> bytes:
    """A PNG of the URL's QR code (error correction M)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):
        return ImageFont.load_default()


def poster_image(shop_name: str, url: str, fingerprint_display: str, words: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    """The poster as a Pillow RGB image of an A4 page at 200 dpi."""
    import segno
    from PIL import Image, ImageDraw

    page = Image.new("RGB", A4_PX, "white")
    draw = ImageDraw.Draw(page)
    width = A4_PX[0]

    def centred(y: int, text: str, size: int, fill: str = "black") -> None:
        font = _font(size)
        box = draw.textbbox((0, 0), text, font=font)
        draw.text(((width - (box[2] - box[0])) // 2, y), text, font=font, fill=fill)

    centred(150, shop_name[:40], 110)
    centred(320, "Print from your phone", 70, "#333333")
    qr = segno.make(url, error="m", micro=False)
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = max(1, 1100 // modules)
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=scale, border=4)
    buf.seek(0)
    image = Image.open(buf).convert("RGB")
    page.paste(image, ((width - image.width) // 2, 470))
    y = 470 + image.height + 60
    centred(y, "Scan, choose your files, send. Only this shop can read them.", 44, "#333333")
    centred(y + 110, "Key fingerprint (compare with the kiosk screen):", 40, "#555555")
    centred(y + 170, fingerprint_display, 72)
    if words:
        centred(y + 270, "The same key in words:", 40, "#555555")
        centred(y + 330, " ".join(words[:3]), 60)
        centred(y + 410, " ".join(words[3:]), 60)
    centred(A4_PX[1] - 140, url.split("#", 1)[0], 34, "#777777")
    return page


def poster_pdf(shop_name: str, url: str, fingerprint_display: str, words: Sequence[str] = ()) -> bytes:
    """A one-page A4 PDF of the poster."""
    from kiosk.core.render import image_to_pdf

    buf = io.BytesIO()
    poster_image(shop_name, url, fingerprint_display, words).save(buf, format="PNG")
    return image_to_pdf(buf.getvalue(), "image/png", "A4")


def poster_png(shop_name: str, url: str, fingerprint_display: str, words: Sequence[str] = ()) -> bytes:
    """The poster page as PNG bytes (for the poster screen)."""
    buf = io.BytesIO()
    poster_image(shop_name, url, fingerprint_display, words).save(buf, format="PNG")
    return buf.getvalue()
