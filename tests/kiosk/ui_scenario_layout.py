"""Every screen and dialog at one window size (FakeCore), checked for cut text, overlaps and protocol words.

Run by ui_driver.py (mode "layout") once per size under an Xvfb screen of that
size. At each step it saves a screenshot ``<size>_<step>.png``, records the
layout problems (tests/kiosk/ui_layout.py) and every visible string.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ui_helpers import (
    Runner,
    Until,
    _screen,
    no_popup,
    pinch,
    screenshot,
    settle,
    tap,
)
from ui_layout import layout_problems, visible_texts, window_rect


def _popup(app: Any, name: str) -> Any:
    return next((w for w in app.root_window.children if w.__class__.__name__ == name), None)


def _keyboard(app: Any) -> Any:
    return next((w for w in app.root_window.children if w.__class__.__name__ == "VKeyboard"), None)


def layout_scenario(app: Any, core: Any, runner: Runner, shots: Path, config: dict[str, Any]) -> Iterator[Any]:
    from kivy.core.window import Window

    from kiosk.core.jobs import LocalState
    from kiosk.core.options import PrintOptions
    from kiosk.core.printing.base import PrintState, PrintStatus

    tag = config["size_tag"]
    problems: dict[str, list[str]] = runner.result["checks"].setdefault("problems", {})
    strings: dict[str, list[str]] = runner.result["checks"].setdefault("strings", {})

    def record(step: str, root: Any = None) -> Iterator[Any]:
        yield from settle(app)
        target = root if root is not None else app.root
        problems[step] = layout_problems(target, (Window.width, Window.height))
        strings[step] = visible_texts(target)
        screenshot(runner, shots, f"{tag}_{step}")

    yield 1.0
    runner.check("window_size", list(Window.size))
    enroll = _screen(app, "enrollment")
    yield from record("enrollment")
    tap(enroll.ids.enroll)
    yield 0.3
    enroll.ids.relay.text = "relay.example.com:443"
    enroll.ids.code.focus = True
    yield Until(lambda: _keyboard(app) is not None, 5, "on-screen keyboard")
    yield 0.8
    keyboard = _keyboard(app)
    field = window_rect(enroll.ids.code)
    keyboard_top = keyboard.to_window(keyboard.x, keyboard.y)[1] + keyboard.height * keyboard.scale
    runner.check("keyboard_field_gap", round(field[1] - keyboard_top, 1))
    yield from record("enrollment_keyboard", None)
    enroll.ids.code.text = "ABCD-EFGH-JKLM"
    enroll.ids.code.focus = False
    yield 0.5
    tap(enroll.ids.enroll)
    yield Until(lambda: app.screens.current == "queue", 10, "queue after enrollment")
    queue = _screen(app, "queue")
    yield Until(lambda: bool(queue.key_words) and queue.key_qr is not None, 5, "live key check")
    runner.check("key_check_words", queue.ids.key_check_words.text)
    yield from record("queue_idle")

    now = datetime.now(UTC)
    threading.Thread(
        target=lambda: (
            core.add_job(
                "K7P2QX",
                "Ada Lovelace-Byron of the Analytical Engine Society",
                3,
                PrintOptions(copies=2, color="color", sides="two-sided-long-edge"),
            ),
            core.add_job("M4R8ZT", "Grace Hopper", 1, PrintOptions(), broken=True, minutes_left=3),
            core.add_job(
                "B2N6WE",
                "Alan Turing",
                4,
                PrintOptions(),
                minutes_left=12,
                files=("annual-report-2026-final.pdf", "holiday-photo.jpg"),
            ),
            core.add_job(
                "H3J5LW", "Edsger Dijkstra", 2, PrintOptions(), minutes_left=20, printed_at=now - timedelta(minutes=7)
            ),
        )
    ).start()
    queue = _screen(app, "queue")
    yield Until(lambda: queue.job_count == 4, 10, "four jobs")
    yield 1.0
    runner.check("unseen_after_arrival", len(app.unseen))
    runner.check("new_marks", sorted(row.code for row in queue.ids.jobs.children if row.is_new))
    runner.check("queue_header_badge", queue.ids.new_badge.text)
    runner.check("next_expiry_1", app.next_expiry)
    yield from record("queue")
    yield 1.5
    runner.check("next_expiry_2", app.next_expiry)

    yield from open_row(queue, "job-K7P2QX")
    view = _screen(app, "job")
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 40, "page rendered")
    yield 0.8
    runner.check("unseen_after_open", len(app.unseen))
    subtitle_1 = view.subtitle
    yield from record("job_view")
    yield 1.2
    runner.check("subtitle_ticks", [subtitle_1, view.subtitle])
    yield from chooser_steps(app, view, runner, record)
    stage = view.ids.viewer.ids.stage
    pinch(stage, 200)
    yield 0.3
    pinch(stage, 200)
    yield 0.5
    box = view.ids.viewer.ids.watermark.visible_box()
    sx0, sy0, sx1, sy1 = stage.x, stage.y, stage.right, stage.top
    runner.check("zoom", stage.zoom)
    runner.check(
        "watermark_inside_stage",
        box[0] >= sx0 - 1 and box[1] >= sy0 - 1 and box[0] + box[2] <= sx1 + 1 and box[1] + box[3] <= sy1 + 1,
    )
    yield from record("job_view_zoomed")
    stage.reset_view()

    if view.ids.panel.children[0].height > view.ids.panel.height:
        view.ids.panel.scroll_to(view.ids.pages, animate=False)
    yield 0.2
    tap(view.ids.pages)
    yield Until(lambda: _popup(app, "NumberPad") is not None, 5, "keypad")
    yield 0.5
    pad = _popup(app, "NumberPad")
    for key in "2-3":
        pad.press(key)
    yield from record("keypad_pages", pad)
    tap(pad.ids.done)
    yield Until(lambda: no_popup(app), 5, "keypad closed")
    runner.check("pages_after_keypad", view.options.page_ranges)
    runner.check("price_after_keypad", view.price_line)

    payment = view.ids.payment
    runner.check("amount_due", payment.due)
    yield from pay_at_counter(view, payment)
    yield from record("job_paid")

    tap(view.ids.complete_button)
    yield Until(lambda: _popup(app, "ConfirmPopup") is not None, 5, "complete confirmation")
    popup = _popup(app, "ConfirmPopup")
    runner.check("complete_unprinted_title", popup.title)
    runner.check("complete_unprinted_note", popup.message.rsplit(". ", 1)[-1])
    yield from record("confirm_complete_unprinted", popup)
    tap(popup.ids.cancel)
    yield Until(lambda: no_popup(app), 5, "popup closed")
    runner.check("completed_after_cancel", list(core.completed))

    core._set(
        "job-K7P2QX",
        state=LocalState.PRINTING,
        print_status=PrintStatus(
            PrintState.PROCESSING, "Printing - The printer is out of paper", ("media-empty-error", "job-printing")
        ),
    )
    yield 0.5
    runner.check("print_button_while_printing", view.ids.print_button.text)
    runner.check("status_while_printing", view.printer_status)
    yield from record("job_printing")
    core._set("job-K7P2QX", state=LocalState.READY, print_status=None)
    yield 0.3
    tap(view.ids.print_button)
    yield Until(lambda: view.printed, 10, "printed")
    yield 0.3
    tap(view.ids.print_button)
    yield Until(lambda: _popup(app, "ConfirmPopup") is not None, 5, "print again confirmation")
    popup = _popup(app, "ConfirmPopup")
    runner.check("print_again_title", popup.title)
    yield from record("confirm_print_again", popup)
    tap(popup.ids.cancel)
    yield Until(lambda: no_popup(app), 5, "popup closed")
    tap(view.ids.complete_button)
    yield Until(lambda: _popup(app, "ConfirmPopup") is not None, 5, "complete confirmation")
    popup = _popup(app, "ConfirmPopup")
    runner.check("complete_printed_title", popup.title)
    yield from record("confirm_complete_printed", popup)
    tap(popup.ids.confirm)
    yield Until(lambda: app.screens.current == "queue", 10, "queue after Complete")
    yield Until(lambda: no_popup(app), 5, "popup closed")
    runner.check("completed", list(core.completed))

    yield from open_row(queue, "job-B2N6WE")
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 40, "multi-file job rendered")
    yield 0.8
    runner.check("file_lines", view.file_lines)
    yield from record("job_two_files")
    tap(find_button(view, "< Queue"))
    yield 0.5

    yield from open_row(queue, "job-H3J5LW")
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 40, "printed job rendered")
    yield 0.5
    runner.check("printed_earlier_status", view.printer_status)
    runner.check("printed_earlier_button", view.ids.print_button.text)
    tap(find_button(view, "< Queue"))
    yield 0.5

    yield from open_row(queue, "job-M4R8ZT")
    yield Until(lambda: bool(view.error), 10, "broken job error")
    yield 0.5
    yield from record("job_error")
    tap(view.ids.reject_button)
    yield Until(lambda: _popup(app, "RejectPopup") is not None, 5, "reject dialog")
    popup = _popup(app, "RejectPopup")
    yield from record("reject", popup)
    popup.ids.note.focus = True
    yield Until(lambda: _keyboard(app) is not None, 5, "keyboard for the reason")
    yield 0.8
    keyboard = _keyboard(app)
    keyboard_top = keyboard.to_window(keyboard.x, keyboard.y)[1] + keyboard.height * keyboard.scale
    runner.check("reject_buttons_above_keyboard", window_rect(popup.ids.confirm)[1] >= keyboard_top - 1)
    runner.check("reject_field_above_keyboard", window_rect(popup.ids.note)[1] >= keyboard_top - 1)
    screenshot(runner, shots, f"{tag}_reject_keyboard")
    popup.ids.note.focus = False
    yield 0.3
    tap(popup.ids.cancel)
    yield Until(lambda: no_popup(app), 5, "reject closed")
    tap(find_button(view, "< Queue"))
    yield 0.5

    yield from other_counter_steps(app, core, queue, view, runner, record)

    core.connection.online = False
    core.connection.status = "offline"
    core.connection.message = "offline (UNAVAILABLE: failed to connect to all addresses; Connection refused); retrying"
    core._emit("connection")
    yield Until(lambda: not app.online, 5, "offline")
    yield 0.5
    runner.check("offline_banner", app.connection_message)
    yield from record("queue_offline")

    tap(find_button(queue, "Settings"))
    yield Until(lambda: app.screens.current == "settings", 5, "settings")
    settings = _screen(app, "settings")
    yield 0.5
    yield from record("settings")
    runner.check("audio_note", settings.ids.audio_note.text)
    yield from daybook_steps(app, settings, runner, record)
    tap(settings.ids.advanced_toggle)
    yield 0.5
    if settings.ids.scroll.children[0].height > settings.ids.scroll.height:
        settings.ids.scroll.scroll_to(settings.ids.rotate, animate=False)
    yield 0.5
    yield from record("settings_advanced")
    settings.ids.bridge.text = "https://changed.example.com"
    tap(settings.ids.back)
    yield Until(lambda: _popup(app, "ConfirmPopup") is not None, 5, "unsaved changes question")
    popup = _popup(app, "ConfirmPopup")
    runner.check("unsaved_title", popup.title)
    runner.check("screen_while_asking", app.screens.current)
    yield from record("confirm_unsaved", popup)
    tap(popup.ids.confirm)
    yield Until(lambda: app.screens.current == "queue", 5, "queue after discarding")
    yield Until(lambda: no_popup(app), 5, "popup closed")
    runner.check("bridge_after_discard", core.settings.bridge_url)

    tap(find_button(queue, "Poster"))
    poster = _screen(app, "poster")
    yield Until(lambda: poster.qr_texture is not None, 5, "poster QR")
    yield 0.5
    runner.check("poster_fingerprint", poster.fingerprint)
    yield from record("poster")


def chooser_steps(app: Any, view: Any, runner: Any, record: Any) -> Iterator[Any]:
    """The job view's printer chooser: open its list of printers, look, close it."""
    spinner = view.ids.printer_chooser.ids.printer_spinner
    runner.check("chooser_printers", list(spinner.values))
    if view.ids.panel.children[0].height > view.ids.panel.height:
        view.ids.panel.scroll_to(spinner, animate=False)
    yield 0.2
    tap(spinner)
    yield Until(lambda: spinner.is_open, 5, "printer list")
    yield 0.4
    yield from record("printer_chooser", spinner._dropdown)
    spinner.is_open = False
    yield 0.3
    view.ids.panel.scroll_y = 1


