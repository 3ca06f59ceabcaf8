"""The live job queue, newest first (queue.kv).

Rows are rebuilt from ``core.jobs()`` whenever the core reports a change; the
"time left" labels tick every second. Tapping a row opens the job view.
"""

from __future__ import annotations

import io
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.core.errors import KioskError
from kiosk.core.printing.words import stalled_words
from kiosk.ui import format as fmt


class JobRow(ButtonBehavior, BoxLayout):
    """One job in the queue: code, customer, files, pages, options, price, time left."""

    job: Any = ObjectProperty(None)
    job_id = StringProperty("")
    code = StringProperty("")
    customer = StringProperty("")
    files = StringProperty("")
    details = StringProperty("")
    price = StringProperty("")
    status = StringProperty("")
    time_left = StringProperty("")
    error = StringProperty("")
    terminal = BooleanProperty(False)
    is_new = BooleanProperty(False)

    def set_job(self, job: Any) -> None:
        """Show a KioskJob snapshot."""
        self.job = job
        self.job_id = job.job_id
        self.code = job.job_code
        self.customer = job.customer_name or "(no name)"
        self.files = fmt.files_text(job.files)
        self.details = f"{fmt.pages_text(job.page_count)}  |  {fmt.options_text(job.options)}"
        self.details += printer_suffix(App.get_running_app(), job)
        self.price = fmt.price_text(job.price)
        self.status = fmt.state_text(job.state)
        if job.printed_at is not None and not job.is_terminal:
            self.status = f"Printed at {fmt.clock_text(job.printed_at)}"
        if getattr(job, "taken_by", "") and not job.is_terminal:  # another counter of the shop has it
            self.status = fmt.counter_text(job.taken_by)
        if job.is_terminal and job.reason:
            self.error = f"{fmt.state_text(job.state)}: {job.reason}"
        else:
            self.error = fmt.plain(job.error or "", "This job has a problem. Open it to see more.") if job.error else ""
        if getattr(job, "stalled", False) and not self.error:
            self.error = stalled_words(App.get_running_app().core.settings.stalled_after_seconds)
        app = App.get_running_app()
        self.is_new = bool(app is not None and job.job_id in app.unseen)
        self.terminal = bool(job.is_terminal)
        self.tick()

    def tick(self) -> None:
        """Refresh the time-left label."""
        if self.job is None or self.terminal:
            self.time_left = ""
        else:
            self.time_left = fmt.time_left_text(self.job.time_left())

    def on_release(self) -> None:
        App.get_running_app().open_job(self.job_id)


def printer_suffix(app: Any, job: Any) -> str:
    """'  |  to Laser' when the kiosk has several printers (the job's routed or chosen one)."""
    core = getattr(app, "core", None)
    if core is None or job.is_terminal or not hasattr(core, "job_printer") or len(core.printer_names()) < 2:
        return ""
    try:
        return f"  |  to {core.job_printer(job.job_id, job.options)}"
    except KioskError:
        return ""


class QueueScreen(Screen):
    """Header, offline banner, the job list and the way to settings/poster; while no job is
    listed, the live key check (the poster's QR, the key set's words and fingerprint)."""

    job_count = NumericProperty(0)
    key_qr: Any = ObjectProperty(None, allownone=True)
    key_words = StringProperty("")
    key_fingerprint = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, JobRow] = {}
        self._ticker: Any = None

    def on_enter(self, *_: Any) -> None:
        self.refresh()
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *_: Any) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def refresh(self) -> None:
        """Rebuild the list from the core's snapshot (newest first)."""
        app = App.get_running_app()
        if app is None or app.core is None:
            return
        jobs = list(app.core.jobs())
        self.ids.printer_health.refresh()
        box = self.ids.jobs
        box.clear_widgets()
        self._rows.clear()
        for job in jobs:
            row = JobRow()
            row.set_job(job)
            self._rows[job.job_id] = row
            box.add_widget(row)
        self.job_count = len(jobs)
        if not jobs:
            self.load_key_check(app.core)

    def load_key_check(self, core: Any) -> None:
        """The words, fingerprint and live QR of the shop's key set (blank when not enrolled)."""
        shop = core.shop
        self.key_words = " ".join(shop.keyset_words) if shop else ""
        self.key_fingerprint = fmt.fingerprint_text(shop.keyset_display) if shop else ""
        try:
            png = core.poster_png(8)
        except KioskError:  # no bridge address yet: the words alone
            self.key_qr = None
            return
        texture = CoreImage(io.BytesIO(png), ext="png", nocache=True).texture
        texture.mag_filter = "nearest"
        self.key_qr = texture

    def on_kv_post(self, *_: Any) -> None:
        App.get_running_app().bind(unseen=self._mark_new)

    def _mark_new(self, _app: Any, unseen: list[str]) -> None:
        for job_id, row in self._rows.items():
            row.is_new = job_id in unseen

    def row(self, job_id: str) -> JobRow | None:
        """The row showing a job (tests tap it)."""
        return self._rows.get(job_id)

    def _tick(self, _dt: float) -> None:
        for row in self._rows.values():
            row.tick()
