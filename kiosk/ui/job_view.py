"""One job: preview, editable options, per-file prices, Print / Complete / Reject (job_view.kv).

Opening (download, decrypt, open) and printing run on worker threads; a job
that cannot be opened shows the core's message where the page would be and
can still be rejected. Every irreversible step asks first: Complete says
plainly when nothing was printed, Print asks before printing a job again, and
a print in progress can be cancelled. Numbers are typed on the kiosk's own
keypad. Nothing here saves, exports or shares a document.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import Screen

from kiosk.core.errors import KioskError
from kiosk.core.options import check_page_ranges
from kiosk.core.reasons import RejectReason
from kiosk.ui import format as fmt
from kiosk.ui.widgets import ChoiceButton, ConfirmPopup, NumberPad
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)

# What the shopkeeper reads on each reason button (the customer's page has its own words).
REASON_LABELS: dict[RejectReason, str] = {
    RejectReason.UNSUPPORTED: "This file cannot be printed here.",
    RejectReason.DAMAGED: "A file is damaged.",
    RejectReason.PAGES: "Those pages are not in the document.",
    RejectReason.OPTIONS: "Those options are not available.",
    RejectReason.PRINTER: "The printer is out of order.",
    RejectReason.COUNTER: "Please come to the counter.",
}
PROMPT = "The job is deleted here and at the relay. Pick the reason the customer sees:"


class RejectPopup(Popup):
    """Asks for one of the fixed reasons and an optional note sealed to the customer's page.

    The buttons sit above the note field, clear of the keyboard.
    """

    screen: Any = ObjectProperty(None)
    chosen = StringProperty("")
    prompt = StringProperty(PROMPT)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for reason, label in REASON_LABELS.items():
            button = ChoiceButton(text=label, group=f"reject-{id(self)}", allow_no_selection=True)
            button.bind(state=lambda b, state, code=reason.value: self._pick(code, state))
            self.ids.choices.add_widget(button)

    def _pick(self, code: str, state: str) -> None:
        if state == "down":
            self.chosen = code
        elif self.chosen == code:
            self.chosen = ""

    def choose(self, reason: str) -> None:
        """Select the reason with this code."""
        for button in self.ids.choices.children:
            if REASON_LABELS.get(RejectReason(reason)) == button.text:
                button.state = "down"

    def confirm(self) -> None:
        if not self.chosen:
            self.prompt = "Pick a reason first: the customer sees it."
            return
        self.ids.note.focus = False
        self.dismiss()
        self.screen.reject(self.chosen, self.ids.note.text.strip()[:500])


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
    file_lines = StringProperty("")
    printer_status = StringProperty("")
    status_tone = StringProperty("muted")
    pages_text = StringProperty("All pages")
    busy = BooleanProperty(False)
    opened_ok = BooleanProperty(False)
    terminal = BooleanProperty(False)
    printing = BooleanProperty(False)
    printed = BooleanProperty(False)
    portrait = BooleanProperty(False)
    compact = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._opened: Any = None
        self._open_error = ""
        self.bind(size=self._on_size)

    def _on_size(self, *_: Any) -> None:
        from kivy.metrics import dp

        self.portrait = self.height > self.width * 1.1
        self.compact = self.width < dp(1100)

    # -- lifecycle -----------------------------------------------------------
    def load(self, job_id: str) -> None:
        """Show ``job_id``: header at once, pages once decrypted."""
        core = App.get_running_app().core
        self.close_job()
        self.job_id = job_id
        try:
            job = core.job(job_id)
        except KioskError:
            self.error = "This job is no longer in the queue."
            return
        self.options = job.options
        self._show_job(job)
        if job.is_terminal:
            self.ids.viewer.clear(self._ended_text(job))
            return
        self.ids.viewer.clear("Decrypting...")
        run_async(core.open_job, job_id, on_done=self._opened_job, on_error=self._open_failed)

    def close_job(self) -> None:
        """Drop the preview (textures and loader) and forget the opened job."""
        self._opened = None
        self._open_error = ""
        self.opened_ok = False
        self.error = self.options_error = self.printer_status = self.price_line = self.file_lines = ""
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
        self._open_error = fmt.plain(str(exc), "This job cannot be opened.")
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
            self.ids.viewer.clear(self._ended_text(job))

    @staticmethod
    def _ended_text(job: Any) -> str:
        return fmt.state_text(job.state) + (f": {job.reason}" if job.reason else "")

    def tick(self) -> None:
        """Once a second (from the app): the live time left in the subtitle."""
        if self.job is not None:
            self.subtitle = self._subtitle(self.job)

    def _subtitle(self, job: Any) -> str:
        state = fmt.state_text(job.state)
        if job.printed_at is not None and not job.is_terminal and job.state.value != "printing":
            state = f"Printed at {fmt.clock_text(job.printed_at)}"
        left = "" if job.is_terminal else "  |  " + fmt.time_left_text(job.time_left())
        return f"{job.customer_name or '(no name)'}  |  {state}{left}"

    def _show_job(self, job: Any) -> None:
        self.job = job
        self.terminal = bool(job.is_terminal)
        self.printing = job.state.value == "printing"
        self.printed = job.printed_at is not None
        self.title = f"Job {job.job_code}"
        self.subtitle = self._subtitle(job)
        if job.error:
            self.error = fmt.plain(job.error, "This job has a problem.")
        else:
            self.error = self._open_error
        if job.is_terminal and job.reason:
            self.error = self._ended_text(job)
        if job.print_status is not None:
            self.printer_status = fmt.print_status_text(job.print_status)
            self.status_tone = fmt.print_status_tone(job.print_status)
        elif self.printed:
            self.printer_status = f"Printed at {fmt.clock_text(job.printed_at)}."
            self.status_tone = "success"
        if self.options is None:
            self.options = job.options
        self._update_price()

    # -- options -------------------------------------------------------------
    def on_options(self, *_: Any) -> None:
        ranges = self.options.page_ranges if self.options is not None else ""
        self.pages_text = ranges or "All pages"

    def set_option(self, **changes: Any) -> None:
        """Change print options (from the controls); invalid values show a message."""
        if self.options is None:
            return
        try:
            self.options = self.options.with_(**changes)
            self.options_error = ""
        except ValueError as exc:
            self.options_error = fmt.plain(str(exc), "That option is not possible.")
            return
        edit = getattr(App.get_running_app().core, "edit_options", None)
        if callable(edit):
            try:
                edit(self.job_id, self.options)
            except (KioskError, ValueError) as exc:
                log.info("options not kept: %s", type(exc).__name__)
        self._update_price()

    def step_copies(self, delta: int) -> None:
        if self.options is not None:
            self.set_option(copies=max(1, min(999, self.options.copies + delta)))

    def ask_copies(self) -> None:
        """The kiosk's keypad for the number of copies."""

        def apply(text: str) -> None:
            if not text.isdigit() or not 1 <= int(text) <= 999:
                raise ValueError("Type a number from 1 to 999.")
            self.set_option(copies=int(text))

        NumberPad(apply, title="Copies", hint="1 to 999", max_length=3).open()

    def ask_pages(self) -> None:
        """The kiosk's keypad for page ranges ("1-3,5"; empty: all pages)."""

        def apply(text: str) -> None:
            try:
                check_page_ranges(text)
            except KioskError as exc:
                raise ValueError(fmt.plain(str(exc), "Type pages like 1-3,5.")) from None
            self.apply_pages(text)

        current = self.options.page_ranges if self.options is not None else ""
        pad = NumberPad(apply, keys="-,", title="Pages to print", hint="All pages (or e.g. 1-3,5)")
        pad.value = current
        pad.open()

    def apply_pages(self, text: str) -> None:
        self.set_option(page_ranges=text.strip())

    def _update_price(self) -> None:
        job = self.job
        self.ids.payment.refresh(job)  # amount due and Paid (kiosk/ui/daybook.py)
        if job is None or self.options is None or not job.page_count:
            self.price_line = self.file_lines = ""
            return
        core = App.get_running_app().core
        try:
            plan = core.print_plan(self.job_id, self.options) if hasattr(core, "print_plan") else None
            price = plan.total if plan is not None else core.price(self.job_id, self.options)
        except (KioskError, ValueError) as exc:  # PageRangeError, not open yet: shown, never raised
            self.options_error = fmt.plain(str(exc), "These pages do not fit the document.")
            self.price_line = self.file_lines = ""
            return
        self.options_error = ""
        self.price_line = f"{fmt.sheets_text(price)}  =  {fmt.price_text(price)}"
        self.file_lines = "\n".join(fmt.file_price_lines(plan, job.files)) if plan is not None else ""

    # -- actions -------------------------------------------------------------
    def ask_print(self) -> None:
        """Print; a job printed before, or one another counter has, asks first."""
        other = getattr(self.job, "taken_by", "") if self.job is not None else ""
        if other:
            ConfirmPopup(
                lambda: self.print_job(override=True),
                title="Print here?",
                confirm_text="Print here",
                tone="success",
                message=f"{fmt.counter_text(other)}: the shop's other counter has job {self.job.job_code}. "
                "Print it here anyway?",
            ).open()
            return
        if self.job is not None and self.job.printed_at is not None:
            ConfirmPopup(
                self.print_job,
                title="Print again?",
                confirm_text="Print again",
                tone="success",
                message=f"Job {self.job.job_code} was printed at {fmt.clock_text(self.job.printed_at)}. "
                "Print it again?",
            ).open()
            return
        self.print_job()

    def print_job(self, override: bool = False) -> None:
        """Send to the printer with the options on screen (``override``: even if another counter has it)."""
        if self.options_error or self.options is None or not self.opened_ok:
            return
        self.busy = True
        self.printer_status = "Sending to the printer..."
        self.status_tone = "muted"
        core = App.get_running_app().core
        send = functools.partial(core.print_job, override=True) if override else core.print_job
        run_async(send, self.job_id, self.options, on_done=self._printed, on_error=self._action_failed)

    def cancel_print(self) -> None:
        """Stop the print in progress (the print system's copy is removed too)."""
        cancel = getattr(App.get_running_app().core, "cancel_print", None)
        if callable(cancel) and cancel(self.job_id):
            self.printer_status = "Cancelling..."

    def _printed(self, status: Any) -> None:
        self.busy = False
        self.printer_status = fmt.print_status_text(status)
        self.status_tone = fmt.print_status_tone(status)
        self.refresh()

    def ask_complete(self) -> None:
        """Complete after a confirmation that says whether the job was printed."""
        job = self.job
        if job is None:
            return
        if job.printed_at is not None:
            ConfirmPopup(
                self.complete,
                title=f"Complete job {job.job_code}?",
                confirm_text="Complete",
                tone="success",
                message=f"Printed at {fmt.clock_text(job.printed_at)}. Completing deletes the job here "
                "and at the relay and tells the customer the prints are ready." + self.ids.payment.complete_note(),
            ).open()
        else:
            ConfirmPopup(
                self.complete,
                title="This job was never printed",
                confirm_text="Complete anyway",
                message=f"Nothing of job {job.job_code} has been printed. Completing deletes it and "
                "tells the customer it is done. To tell the customer why it was not printed, "
                "use Reject instead." + self.ids.payment.complete_note(),
            ).open()

    def complete(self) -> None:
        """Mark done at the relay and wipe the kiosk's copy."""
        self.busy = True
        core = App.get_running_app().core
        run_async(core.complete, self.job_id, on_done=self._finished, on_error=self._action_failed)

    def ask_reject(self) -> None:
        RejectPopup(screen=self).open()

    def reject(self, reason: str, note: str = "") -> None:
        self.busy = True
        core = App.get_running_app().core
        run_async(core.reject, self.job_id, reason, note, on_done=self._finished, on_error=self._action_failed)

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
        self.printer_status = fmt.plain(str(exc), "That did not work. Try again.")
        self.status_tone = "warning"