def other_counter_steps(app: Any, core: Any, queue: Any, view: Any, runner: Any, record: Any) -> Iterator[Any]:
    """A job Counter 2 has: "At Counter 2" on its row, then Print asks "Print here?"."""
    from kiosk.core.options import PrintOptions

    threading.Thread(
        target=lambda: core.add_job("T9C2KW", "Katherine Johnson", 2, PrintOptions(), taken_by="Counter 2")
    ).start()
    yield Until(lambda: queue.row("job-T9C2KW") is not None, 10, "job at Counter 2")
    yield 0.5
    runner.check("counter_row_status", queue.row("job-T9C2KW").status)
    yield from record("queue_counter2")
    yield from open_row(queue, "job-T9C2KW")
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 40, "Counter 2 job rendered")
    yield 0.3
    tap(view.ids.print_button)
    yield Until(lambda: _popup(app, "ConfirmPopup") is not None, 5, "print here question")
    popup = _popup(app, "ConfirmPopup")
    runner.check("print_here_title", popup.title)
    yield from record("confirm_print_here", popup)
    tap(popup.ids.cancel)
    yield Until(lambda: no_popup(app), 5, "popup closed")
    tap(find_button(view, "< Queue"))
    yield 0.5


def pay_at_counter(view: Any, payment: Any) -> Iterator[Any]:
    """Scroll the job panel to the Paid button and tap it."""
    if view.ids.panel.children[0].height > view.ids.panel.height:
        view.ids.panel.scroll_to(payment, animate=False)
    yield 0.2
    tap(payment.ids.paid_button)
    yield Until(lambda: payment.paid, 5, "paid")


