"""Driving helpers for the kiosk UI tests (used inside the app process).

``Runner`` steps a scenario generator on the Kivy clock: the generator
yields a number (seconds to wait) or ``Until(predicate, timeout, what)``.
``tap``/``swipe``/``pinch`` send real touch events; ``screenshot`` saves the
frame with ``Window.screenshot``.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class Until:
    """Wait until ``predicate()`` is true; fail after ``timeout`` seconds."""

    def __init__(self, predicate: Callable[[], Any], timeout: float, what: str) -> None:
        self.predicate = predicate
        self.timeout = timeout
        self.what = what
        self.deadline = 0.0


class Runner:
    """Steps a scenario generator on the Kivy clock and writes the result."""

    def __init__(self, app: Any, result_path: Path, total_timeout: float) -> None:
        self.app = app
        self.result_path = result_path
        self.total_timeout = total_timeout
        self.result: dict[str, Any] = {"ok": False, "error": "", "checks": {}, "screenshots": {}, "steps": []}
        self._gen: Iterator[Any] | None = None
        self._until: Until | None = None
        self._done = False

    def start(self, scenario: Iterator[Any]) -> None:
        from kivy.clock import Clock

        self._gen = scenario
        Clock.schedule_once(self._advance, 0.5)
        Clock.schedule_once(self._watchdog, self.total_timeout)

    def check(self, name: str, value: Any) -> Any:
        self.result["checks"][name] = value
        return value

    def step(self, text: str) -> None:
        self.result["steps"].append(text)

    def _watchdog(self, _dt: float) -> None:
        if not self._done:
            self._fail(f"scenario timed out after {self.total_timeout} s")

    def _advance(self, _dt: float) -> None:
        from kivy.clock import Clock

        if self._done or self._gen is None:
            return
        try:
            if self._until is not None:
                if self._until.predicate():
                    self._until = None
                elif time.monotonic() > self._until.deadline:
                    raise TimeoutError(f"timed out waiting for: {self._until.what}")
                else:
                    Clock.schedule_once(self._advance, 0.1)
                    return
            item = next(self._gen)
        except StopIteration:
            self.result["ok"] = True
            self._finish()
            return
        except Exception:  # noqa: BLE001  (any scenario failure goes into the result)
            self._fail(traceback.format_exc())
            return
        if isinstance(item, Until):
            item.deadline = time.monotonic() + item.timeout
            self._until = item
            Clock.schedule_once(self._advance, 0.1)
        else:
            Clock.schedule_once(self._advance, float(item or 0))

    def _fail(self, error: str) -> None:
        self.result["error"] = error
        try:  # what the screen showed when it failed
            from kivy.core.window import Window

            made = Window.screenshot(name=str(self.result_path.parent / "failure.png"))
            self.result["screenshots"]["failure"] = str(made)
        except Exception as exc:  # noqa: BLE001  (the failure itself is what matters)
            self.result["screenshots"]["failure"] = f"none ({type(exc).__name__})"
        self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        self._write()
        self.app.stop()

    def _write(self) -> None:
        self.result_path.write_text(json.dumps(self.result, indent=2, default=str))

    def finish_after_exit(self) -> None:
        """The app loop ended: record a failure if the scenario had not finished."""
        if not self._done:
            self._done = True
            self.result["error"] = self.result["error"] or "the app stopped before the scenario ended"
            self._write()


# -- driving helpers (main thread only) ----------------------------------------
def tap(widget: Any) -> None:
    """A real touch down/up at the widget's centre."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def swipe(widget: Any, dx: float) -> None:
    """A horizontal one-finger swipe across the widget's centre."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    for i in range(1, 6):
        touch.touch_move(x + dx * i / 5, y)
    touch.touch_up()


def pinch(widget: Any, spread: float) -> None:
    """Two fingers moving apart by ``spread`` pixels each (zoom in)."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    one, two = UnitTestTouch(x - 40, y), UnitTestTouch(x + 40, y)
    two.uid = one.uid + 1000  # two distinct fingers
    one.touch_down()
    two.touch_down()
    for i in range(1, 6):
        one.touch_move(x - 40 - spread * i / 5, y)
        two.touch_move(x + 40 + spread * i / 5, y)
    one.touch_up()
    two.touch_up()


def type_into(field: Any, text: str) -> None:
    """Put text in a TextInput as the on-screen keyboard would."""
    field.focus = True
    field.text = ""
    field.insert_text(text)


def screenshot(runner: Runner, shot_dir: Path, name: str) -> str:
    """Save the current frame as ``shot_dir/name.png``; returns the path."""
    from kivy.core.window import Window

    shot_dir.mkdir(parents=True, exist_ok=True)
    target = shot_dir / f"{name}.png"
    made = Window.screenshot(name=str(shot_dir / f"{name}.png"))
    if made:
        Path(made).replace(target)
    runner.result["screenshots"][name] = str(target)
    return str(target)


def find_by_text(root: Any, text: str) -> Any:
    """The first widget under ``root`` whose text is ``text``."""
    for widget in root.walk():
        if getattr(widget, "text", None) == text:
            return widget
    raise LookupError(f"no widget with text {text!r}")


def window_facts(runner: Runner) -> None:
    from kivy.core.window import Window

    runner.check("window_size", list(Window.size))
    runner.check("window_fullscreen", Window.fullscreen)
    runner.check("system_size", list(Window.system_size))


def _require(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _screen(app: Any, name: str) -> Any:
    return app.screens.get_screen(name)


def settle(app: Any) -> Iterator[Any]:
    """Wait for the new-job flash to end and a frame to be drawn (before a screenshot)."""
    yield Until(lambda: app.flash.alpha == 0, 10, "new-job flash over")
    yield 0.3


def no_popup(app: Any) -> bool:
    """True once no popup is open (a closing popup still swallows touches while it fades)."""
    from kivy.uix.modalview import ModalView

    return not any(isinstance(w, ModalView) for w in app.root_window.children)


def texture_has_ink(texture: Any) -> bool:
    """True when a texture's pixels are not all one colour (read back from GL)."""
    pixels = texture.pixels
    return len({pixels[i : i + 4] for i in range(0, min(len(pixels), 4 * 200_000), 4 * 97)}) > 1


def popup_named(app: Any, name: str) -> Any:
    """The open popup of class ``name`` (None when there is none)."""
    return next((w for w in app.root_window.children if w.__class__.__name__ == name), None)


def confirm_popup(app: Any) -> Iterator[Any]:
    """Wait for a ConfirmPopup and tap its confirm button."""
    yield Until(lambda: popup_named(app, "ConfirmPopup") is not None, 5, "confirmation dialog")
    yield 0.3
    tap(popup_named(app, "ConfirmPopup").ids.confirm)
    yield Until(lambda: no_popup(app), 5, "confirmation closed")


def keypad_enter(app: Any, button: Any, text: str) -> Iterator[Any]:
    """Tap ``button`` (which opens the kiosk's keypad), type ``text`` on it and tap Done."""
    tap(button)
    yield Until(lambda: popup_named(app, "NumberPad") is not None, 5, "keypad")
    yield 0.3
    pad = popup_named(app, "NumberPad")
    pad.value = ""
    for key in text:
        pad.press(key)
    tap(pad.ids.done)
    yield Until(lambda: no_popup(app), 5, "keypad closed")
