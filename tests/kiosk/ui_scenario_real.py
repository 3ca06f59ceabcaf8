"""The end-to-end scenario run by ui_driver.py: the real KioskCore against a real relay.

Enrolls on screen, receives a job sealed by a test customer, previews,
prints and completes it; flags and rejects a damaged PDF; saves settings,
prints a test page, rotates the key and prints the poster.
"""

from __future__ import annotations

import threading
import time
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
    no_popup,
    popup_named,
    screenshot,
    settle,
    tap,
    texture_has_ink,
    type_into,
    window_facts,
)


def make_real_core(config: dict[str, Any]) -> Any:
    """A real KioskCore on the test's data folder, printing to the test's printer."""
    from kiosk.core.service import KioskCore

    printer = None
    if config.get("printer_folder"):
        from kiosk.core.printing import PdfFolderPrinter

        printer = PdfFolderPrinter(Path(config["printer_folder"]))
    elif config.get("printer_uri"):
        from kiosk.core.printing import IppPrinter

        printer = IppPrinter(config["printer_uri"])
    elif config.get("cups_server"):
        from kiosk.core.printing import CupsPrinter

        printer = CupsPrinter(config["cups_queue"], config["cups_server"])
    return KioskCore(Path(config["data_dir"]), printer=printer)


def real_scenario(app: Any, core: Any, runner: Runner, shots: Path, config: dict[str, Any]) -> Iterator[Any]:
    from ui_customer import job_state, send_job

    prefix = config.get("shot_prefix", "")
    yield 1.0
    window_facts(runner)
    runner.check("first_screen", app.screens.current)
    _require(app.screens.current == "enrollment", "a fresh kiosk must start on the enrollment screen")
    enroll = _screen(app, "enrollment")
    type_into(enroll.ids.relay, config["relay_address"])
    type_into(enroll.ids.code, config["enrollment_code"])
    enroll.ids.code.focus = False
    yield 0.5
    yield from settle(app)
    screenshot(runner, shots, prefix + "enrollment")
    tap(enroll.ids.enroll)
    yield Until(lambda: app.screens.current == "queue" or enroll.error, 30, "enrollment result")
    runner.check("enroll_error", enroll.error)
    _require(app.screens.current == "queue", f"enrollment failed: {enroll.error}")
    yield Until(lambda: app.online, 30, "kiosk online")
    runner.check("online", app.online)

    sent: dict[str, Any] = {}

    from ui_fake_core import sample_pdf

    document = (
        Path(config["document"]).read_bytes()
        if config.get("document")
        else sample_pdf(config.get("document_pages", 4), "Spring flyer")
    )

    def customer() -> None:
        try:
            sent.update(send_job(config["relay_address"], core.shop, document))
        except Exception as exc:  # noqa: BLE001  (reported in the result, not lost in a thread)
            sent["error"] = repr(exc)

    threading.Thread(target=customer, daemon=True).start()
    queue = _screen(app, "queue")
    yield Until(
        lambda: "error" in sent or (sent.get("job_id") and queue.row(sent["job_id"])), 60, "customer's job in the queue"
    )
    _require("error" not in sent, f"customer failed: {sent.get('error')}")
    runner.check("job_code", sent["job_code"])
    runner.check("flashes_after_arrival", app.flash.count)
    row = queue.row(sent["job_id"])
    yield Until(lambda: row.customer != "(no name)" or row.error, 30, "manifest decrypted")
    yield 1.0
    row = queue.row(sent["job_id"])
    runner.check("row_code", row.code)
    runner.check("row_customer", row.customer)
    runner.check("row_details", row.details)
    runner.check("row_price", row.price)
    runner.check("row_time_left", row.time_left)
    yield from settle(app)
    screenshot(runner, shots, prefix + "queue")

    tapped_at = time.monotonic()
    tap(row)
    view = _screen(app, "job")
    stage = view.ids.viewer.ids.stage
    yield Until(lambda: stage.texture is not None or view.error, 30, "first page rendered")
    runner.check("tap_to_first_page_seconds", round(time.monotonic() - tapped_at, 3))
    _require(not view.error, f"job did not open: {view.error}")
    yield 1.0
    runner.check("page_count", view.ids.viewer.page_count)
    runner.check("page_texture_size", list(stage.texture.size))
    runner.check("page_has_ink", texture_has_ink(stage.texture))
    runner.check("watermark", view.ids.viewer.ids.watermark.text)
    runner.check("price_line", view.price_line)
    yield from settle(app)
    screenshot(runner, shots, prefix + "job_view")
    tap(view.ids.print_button)
    yield Until(
        lambda: not view.busy and view.printer_status and "sending" not in view.printer_status.lower(),
        60,
        "print finished",
    )
    runner.check("printer_status", view.printer_status)
    yield from settle(app)
    screenshot(runner, shots, prefix + "job_printed")
    tap(view.ids.complete_button)
    yield Until(lambda: popup_named(app, "ConfirmPopup") is not None, 5, "Complete asks")
    runner.check("complete_title", popup_named(app, "ConfirmPopup").title)
    yield from settle(app)
    screenshot(runner, shots, prefix + "confirm_complete")
    yield from confirm_popup(app)
    yield Until(
        lambda: app.screens.current == "queue" or not view.busy and "complete" in view.printer_status.lower(),
        30,
        "Complete done",
    )
    runner.check("screen_after_complete", app.screens.current)
    yield 0.5

    runner.check("relay_state_after_complete", job_state(config["relay_address"], sent))
    if config.get("journey_only"):
        return

    # A damaged document: the kiosk must say so on that job, and the shop can reject it.
    broken: dict[str, Any] = {}

    def broken_customer() -> None:
        try:
            broken.update(
                send_job(config["relay_address"], core.shop, b"%PDF-1.7\n" + bytes(range(256)) * 40, name="damaged.pdf")
            )
        except Exception as exc:  # noqa: BLE001  (reported in the result)
            broken["error"] = repr(exc)

    threading.Thread(target=broken_customer, daemon=True).start()
    yield Until(
        lambda: (
            "error" in broken
            or (broken.get("job_id") and queue.row(broken["job_id"]) and queue.row(broken["job_id"]).error)
        ),
        60,
        "damaged job flagged",
    )
    _require("error" not in broken, f"customer failed: {broken.get('error')}")
    runner.check("broken_row_error", queue.row(broken["job_id"]).error)
    yield 0.5
    tap(queue.row(broken["job_id"]))
    yield Until(lambda: bool(view.error), 30, "error on the damaged job's view")
    yield 0.8
    runner.check("broken_view_error", view.error)
    runner.check("broken_print_disabled", view.ids.print_button.disabled)
    yield from settle(app)
    screenshot(runner, shots, prefix + "job_error")
    tap(view.ids.reject_button)
    yield 0.5
    popup = next(w for w in app.root_window.children if w.__class__.__name__ == "RejectPopup")
    tap(find_by_text(popup, "This file cannot be printed here."))
    yield 0.2
    tap(popup.ids.confirm)
    yield Until(lambda: app.screens.current == "queue" or not view.busy and view.printer_status, 30, "Reject done")
    yield Until(lambda: no_popup(app), 5, "reject popup closed")
    runner.check("relay_state_after_reject", job_state(config["relay_address"], broken))
    yield 0.5

    tap(find_by_text(queue, "Settings"))
    settings = _screen(app, "settings")
    yield Until(lambda: app.screens.current == "settings", 5, "settings screen")
    tap(settings.ids.advanced_toggle)
    yield 0.5
    type_into(settings.ids.bridge, "print.example.test")
    settings.ids.bridge.focus = False
    tap(settings.ids.save)
    yield Until(lambda: settings.status, 5, "settings saved")
    runner.check("settings_status", settings.status)
    runner.check("saved_bridge_url", core.settings.bridge_url)
    yield 0.8
    yield from settle(app)
    screenshot(runner, shots, prefix + "settings")
    runner.check("settings_fingerprint", settings.fingerprint)
    runner.check("settings_retention", settings.retention)
    tap(settings.ids.test_print)
    yield Until(lambda: not settings.busy and settings.status.startswith("Test page:"), 30, "test print")
    runner.check("test_print_status", settings.status)
    if not settings.show_advanced:
        _scroll_into_view(settings, settings.ids.advanced_toggle)
        yield 0.3
        tap(settings.ids.advanced_toggle)
        yield Until(lambda: settings.show_advanced, 5, "advanced settings shown")
    yield 0.3
    _scroll_into_view(settings, settings.ids.rotate)
    yield 0.3
    tap(settings.ids.rotate)
    yield Until(lambda: _confirm_popup(app) is not None, 5, "rotate key confirmation")
    confirm = _confirm_popup(app)
    tap(confirm.ids.confirm)
    yield Until(
        lambda: (
            not settings.busy
            and settings.status.startswith(("New key", "Rotating")) is True
            and not settings.status.startswith("Rotating")
        ),
        30,
        "key rotated",
    )
    runner.check("rotate_status", settings.status)
    yield Until(lambda: no_popup(app), 5, "confirmation closed")
    runner.check("fingerprint_after_rotation", settings.fingerprint)
    tap(settings.ids.back)
    yield 0.3
    runner.check("screen_before_poster", app.screens.current)
    tap(find_by_text(queue, "Poster"))
    poster = _screen(app, "poster")
    yield 0.3
    runner.check("screen_after_poster_tap", app.screens.current)
    yield Until(lambda: poster.qr_texture is not None or poster.status, 10, "poster QR")
    yield 0.8
    runner.check("poster_status", poster.status)
    runner.check("poster_has_qr", poster.qr_texture is not None)
    runner.check("poster_url", poster.url)
    runner.check("poster_fingerprint", poster.fingerprint)
    yield from settle(app)
    screenshot(runner, shots, prefix + "poster")
    tap(poster.ids.print_poster)
    yield Until(lambda: not poster.busy and poster.status.startswith("Poster:"), 30, "poster printed")
    runner.check("poster_print_status", poster.status)


def _scroll_into_view(settings: Any, widget: Any) -> None:
    """Scroll the settings page so a tap at the widget's centre lands on it.

    Kivy's scroll_to on content that already fits moves it out of the view, so
    only scroll when the page is taller than its viewport.
    """
    scroll = settings.ids.scroll
    if scroll.children[0].height > scroll.height:
        scroll.scroll_to(widget, animate=False)


def _confirm_popup(app: Any) -> Any:
    """The open confirmation dialog, or None."""
    return next((w for w in app.root_window.children if w.__class__.__name__ == "ConfirmPopup"), None)
