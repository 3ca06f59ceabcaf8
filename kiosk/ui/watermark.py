"""A diagonal, repeated watermark with the job code, drawn on the canvas.

It sits over the page preview so that a photo of the kiosk screen says which
job it came from. It takes no touches (they go to the page underneath).
"""

from __future__ import annotations

from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.graphics import (
    Color,
    PopMatrix,
    PushMatrix,
    Rectangle,
    Rotate,
    StencilPop,
    StencilPush,
    StencilUnUse,
    StencilUse,
)
from kivy.metrics import sp
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget


class Watermark(Widget):
    """Tiles ``text`` at ``angle`` degrees over the widget's area."""

    text = StringProperty("")
    angle = NumericProperty(30.0)
    font_size = NumericProperty(sp(34))
    color = ListProperty([0.85, 0.1, 0.1, 0.28])
    clip_box = ListProperty([])  # (x, y, w, h): never draw outside it (the page area when zoomed in)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._texture: Any = None
        self.bind(pos=self._redraw, size=self._redraw, angle=self._redraw, color=self._redraw, clip_box=self._redraw)
        self.bind(text=self._retext, font_size=self._retext)
        self._retext()

    def on_touch_down(self, touch: Any) -> bool:
        return False

    def on_touch_move(self, touch: Any) -> bool:
        return False

    def on_touch_up(self, touch: Any) -> bool:
        return False

    def _retext(self, *_: Any) -> None:
        if not self.text:
            self._texture = None
        else:
            label = CoreLabel(text=self.text, font_size=self.font_size, bold=True)
            label.refresh()
            self._texture = label.texture
        self._redraw()

    def _redraw(self, *_: Any) -> None:
        self.canvas.clear()
        texture = self._texture
        if texture is None or self.width <= 0 or self.height <= 0:
            return
        tw, th = texture.size
        step_x, step_y = tw * 1.6, th * 4.0
        reach = (self.width**2 + self.height**2) ** 0.5
        x0, y0, w0, h0 = self.visible_box()
        if w0 <= 0 or h0 <= 0:
            return
        with self.canvas:
            StencilPush()
            Rectangle(pos=(x0, y0), size=(w0, h0))
            StencilUse()
            PushMatrix()
            Rotate(angle=self.angle, origin=self.center)
            Color(*self.color)
            rows = int(reach / step_y) + 2
            cols = int(reach / step_x) + 2
            for row in range(-rows, rows + 1):
                offset = (row % 2) * step_x / 2
                y = self.center_y + row * step_y - th / 2
                for col in range(-cols, cols + 1):
                    x = self.center_x + col * step_x + offset - tw / 2
                    Rectangle(texture=texture, pos=(x, y), size=(tw, th))
            PopMatrix()
            StencilUnUse()
            Rectangle(pos=(x0, y0), size=(w0, h0))
            StencilPop()

    def visible_box(self) -> tuple[float, float, float, float]:
        """The part of the widget the watermark is drawn in: its own area within ``clip_box``."""
        x0, y0, x1, y1 = self.x, self.y, self.right, self.top
        if len(self.clip_box) == 4:
            cx, cy, cw, ch = self.clip_box
            x0, y0, x1, y1 = max(x0, cx), max(y0, cy), min(x1, cx + cw), min(y1, cy + ch)
        return x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)
