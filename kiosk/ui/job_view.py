"""One job: preview, editable options, price, Print / Complete / Reject (job_view.kv).

Opening (download, decrypt, open) and printing run on worker threads; a job
that cannot be opened shows the core's message where the page would be and
can still be rejected. Nothing here saves, exports or shares a document.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import Screen

from kiosk.core.errors import KioskError
from kiosk.ui import format as fmt
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)

PRESET_REASONS = (
    "This file cannot be printed here.",
    "The printer is out of order.",
    "Please come to the counter.",
)


class RejectPopup(Popup):
    """Asks for the reason the customer will see."""

    screen: Any = ObjectProperty(None)

    def choose(self, reason: str) -> None:
        self.ids.reason.text = reason

    def confirm(self) -> None:
        reason = self.ids.reason.text.strip()
        if not reason:
            self.ids.reason.hint_text = "A reason is needed: the customer sees it"
            return
        self.dismiss()
        self.screen.reject(reason[:500])


class JobViewScreen(Screen):
    """Shows one job; ``job_id`` is set by the app before entering."""

    job_id = StringProperty("")
    job: Any = ObjectProperty(None, allownone=True)
    options: Any = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    subtitle = StringProperty("")
    error = StringProperty("")
    options_error = StringProperty("")
    price_line = StringProperty("")
    printer_status = StringProperty("")
    busy = BooleanProperty(False)
    opened_ok = BooleanProperty(False)
    terminal = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._opened: Any = None
        self._open_error = ""

    # -- lifecycle -----------------------------------------------------------
    def load(self, job_id: str) -> None:
        """Show ``job_id``: header at once, pages once decrypted."""
        core = App.get_running_app().core
        self.close_job()
        self.job_id = job_id
        try:
            job = core.job(job_id)
        except KioskError as exc:
            self.error = fmt.sentence(str(exc)) or "This job is gone."
            return
        self.options = job.options
        self.ids.pages.text = job.options.page_ranges
        self._show_job(job)
        if job.is_terminal:
            self.ids.viewer.clear(fmt.state_text(job.state) + (f": {job.reason}" if job.reason else ""))
            return
        self.ids.viewer.clear("Decrypting...")
        run_async(core.open_job, job_id, on_done=self._opened_job, on_error=self._open_failed)

    def close_job(self) -> None:
        """Drop the preview (textures and loader) and forget the opened job."""
        self._opened = None
        self._open_error = ""
        self.opened_ok = False
        self.error = self.options_error = self.printer_status = self.price_line = ""
        self.ids.viewer.clear()

    def on_leave(self, *_: Any) -> None:
        self.close_job()
        self.job_id = ""

    def _opened_job(self, opened: Any) -> None:
        if getattr(opened, "job_id", self.job_id) != self.job_id:
            return  # the user moved on to another job meanwhile
        self._opened = opened
        self.opened_ok = opened.page_count > 0
        self.ids.viewer.show(opened, self.job.job_code if self.job is not None else "")
        self.refresh()

    def _open_failed(self, exc: BaseException) -> None:
        log.info("job could not be opened: %s", type(exc).__name__)
        self._open_error = fmt.sentence(str(exc)) or "This job cannot be opened."
        self.error = self._open_error
        self.ids.viewer.clear(self.error)
        self.refresh()

    # -- state from the core ---------------------------------------------------
    def refresh(self) -> None:
        """Re-read the job after a core event."""
        if not self.job_id:
            return
        try:
            job = App.get_running_app().core.job(self.job_id)
        except KioskError:
            self.terminal = True
            self.ids.viewer.clear("This job is no longer in the queue.")
            return
        self._show_job(job)
        if job.is_terminal and self._opened is not None:
            self._opened = None
            self.opened_ok = False
            self.ids.viewer.clear(fmt.state_text(job.state) + (f": {job.reason}" if job.reason else ""))

    def _show_job(self, job: Any) -> None:
        self.job = job
        self.terminal = bool(job.is_terminal)
        self.title = f"Job {job.job_code}"
        state = fmt.state_text(job.state)
        left = "" if job.is_terminal else "  |  " + fmt.time_left_text(job.time_left())
        self.subtitle = f"{job.customer_name or '(no name)'}  |  {state}{left}"
        self.error = fmt.sentence(job.error or "") or self._open_error
        if job.is_terminal and job.reason:
            self.error = f"{fmt.state_text(job.state)}: {job.reason}"
        if job.print_status is not None:
            message = getattr(job.print_status, "message", "")
            state_name = getattr(job.print_status.state, "value", str(job.print_status.state))
            self.printer_status = f"Printer: {state_name}" + (f" - {message}" if message else "")
        self._update_price()

    # -- options -------------------------------------------------------------
    def set_option(self, **changes: Any) -> None:
        """Change print options (from the controls); invalid values show a message."""
        if self.options is None:
            return
        try:
            self.options = self.options.with_(**changes)
            self.options_error = ""
        except ValueError as exc:
            self.options_error = str(exc)
        self._update_price()

    def step_copies(self, delta: int) -> None:
        if self.options is not None:
            self.set_option(copies=max(1, min(999, self.options.copies + delta)))

    def apply_pages(self) -> None:
        self.set_option(page_ranges=self.ids.pages.text.strip())

    def _update_price(self) -> None:
        job = self.job
        if job is None or self.options is None or not job.page_count:
            self.price_line = ""
            return
        try:
            price = App.get_running_app().core.price(self.job_id, self.options)
        except (KioskError, ValueError) as exc:  # PageRangeError, not open yet: shown, never raised
            self.options_error = str(exc)
            self.price_line = ""
            return
        self.price_line = f"{fmt.sheets_text(price)}  =  {fmt.price_text(price)}"

    # -- actions -------------------------------------------------------------
    def print_job(self) -> None:
        """Send to the printer with the options on screen."""
        self.apply_pages()
        if self.options_error or self.options is None or not self.opened_ok:
            return
        self.busy = True
        self.printer_status = "Printer: sending..."
        core = App.get_running_app().core
        run_async(core.print_job, self.job_id, self.options, on_done=self._printed, on_error=self._action_failed)

    def _printed(self, status: Any) -> None:
        self.busy = False
        state_name = getattr(status.state, "value", str(status.state))
        message = getattr(status, "message", "")
        self.printer_status = f"Printer: {state_name}" + (f" - {message}" if message else "")

    def complete(self) -> None:
        """Mark done at the relay and wipe the kiosk's copy."""
        self.busy = True
        core = App.get_running_app().core
        run_async(core.complete, self.job_id, on_done=self._finished, on_error=self._action_failed)

    def ask_reject(self) -> None:
        RejectPopup(screen=self).open()

    def reject(self, reason: str) -> None:
        self.busy = True
        core = App.get_running_app().core
        run_async(core.reject, self.job_id, reason, on_done=self._finished, on_error=self._action_failed)

    def remove(self) -> None:
        """Drop a finished job from the list."""
        app = App.get_running_app()
        try:
            app.core.dismiss(self.job_id)
        except KioskError as exc:
            log.info("dismiss failed: %s", type(exc).__name__)
        app.show("queue")

    def _finished(self, _result: Any) -> None:
        self.busy = False
        App.get_running_app().show("queue")

    def _action_failed(self, exc: BaseException) -> None:
        self.busy = False
        log.info("job action failed: %s", type(exc).__name__)
        self.printer_status = fmt.sentence(str(exc)) or "That did not work."
