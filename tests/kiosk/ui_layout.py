"""Layout checks on the real widget tree (used inside the app process by the layout scenario).

``layout_problems(root)`` lists every visible text that is cut (its natural
text size, measured with Kivy's own text renderer, does not fit the widget, or
a single word is wider than the line), smaller than 12 px, or drawn by a widget
laid out 0 px wide (a half-hidden button spilling over its neighbours), every visible control outside the
window (or outside its scroll view's viewport while partly shown) and every
pair of visible controls that overlap. ``visible_texts(root)`` collects what a
person can read, for the plain-words check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

TOLERANCE = 2.0
MIN_TEXT_PX = 12.0  # smaller letters are not read at arm's length on a counter screen


def _chain(widget: Any) -> Iterator[Any]:
    node = widget
    while node is not None:
        yield node
        parent = node.parent
        if parent is node:
            break
        node = parent


def is_visible(widget: Any) -> bool:
    """Drawn and readable: every ancestor opaque and the widget has an area."""
    if widget.width < 1 or widget.height < 1:
        return False
    for node in _chain(widget):
        if getattr(node, "opacity", 1) <= 0.01:
            return False
        if node.__class__.__name__ == "Window" or node.__class__.__name__.startswith("Window"):
            return True
    return True


def window_rect(widget: Any) -> tuple[float, float, float, float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _scroll_parent(widget: Any) -> Any:
    from kivy.uix.scrollview import ScrollView

    for node in list(_chain(widget))[1:]:
        if isinstance(node, ScrollView):
            return node
    return None


def _name(widget: Any) -> str:
    ident = ""
    parent = widget.parent
    ids = {}
    for node in _chain(widget):
        ids = getattr(node, "ids", {}) or {}
        for key, value in ids.items():
            if value is widget:
                ident = key
                break
        if ident:
            break
        if node is not widget and node.__class__.__name__.endswith(("Screen", "Popup", "Pad")):
            break
    text = str(getattr(widget, "text", ""))[:40].replace("\n", " ")
    del parent
    return f"{widget.__class__.__name__}({ident or '?'}: {text!r})"


def _is_text(widget: Any) -> bool:
    from kivy.uix.label import Label

    return isinstance(widget, Label) and bool(str(widget.text).strip())


def _is_control(widget: Any) -> bool:
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    return isinstance(widget, (Button, TextInput)) or (isinstance(widget, Label) and bool(str(widget.text).strip()))


def _measure(widget: Any, width: float | None) -> tuple[float, float]:
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(
        text=str(widget.text),
        font_size=widget.font_size,
        font_name=widget.font_name,
        bold=widget.bold,
        italic=widget.italic,
        markup=widget.markup,
        padding=widget.padding,
        text_size=(width, None),
        halign=widget.halign,
        line_height=widget.line_height,
        max_lines=0,
    )
    label.refresh()
    return float(label.content_width), float(label.content_height)


def text_problem(widget: Any) -> str:
    """Why a label's text does not fit ('' when it does)."""
    if not _is_text(widget):
        return ""
    wrap = widget.text_size[0] if widget.text_size and widget.text_size[0] else None
    if getattr(widget, "shorten", False):
        wrap = None
    need_w, need_h = _measure(widget, wrap)
    if need_w > widget.width + TOLERANCE or need_h > widget.height + TOLERANCE:
        return f"text cut: needs {need_w:.0f}x{need_h:.0f} px, has {widget.width:.0f}x{widget.height:.0f}" + (
            " (shortened)" if getattr(widget, "shorten", False) else ""
        )
    if wrap:
        for word in str(widget.text).split():
            word_w, _ = _measure_word(widget, word)
            if word_w > wrap + TOLERANCE:
                return f"word {word[:30]!r} ({word_w:.0f} px) is wider than the line ({wrap:.0f} px): cut mid-word"
    return ""


def _measure_word(widget: Any, word: str) -> tuple[float, float]:
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(
        text=word, font_size=widget.font_size, font_name=widget.font_name, bold=widget.bold, markup=widget.markup
    )
    label.refresh()
    return float(label.content_width), float(label.content_height)


def _drawn_without_box(widget: Any) -> bool:
    """A text drawn (every ancestor opaque) by a widget laid out 0 px wide or high: it spills over its neighbours."""
    if not _is_text(widget) or (widget.width >= 1 and widget.height >= 1):
        return False
    if any(getattr(node, "opacity", 1) <= 0.01 for node in _chain(widget)):
        return False
    return widget.texture_size[0] >= 1 and widget.texture_size[1] >= 1


def layout_problems(root: Any, window_size: tuple[float, float]) -> list[str]:
    """Cut, tiny or boxless texts, controls outside the window or their viewport, and overlapping controls."""
    problems: list[str] = []
    controls: list[tuple[Any, tuple[float, float, float, float]]] = []
    win_w, win_h = window_size
    for widget in root.walk(restrict=True):
        if _drawn_without_box(widget):
            problems.append(f"{_name(widget)} is drawn in a {widget.width:.0f}x{widget.height:.0f} px box")
            continue
        if not _is_control(widget) or not is_visible(widget):
            continue
        if _is_text(widget) and float(widget.font_size) < MIN_TEXT_PX:
            problems.append(f"{_name(widget)}: text {float(widget.font_size):.1f} px high is too small to read")
        rect = window_rect(widget)
        scroll = _scroll_parent(widget)
        if scroll is not None:
            sx0, sy0, sx1, sy1 = window_rect(scroll)
            inside = (
                rect[0] >= sx0 - TOLERANCE
                and rect[1] >= sy0 - TOLERANCE
                and rect[2] <= sx1 + TOLERANCE
                and rect[3] <= sy1 + TOLERANCE
            )
            if not inside:
                continue  # scrolled out of (or partly out of) view: reachable by scrolling
        elif rect[0] < -TOLERANCE or rect[1] < -TOLERANCE or rect[2] > win_w + TOLERANCE or rect[3] > win_h + TOLERANCE:
            problems.append(f"{_name(widget)} is outside the window: {tuple(round(v) for v in rect)}")
            continue
        problem = text_problem(widget)
        if problem:
            problems.append(f"{_name(widget)}: {problem}")
        controls.append((widget, rect))
    for i, (a, ra) in enumerate(controls):
        ancestors_a = set(map(id, _chain(a)))
        for b, rb in controls[i + 1 :]:
            if id(b) in ancestors_a or id(a) in set(map(id, _chain(b))):
                continue
            w = min(ra[2], rb[2]) - max(ra[0], rb[0])
            h = min(ra[3], rb[3]) - max(ra[1], rb[1])
            if w > TOLERANCE and h > TOLERANCE:
                problems.append(f"{_name(a)} overlaps {_name(b)} by {w:.0f}x{h:.0f} px")
    return problems


def visible_texts(root: Any) -> list[str]:
    """Every text a person can read under ``root`` (labels, buttons, hints, popup titles)."""
    from kivy.uix.textinput import TextInput

    texts = []
    for widget in root.walk(restrict=True):
        if not is_visible(widget):
            continue
        if isinstance(widget, TextInput):
            texts.append(str(widget.text or widget.hint_text))
        elif _is_text(widget):
            texts.append(str(widget.text))
        title = getattr(widget, "title", None)
        if isinstance(title, str) and title:
            texts.append(title)
    return [t for t in texts if t.strip()]
