"""The size of the X11 screen, asked before Kivy opens its window (no Kivy import).

Full screen "auto" (SDL's desktop full screen) leaves the window at its
configured size when no window manager runs, as on a bare-X kiosk or under
Xvfb: Kivy then lays out for the desktop size but draws into an 800x600
window. Configuring the window with the screen's size first avoids that; with a
window manager it changes nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)


def x11_screen_size() -> tuple[int, int] | None:
    """(width, height) of the default X screen, or None when not on X11 or unknown."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    try:
        xlib = ctypes.CDLL(name)
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
        xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = xlib.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = xlib.XDefaultScreen(display)
            size = (int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen)))
        finally:
            xlib.XCloseDisplay(display)
    except (OSError, AttributeError) as exc:
        log.debug("no X11 screen size: %s", exc)
        return None
    return size if size[0] > 0 and size[1] > 0 else None


BASE_SIZE = (1280, 800)  # the layouts' design size: dp(1) == 1 px here


def ui_scale(width: int, height: int) -> float:
    """How much to scale dp/sp so every screen fits: 0.6 at 800x600, 1.35 at 1920x1080.

    The smaller of the width and height ratios to 1280x800, kept between 0.6
    (touch targets stay about 45 px) and 1.6.
    """
    if width <= 0 or height <= 0:
        return 1.0
    ratio = min(width / BASE_SIZE[0], height / BASE_SIZE[1])
    return round(max(0.6, min(1.6, ratio)), 3)
