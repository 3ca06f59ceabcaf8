"""Renders the pages of one opened job on one background thread.

The large page always goes before thumbnails, thumbnails are rendered only
when asked for (the strip is a RecycleView, so a 2,000-page PDF asks for a
handful), and a closed loader drops whatever is still queued. Results come back
on the main thread as Kivy textures. Rendered pixels live only in memory.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.graphics.texture import Texture

log = logging.getLogger(__name__)

PAGE, THUMB = 0, 1


class Rendered(Protocol):
    """What the core's renderer returns: RGBA bytes, top row first."""

    rgba: bytes
    width: int
    height: int


class Renderable(Protocol):
    """The part of the core's OpenedJob the loader uses."""

    page_count: int

    def render_fit(self, index: int, max_w: int, max_h: int) -> Rendered: ...


def to_texture(page: Rendered) -> Texture:
    """A Kivy texture of a rendered page (must run on the main thread)."""
    texture = Texture.create(size=(page.width, page.height), colorfmt="rgba")
    texture.blit_buffer(bytes(page.rgba), colorfmt="rgba", bufferfmt="ubyte")
    texture.flip_vertical()
    return texture


Callback = Callable[[int, Texture | None, str], None]


class PageLoader:
    """One render thread for one opened job; ``request`` is main-thread only."""

    def __init__(self, opened: Renderable) -> None:
        self._opened = opened
        self._queue: queue.PriorityQueue[tuple[int, int, int, int, int, Callback]] = queue.PriorityQueue()
        self._counter = itertools.count()
        self._pending: set[tuple[int, int]] = set()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-render", daemon=True)
        self._thread.start()

    def request(self, index: int, kind: int, max_w: int, max_h: int, callback: Callback) -> None:
        """Queue a render; ``callback(index, texture or None, error)`` runs on the main thread."""
        if self._closed.is_set() or (kind, index) in self._pending:
            return
        self._pending.add((kind, index))
        # Newer page requests first: when the user flips fast, the page they land on wins.
        order = -next(self._counter) if kind == PAGE else next(self._counter)
        self._queue.put((kind, order, index, max(1, max_w), max(1, max_h), callback))

    def close(self) -> None:
        """Stop; queued renders are dropped, a running one finishes and is ignored."""
        self._closed.set()
        self._queue.put((-1, 0, 0, 0, 0, _ignore))

    def _run(self) -> None:
        while not self._closed.is_set():
            kind, _order, index, max_w, max_h, callback = self._queue.get()
            if self._closed.is_set():
                return
            try:
                page = self._opened.render_fit(index, max_w, max_h)
                error = ""
            except Exception as exc:  # noqa: BLE001  (pdfium on hostile input: any failure is a page error)
                log.warning("page %d could not be rendered: %s", index + 1, type(exc).__name__)
                page, error = None, str(exc) or "this page cannot be shown"
            Clock.schedule_once(lambda _dt, a=(kind, index, page, error, callback): self._deliver(*a))

    def _deliver(self, kind: int, index: int, page: Any, error: str, callback: Callback) -> None:
        self._pending.discard((kind, index))
        if self._closed.is_set():
            return
        texture = None
        if page is not None:
            try:
                texture = to_texture(page)
            except Exception as exc:  # noqa: BLE001  (GL refused it: show a message, not a crash)
                log.warning("page %d could not become a texture: %s", index + 1, type(exc).__name__)
                error = "this page cannot be shown"
        callback(index, texture, error)


def _ignore(index: int, texture: Texture | None, error: str) -> None:
    """Callback of the sentinel that wakes the thread on close."""