def daybook_steps(app: Any, settings: Any, runner: Runner, record: Any) -> Iterator[Any]:
    """Settings -> Day book: totals, list, unpaid only, Mark paid, the export dialog; back to settings."""
    if settings.ids.scroll.children[0].height > settings.ids.scroll.height:
        settings.ids.scroll.scroll_to(settings.ids.daybook, animate=False)
    yield 0.3
    tap(settings.ids.daybook)
    yield Until(lambda: app.screens.current == "daybook", 5, "day book")
    book = _screen(app, "daybook")
    runner.check("daybook_cards", [list(card) for card in book.cards])
    runner.check("daybook_rows", [row.first.split()[-1] for row in reversed(book.ids.rows.children)])
    yield from record("daybook")
    tap(book.ids.show_unpaid)
    yield 0.2
    unpaid = list(reversed(book.ids.rows.children))
    runner.check("daybook_unpaid_rows", [row.first.split()[-1] for row in unpaid])
    yield from record("daybook_unpaid")
    mark = next(w for w in unpaid[0].walk() if getattr(w, "text", "") == "Mark paid")
    tap(mark)
    yield 0.2
    runner.check("daybook_unpaid_after_mark", [row.first.split()[-1] for row in reversed(book.ids.rows.children)])
    tap(book.ids.show_all)
    yield 0.1
    tap(book.ids.export)
    yield Until(lambda: _popup(app, "ExportPopup") is not None, 5, "export dialog")
    popup = _popup(app, "ExportPopup")
    yield from record("daybook_export", popup)
    tap(popup.ids.cancel)
    yield Until(lambda: no_popup(app), 5, "export closed")
    tap(book.ids.back)
    yield Until(lambda: app.screens.current == "settings", 5, "settings again")
    yield 0.2


def open_row(queue: Any, job_id: str) -> Iterator[Any]:
    """Scroll the queue to a job's row and tap it."""
    yield 0.3  # rows are rebuilt when a NEW mark goes: let the new ones be laid out
    row, scroll = queue.row(job_id), queue.ids.jobs.parent
    if queue.ids.jobs.height > scroll.height:
        scroll.scroll_to(row, animate=False)
    yield 0.3
    tap(queue.row(job_id))


def find_button(root: Any, text: str) -> Any:
    for widget in root.walk():
        if getattr(widget, "text", None) == text:
            return widget
    raise LookupError(text)
