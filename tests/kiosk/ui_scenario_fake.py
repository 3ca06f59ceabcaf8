"""The layout scenario run by ui_driver.py: every screen with canned jobs (FakeCore).

Checks the options editor and price, errors on a broken job, a cancellation
while viewing, the offline banner and the version warning, and saves
screenshots of each screen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ui_helpers import (
    Runner,
    Until,
    _require,
    _screen,
    confirm_popup,
    find_by_text,
    keypad_enter,
    no_popup,
    pinch,
    screenshot,
    settle,
    swipe,
    tap,
    type_into,
    window_facts,
)


def fake_scenario(app: Any, core: Any, runner: Runner, shots: Path, config: dict[str, Any]) -> Iterator[Any]:
    from kiosk.core.jobs import LocalState, PrintOptions

    yield 1.0
    window_facts(runner)
    enroll = _screen(app, "enrollment")
    runner.check("first_screen", app.screens.current)
    _require(app.screens.current == "enrollment", "an unenrolled kiosk must start on the enrollment screen")
    type_into(enroll.ids.relay, "relay.example.com:443")
    enroll.ids.relay.focus = False
    tap(enroll.ids.enroll)
    yield 0.3
    runner.check("enroll_empty_code_error", enroll.error)
    type_into(enroll.ids.code, "ABCD-EFGH-JKLM")
    yield 0.8
    runner.check("keyboard_shown", any(w.__class__.__name__ == "VKeyboard" for w in app.root_window.children))
    yield from settle(app)
    screenshot(runner, shots, "fake_enrollment_keyboard")
    enroll.ids.code.focus = False
    yield 0.5
    yield from settle(app)
    screenshot(runner, shots, "fake_enrollment")
    tap(enroll.ids.enroll)
    yield Until(lambda: app.screens.current == "queue", 10, "queue screen after enrollment")
    queue = _screen(app, "queue")
    # Idle: the live key check (QR + the key set's words) fills the empty queue.
    yield Until(lambda: queue.key_qr is not None, 10, "live key check QR")
    runner.check("idle_key_words", queue.ids.key_check_words.text)
    runner.check("idle_key_check_height", queue.ids.key_check.height)
    yield 0.5
    yield from settle(app)
    screenshot(runner, shots, "fake_queue_key_check")

    threading.Thread(
        target=lambda: (
            core.add_job(
                "K7P2QX", "Ada Lovelace", 3, PrintOptions(copies=2, color="color", sides="two-sided-long-edge")
            ),
            core.add_job("M4R8ZT", "Grace Hopper", 1, PrintOptions(), broken=True, minutes_left=3),
            core.add_job(
                "B2N6WE", "Alan Turing", 5, PrintOptions(page_ranges="1-3"), minutes_left=12, taken_by="Counter 2"
            ),
        )
    ).start()
    queue = _screen(app, "queue")
    yield Until(lambda: queue.job_count == 3, 10, "three jobs in the queue")
    runner.check("flashes_after_arrival", app.flash.count)
    yield 1.2
    codes = [row.code for row in queue.ids.jobs.children[::-1]]
    runner.check("queue_codes", codes)
    runner.check("taken_status", queue.row("job-B2N6WE").status)
    yield from settle(app)
    screenshot(runner, shots, "fake_queue")

    tap(queue.row("job-K7P2QX"))
    view = _screen(app, "job")
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 15, "first page rendered")
    yield 0.8
    runner.check("job_title", view.title)
    runner.check("watermark", view.ids.viewer.ids.watermark.text)
    runner.check("price_before", view.price_line)
    runner.check("page_label", view.ids.viewer.page_count)
    swipe(view.ids.viewer.ids.stage, -300)
    yield Until(lambda: view.ids.viewer.page_index == 1, 5, "swipe to page 2")
    tap(view.ids.one_sided)
    yield 0.3
    runner.check("price_one_sided", view.price_line)
    tap(view.ids.color_bw)
    yield 0.3
    runner.check("price_bw", view.price_line)
    yield from keypad_enter(app, view.ids.pages, "9-12")
    runner.check("bad_range_error", view.options_error)
    runner.check("print_disabled_on_bad_range", view.ids.print_button.disabled)
    yield from keypad_enter(app, view.ids.pages, "2-3")
    yield Until(lambda: no_popup(app), 5, "keypad closed")
    runner.check("price_pages_2_3", view.price_line)
    pinch(view.ids.viewer.ids.stage, 120)
    yield 0.3
    runner.check("zoom_after_pinch", view.ids.viewer.ids.stage.zoom)
    view.ids.viewer.ids.stage.reset_view()
    tap(view.ids.color_colour)
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 10, "page texture")
    yield 1.0
    yield from settle(app)
    screenshot(runner, shots, "fake_job_view")
    tap(view.ids.print_button)
    yield Until(lambda: "Printed" in view.printer_status, 10, "print status")
    runner.check("printer_status", view.printer_status)
    runner.check("printed_options", [str(o) for _j, o in core.printed])
    tap(view.ids.complete_button)
    yield from confirm_popup(app)
    yield Until(lambda: app.screens.current == "queue", 10, "back to the queue after Complete")
    runner.check("completed", list(core.completed))
    yield 0.5

    tap(queue.row("job-M4R8ZT"))
    yield Until(lambda: bool(view.error), 10, "error shown for the broken job")
    yield 0.6
    runner.check("broken_error", view.error)
    runner.check("broken_print_disabled", view.ids.print_button.disabled)
    yield from settle(app)
    screenshot(runner, shots, "fake_job_error")
    tap(view.ids.reject_button)
    yield 0.5
    popup = next(w for w in app.root_window.children if w.__class__.__name__ == "RejectPopup")
    tap(find_by_text(popup, "The printer is out of order."))
    yield 0.2
    tap(popup.ids.confirm)
    yield Until(lambda: app.screens.current == "queue", 10, "back to the queue after Reject")
    yield Until(lambda: no_popup(app), 5, "reject popup closed")
    runner.check("rejected_reason", core.job("job-M4R8ZT").reason)

    # The customer withdraws a job while the shop is looking at it.
    tap(queue.row("job-B2N6WE"))
    yield Until(lambda: view.ids.viewer.ids.stage.texture is not None, 15, "B2N6WE rendered")
    core._set("job-B2N6WE", state=LocalState.CANCELLED, reason="withdrawn by the customer")
    yield Until(lambda: view.terminal, 5, "view follows the cancellation")
    yield 0.3
    runner.check("cancelled_message", view.ids.viewer.message)
    runner.check("cancelled_print_disabled", view.ids.print_button.disabled)
    runner.check("cancelled_page_dropped", view.ids.viewer.ids.stage.texture is None)
    tap(view.ids.remove_button)
    yield Until(lambda: app.screens.current == "queue", 5, "back after Remove")
    yield 0.5
    runner.check("queue_after_remove", [row.code for row in queue.ids.jobs.children[::-1]])
    runner.check("update_needed", app.update_needed)

    core.connection.online = False
    core.connection.message = "relay unreachable, retrying in 4 s"
    core._emit("connection")
    yield Until(lambda: not app.online, 5, "offline state")
    yield 0.6
    runner.check("offline_message", app.connection_message)
    yield from settle(app)
    screenshot(runner, shots, "fake_queue_offline")

    tap(find_by_text(queue, "Settings"))
    yield Until(lambda: app.screens.current == "settings", 5, "settings screen")
    yield 0.6
    yield from settle(app)
    screenshot(runner, shots, "fake_settings")
    settings = _screen(app, "settings")
    settings.ids.scroll.scroll_to(settings.ids.price_bw, animate=False)  # below the Printers section
    yield 0.4
    yield from keypad_enter(app, settings.ids.price_bw, "0.15")
    yield Until(lambda: no_popup(app), 5, "keypad closed")
    tap(settings.ids.save)
    yield 0.3
    runner.check("saved_bw_cents", core.settings.prices.bw_cents)
    runner.check("settings_status", settings.status)
    yield from printers_section(app, core, runner, settings, shots)
    tap(find_by_text(settings, "< Queue"))
    yield 0.3
    tap(find_by_text(queue, "Poster"))
    yield Until(lambda: _screen(app, "poster").qr_texture is not None, 5, "poster QR")
    yield 0.6
    yield from settle(app)
    screenshot(runner, shots, "fake_poster")
    runner.check("poster_fingerprint", _screen(app, "poster").fingerprint)
    runner.check("poster_words", _screen(app, "poster").key_words)


def printers_section(app: Any, core: Any, runner: Runner, settings: Any, shots: Path) -> Iterator[Any]:
    """Settings > Printers: add a printer typed on the keyboard, refuse a duplicate name, remove one."""
    from kiosk.core.printing.health import PrinterHealth

    panel = settings.ids.printer_list

    def rows() -> dict[str, Any]:
        return {row.name: row for row in reversed(panel.ids.rows.children)}

    def add(name: str, address: str) -> Iterator[Any]:
        type_into(panel.ids.new_name, name)
        type_into(panel.ids.new_address, address)
        panel.ids.new_name.focus = panel.ids.new_address.focus = False  # the docked keyboard goes away
        settings.ids.scroll.scroll_to(panel.ids.add_printer, animate=False)
        yield 0.4
        tap(panel.ids.add_printer)
        yield 0.3

    runner.check("printer_rows", list(rows()))
    yield from add("Office", "ipp://192.0.2.1/ipp/print")
    runner.check("printers_after_add", [(p.name, p.kind, p.uri or p.queue) for p in core.settings.all_printers()])
    runner.check("office_words_before_poll", rows()["Office"].words)
    core.printer_states.append(PrinterHealth("Office", "unreachable"))
    core._emit("printers")
    yield Until(lambda: rows()["Office"].tone == "stopped", 5, "the new printer's health line")
    runner.check("office_words", rows()["Office"].words)
    yield from add("laser", "Back_Room")
    runner.check("duplicate_error", panel.error)
    runner.check("printers_after_duplicate", [p.name for p in core.settings.all_printers()])
    settings.ids.scroll.scroll_to(panel, animate=False)
    yield from settle(app)
    screenshot(runner, shots, "fake_settings_printers")
    colour_remove = find_by_text(rows()["Colour"], "Remove")
    settings.ids.scroll.scroll_to(colour_remove, animate=False)
    yield 0.4
    tap(colour_remove)
    yield from confirm_popup(app)
    runner.check("printers_after_remove", [p.name for p in core.settings.all_printers()])
    runner.check("printer_rows_after_remove", list(rows()))
    runner.check("routing_after_remove", list(settings.ids.routing.choices))
    runner.check("routes_after_remove", [(r.printer, r.color, r.media) for r in core.settings.routes])
    runner.check("dirty_after_remove", settings.dirty)
    settings.ids.scroll.scroll_y = 1
