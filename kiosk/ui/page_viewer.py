"""Thumbnails and a large page with the job-code watermark (page_viewer.kv).

``PageViewer.show(opened, job_code)`` takes the core's OpenedJob; pages are
rendered on demand by a PageLoader. Tap a thumbnail, swipe, tap the page's
edges or use the buttons to move; pinch or +/- to zoom.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.widget import Widget

from kiosk.ui.page_loader import PAGE, THUMB, PageLoader, Renderable

THUMB_PIXELS = (150, 200)


class Thumb(RecycleDataViewBehavior, ButtonBehavior, Widget):
    """One thumbnail in the strip (a RecycleView view)."""

    index = NumericProperty(-1)
    texture: Any = ObjectProperty(None, allownone=True)
    selected = BooleanProperty(False)
    viewer: Any = ObjectProperty(None, allownone=True)
    label = StringProperty("")

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        self.index = data["index"]
        self.viewer = data["viewer"]
        self.label = str(self.index + 1)
        self.selected = self.viewer is not None and self.viewer.page_index == self.index
        self.texture = self.viewer.thumb_texture(self.index) if self.viewer else None
        super().refresh_view_attrs(rv, index, data)

    def on_release(self) -> None:
        if self.viewer is not None:
            self.viewer.go_to(self.index)


class PageViewer(BoxLayout):
    """The job view's preview: a thumbnail strip and the large page."""

    page_index = NumericProperty(0)
    page_count = NumericProperty(0)
    job_code = StringProperty("")
    message = StringProperty("")
    loading = BooleanProperty(False)
    compact = BooleanProperty(False)  # small screens: no thumbnail strip or zoom buttons (pinch still zooms)

    def __init__(self, **kwargs: Any) -> None:
        self._loader: PageLoader | None = None
        self._thumbs: dict[int, Texture] = {}
        self._pages: dict[int, Texture] = {}
        self._refresh_event = Clock.create_trigger(self._refresh_thumbs, 0.05)
        super().__init__(**kwargs)

    # -- public --------------------------------------------------------------
    def show(self, opened: Renderable, job_code: str) -> None:
        """Start showing an opened job at its first page."""
        self.clear()
        self.job_code = job_code
        self.page_count = opened.page_count
        self._loader = PageLoader(opened)
        self.ids.thumbs.data = [{"index": i, "viewer": self} for i in range(opened.page_count)]
        self.page_index = 0
        self._load_page()

    def clear(self, message: str = "") -> None:
        """Forget the job: stop rendering, drop every texture."""
        if self._loader is not None:
            self._loader.close()
            self._loader = None
        self._thumbs.clear()
        self._pages.clear()
        self.page_count = 0
        self.page_index = 0
        self.message = message
        self.loading = False
        if "stage" in self.ids:
            self.ids.stage.texture = None
            self.ids.thumbs.data = []

    def go_to(self, index: int) -> None:
        """Show page ``index`` (0-based) if it exists."""
        if 0 <= index < self.page_count and index != self.page_index:
            self.page_index = index
            self._load_page()
            self.ids.thumbs.refresh_from_data()

    def next_page(self) -> None:
        self.go_to(self.page_index + 1)

    def previous_page(self) -> None:
        self.go_to(self.page_index - 1)

    def thumb_texture(self, index: int) -> Texture | None:
        """The cached thumbnail of a page, queuing its render when missing."""
        texture = self._thumbs.get(index)
        if texture is None and self._loader is not None:
            self._loader.request(index, THUMB, *THUMB_PIXELS, self._thumb_ready)
        return texture

    # -- internals -----------------------------------------------------------
    def _load_page(self) -> None:
        if self._loader is None:
            return
        cached = self._pages.get(self.page_index)
        if cached is not None:
            self.ids.stage.texture = cached
            self.message = ""
            return
        self.loading = True
        stage = self.ids.stage
        # Render at twice the on-screen size so zooming in stays sharp.
        max_w = int(max(stage.width, 400) * 2)
        max_h = int(max(stage.height, 400) * 2)
        self._loader.request(self.page_index, PAGE, max_w, max_h, self._page_ready)

    def _page_ready(self, index: int, texture: Texture | None, error: str) -> None:
        if texture is not None:
            if len(self._pages) > 8:  # keep memory bounded on long documents
                self._pages.pop(next(iter(self._pages)))
            self._pages[index] = texture
        if index != self.page_index:
            return
        self.loading = False
        self.ids.stage.texture = texture
        self.message = "" if texture is not None else f"Page {index + 1} cannot be shown: {error}"

    def _thumb_ready(self, index: int, texture: Texture | None, error: str) -> None:
        if texture is not None:
            self._thumbs[index] = texture
            self._refresh_event()

    def _refresh_thumbs(self, *_: Any) -> None:
        self.ids.thumbs.refresh_from_data()
