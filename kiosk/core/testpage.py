"""A one-page test print (printer check from the settings screen)."""

from __future__ import annotations

import io
from datetime import datetime


def test_page_pdf(shop_name: str, paper: str = "A4") -> bytes:
    """A PDF page with the shop name, the time and a grey scale."""
    from PIL import Image, ImageDraw

    from kiosk.core.poster import _font
    from kiosk.core.render import image_to_pdf

    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((20, 20, 1219, 1733), outline="black", width=6)
    draw.text((100, 120), "CloudTab test page", font=_font(80), fill="black")
    draw.text((100, 260), shop_name[:40], font=_font(56), fill="black")
    draw.text((100, 360), datetime.now().strftime("%Y-%m-%d %H:%M:%S"), font=_font(40), fill="#444444")
    for i in range(11):
        shade = 255 - i * 25
        draw.rectangle((100 + i * 95, 500, 180 + i * 95, 700), fill=(shade, shade, shade))
    for i, colour in enumerate(("cyan", "magenta", "yellow", "red", "green", "blue")):
        draw.rectangle((100 + i * 170, 760, 240 + i * 170, 900), fill=colour)
    buf = io.BytesIO()
    page.save(buf, format="PNG")
    return image_to_pdf(buf.getvalue(), "image/png", paper)
