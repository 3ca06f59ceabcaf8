"""The large page of the job view: fit, zoom, pan, swipe and tap to move.

One finger: a horizontal swipe (or a tap on the left/right quarter) asks for
the previous/next page while the page fits; when zoomed in it pans. Two
fingers pinch to zoom. The page is clipped to the widget with a stencil, and a
watermark with the job code is drawn over it (``Watermark``). Nothing here can
save or copy the page: there is no menu and no keyboard shortcut.
"""

from __future__ import annotations

import math
from typing import Any

from kivy.graphics import (
    Color,
    Rectangle,
    StencilPop,
    StencilPush,
    StencilUnUse,
    StencilUse,
)
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import ListProperty, NumericProperty, ObjectProperty
from kivy.uix.widget import Widget

MIN_ZOOM = 1.0
MAX_ZOOM = 6.0
SWIPE_MIN = dp(80)
TAP_MAX_MOVE = dp(12)


def clamp(value: float, low: float, high: float) -> float:
    """``value`` limited to [low, high]."""
    return max(low, min(high, value))


class PageStage(Widget):
    """Shows one page texture; dispatches ``on_previous`` / ``on_next``."""

    texture: Any = ObjectProperty(None, allownone=True)
    zoom = NumericProperty(1.0)
    pan_x = NumericProperty(0.0)
    pan_y = NumericProperty(0.0)
    # Where the page is drawn (x, y, w, h), for overlays such as the watermark.
    page_box = ListProperty([0.0, 0.0, 0.0, 0.0])

    __events__ = ("on_previous", "on_next")

    def __init__(self, **kwargs: Any) -> None:
        self._touches: dict[int, tuple[float, float]] = {}
        self._start: dict[int, tuple[float, float]] = {}
        self._pinch_start: tuple[float, float] | None = None
        super().__init__(**kwargs)
        self.bind(
            pos=self._redraw,
            size=self._redraw,
            texture=self._on_texture,
            zoom=self._redraw,
            pan_x=self._redraw,
            pan_y=self._redraw,
        )

    # -- events --------------------------------------------------------------
    def on_previous(self) -> None:
        """Default handler: nothing."""

    def on_next(self) -> None:
        """Default handler: nothing."""

    # -- zoom ----------------------------------------------------------------
    def zoom_in(self) -> None:
        """Zoom in one step around the centre."""
        self.zoom = clamp(self.zoom * 1.25, MIN_ZOOM, MAX_ZOOM)
        self._clamp_pan()

    def zoom_out(self) -> None:
        """Zoom out one step; at the fit size the pan resets."""
        self.zoom = clamp(self.zoom / 1.25, MIN_ZOOM, MAX_ZOOM)
        self._clamp_pan()

    def reset_view(self) -> None:
        """Back to the page fitted to the widget."""
        self.zoom = 1.0
        self.pan_x = self.pan_y = 0.0

    def _on_texture(self, *_: Any) -> None:
        self.reset_view()
        self._redraw()

    def fitted_size(self) -> tuple[float, float]:
        """The page size at zoom 1: the texture fitted into the widget."""
        if self.texture is None or self.width <= 0 or self.height <= 0:
            return (0.0, 0.0)
        tw, th = self.texture.size
        scale = min(self.width / tw, self.height / th)
        return (tw * scale, th * scale)

    def page_rect(self) -> tuple[float, float, float, float]:
        """Where the page is drawn: x, y, width, height in window coordinates."""
        fw, fh = self.fitted_size()
        w, h = fw * self.zoom, fh * self.zoom
        x = self.center_x - w / 2 + self.pan_x
        y = self.center_y - h / 2 + self.pan_y
        return (x, y, w, h)

    def _clamp_pan(self) -> None:
        fw, fh = self.fitted_size()
        max_x = max(0.0, (fw * self.zoom - self.width) / 2)
        max_y = max(0.0, (fh * self.zoom - self.height) / 2)
        self.pan_x = clamp(self.pan_x, -max_x, max_x)
        self.pan_y = clamp(self.pan_y, -max_y, max_y)

    # -- drawing -------------------------------------------------------------
    def _redraw(self, *_: Any) -> None:
        self.canvas.clear()
        if not isinstance(self.texture, Texture):
            self.page_box = [self.x, self.y, 0.0, 0.0]
        with self.canvas:
            StencilPush()
            Rectangle(pos=self.pos, size=self.size)
            StencilUse()
            Color(0.18, 0.18, 0.2, 1)
            Rectangle(pos=self.pos, size=self.size)
            if isinstance(self.texture, Texture):
                x, y, w, h = self.page_rect()
                self.page_box = [x, y, w, h]
                Color(1, 1, 1, 1)
                Rectangle(texture=self.texture, pos=(x, y), size=(w, h))
            StencilUnUse()
            Rectangle(pos=self.pos, size=self.size)
            StencilPop()

    # -- touches -------------------------------------------------------------
    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        if getattr(touch, "button", "left") in ("scrollup", "scrolldown"):
            (self.zoom_in if touch.button == "scrolldown" else self.zoom_out)()
            return True
        touch.grab(self)
        self._touches[touch.uid] = touch.pos
        self._start[touch.uid] = touch.pos
        if len(self._touches) == 2:
            self._pinch_start = (self._finger_distance(), self.zoom)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_move(touch)
        previous = self._touches.get(touch.uid, touch.pos)
        self._touches[touch.uid] = touch.pos
        if len(self._touches) >= 2 and self._pinch_start is not None:
            start_distance, start_zoom = self._pinch_start
            if start_distance > 0:
                ratio = self._finger_distance() / start_distance
                self.zoom = clamp(start_zoom * ratio, MIN_ZOOM, MAX_ZOOM)
                self._clamp_pan()
        elif self.zoom > 1.0:
            self.pan_x += touch.pos[0] - previous[0]
            self.pan_y += touch.pos[1] - previous[1]
            self._clamp_pan()
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        start = self._start.pop(touch.uid, touch.pos)
        was_pinch = self._pinch_start is not None
        self._touches.pop(touch.uid, None)
        if len(self._touches) < 2:
            self._pinch_start = None
        if was_pinch or self._touches:
            return True
        dx = touch.pos[0] - start[0]
        dy = touch.pos[1] - start[1]
        if self.zoom <= 1.0 and abs(dx) >= SWIPE_MIN and abs(dx) > 1.5 * abs(dy):
            self.dispatch("on_next" if dx < 0 else "on_previous")
        elif math.hypot(dx, dy) <= TAP_MAX_MOVE and self.zoom <= 1.0:
            if touch.pos[0] < self.x + self.width * 0.25:
                self.dispatch("on_previous")
            elif touch.pos[0] > self.right - self.width * 0.25:
                self.dispatch("on_next")
        return True

    def _finger_distance(self) -> float:
        points = list(self._touches.values())[:2]
        if len(points) < 2:
            return 0.0
        (x1, y1), (x2, y2) = points
        return math.hypot(x2 - x1, y2 - y1)
