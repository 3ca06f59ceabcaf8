"""Shared widgets: big touch buttons, fields without copy/paste menus, the
offline banner and the new-job flash. Their looks are in widgets.kv.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.animation import Animation
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput
from kivy.uix.togglebutton import ToggleButton
from kivy.uix.widget import Widget

KV_DIR = Path(__file__).parent

# High-contrast palette, readable from a metre away.
BACKGROUND = (0.07, 0.08, 0.10, 1)
PANEL = (0.13, 0.15, 0.19, 1)
TEXT = (1, 1, 1, 1)
MUTED = (0.75, 0.78, 0.84, 1)
ACCENT = (0.10, 0.42, 0.85, 1)
SUCCESS = (0.10, 0.55, 0.25, 1)
DANGER = (0.75, 0.12, 0.12, 1)
WARNING = (0.95, 0.65, 0.05, 1)


def load_kv(name: str) -> None:
    """Load ``kiosk/ui/<name>.kv`` once (the App calls this for every screen)."""
    path = str(KV_DIR / f"{name}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


class BigButton(Button):
    """A large, high-contrast button; ``tone`` is accent, success, danger or plain."""

    tone = StringProperty("accent")
    tone_color = ListProperty(list(ACCENT))

    def on_tone(self, _instance: Any, tone: str) -> None:
        self.tone_color = list(
            {"accent": ACCENT, "success": SUCCESS, "danger": DANGER, "plain": PANEL}.get(tone, ACCENT)
        )


class ChoiceButton(ToggleButton):
    """One choice of a group (colour, sides, paper, printer kind); never unselected."""

    allow_no_selection = BooleanProperty(False)


class Heading(Label):
    """A screen or section title."""


class Body(Label):
    """Body text that wraps to its width."""


class Field(TextInput):
    """A single-line input without the copy/paste bubble or selection handles."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("multiline", False)
        kwargs.setdefault("use_bubble", False)
        kwargs.setdefault("use_handles", False)
        kwargs.setdefault("write_tab", False)
        super().__init__(**kwargs)


class OfflineBanner(BoxLayout):
    """A bright bar saying the kiosk is offline and why; zero height when online."""

    online = BooleanProperty(True)
    message = StringProperty("")


class Flash(Widget):
    """A full-screen colour flash, drawn over everything, that takes no touches."""

    alpha = NumericProperty(0.0)
    count = NumericProperty(0)  # flashes so far (tests and diagnostics)

    def flash(self, times: int = 2) -> None:
        """Blink ``times`` times (about 0.4 s each)."""
        self.count += 1
        Animation.cancel_all(self, "alpha")
        anim = Animation(alpha=0.55, duration=0.12) + Animation(alpha=0.0, duration=0.28)
        for _ in range(times - 1):
            anim += Animation(alpha=0.55, duration=0.12) + Animation(alpha=0.0, duration=0.28)
        anim.start(self)

    def on_touch_down(self, touch: Any) -> bool:
        return False

    def on_touch_move(self, touch: Any) -> bool:
        return False

    def on_touch_up(self, touch: Any) -> bool:
        return False


def window_width() -> float:
    """The window's width (popups size themselves to fit small screens)."""
    from kivy.core.window import Window

    return float(Window.width)


def window_height() -> float:
    from kivy.core.window import Window

    return float(Window.height)


class ConfirmPopup(Popup):
    """Asks before a step that cannot be undone (complete, reject, rotate key, quit, leave unsaved)."""

    message = StringProperty("")
    confirm_text = StringProperty("OK")
    cancel_text = StringProperty("Cancel")
    tone = StringProperty("danger")

    def __init__(self, on_confirm: Callable[[], None], **kwargs: Any) -> None:
        self._on_confirm = on_confirm
        super().__init__(**kwargs)

    def confirm(self) -> None:
        self.dismiss()
        self._on_confirm()


class NumberPad(Popup):
    """The kiosk's own large keypad for numbers: copies, page ranges ("1-3,5") and prices.

    ``keys`` are the extra keys beside the digits ("-," for page ranges, "."
    for prices); ``on_value(text)`` gets the typed text on Done and may raise
    ValueError to keep the pad open with the message shown.
    """

    value = StringProperty("")
    hint = StringProperty("")
    error = StringProperty("")

    def __init__(self, on_value: Callable[[str], None], keys: str = "", max_length: int = 40, **kwargs: Any) -> None:
        self._on_value = on_value
        self._max_length = max_length
        super().__init__(**kwargs)
        if len(keys) >= 2:
            layout = ["7", "8", "9", keys[0], "4", "5", "6", keys[1], "1", "2", "3", "<", "C", "0"]
            self.ids.keypad.cols = 4
        else:
            layout = ["7", "8", "9", "4", "5", "6", "1", "2", "3", keys or "C", "0", "<"]
        for key in layout:
            button = BigButton(text={"<": "Delete", "C": "Clear"}.get(key, key), tone="plain", size_hint_y=1, height=0)
            button.bind(on_release=lambda _b, k=key: self.press(k))
            self.ids.keypad.add_widget(button)

    def press(self, key: str) -> None:
        """One key: a digit or extra key appends, '<' deletes, 'C' clears."""
        self.error = ""
        if key == "<":
            self.value = self.value[:-1]
        elif key == "C":
            self.value = ""
        elif len(self.value) < self._max_length:
            self.value += key

    def done(self) -> None:
        try:
            self._on_value(self.value)
        except ValueError as exc:
            self.error = str(exc)
            return
        self.dismiss()
