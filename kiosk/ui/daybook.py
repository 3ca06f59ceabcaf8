"""The day book screen (daybook.kv) and the job view's payment box (amount due and Paid).

Totals for today, this week and this month, the list of completed jobs
(newest first, or only the unpaid ones) with "Mark paid", and Export CSV to a
USB stick or the kiosk's folder. Reading the book is quick (it is in memory
once opened), so it runs on the main thread; exporting runs on a worker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import Screen

from kiosk.core.daybook import removable_folders
from kiosk.core.errors import KioskError
from kiosk.ui import format as fmt
from kiosk.ui.daybook_words import WORDS, entry_lines, entry_price, totals_lines
from kiosk.ui.worker import run_async

log = logging.getLogger(__name__)


class DayRow(BoxLayout):
    """One completed job in the list."""

    job_id = StringProperty("")
    first = StringProperty("")
    second = StringProperty("")
    price = StringProperty("")
    paid = BooleanProperty(False)
    screen: Any = ObjectProperty(None)

    def on_kv_post(self, *_: Any) -> None:
        """A paid line says so; an unpaid one has the Mark paid button."""
        from kivy.factory import Factory
        from kivy.metrics import dp

        from kiosk.ui.widgets import BigButton

        if self.paid:
            self.ids.action.add_widget(Factory.PaidMark())
            return
        button = BigButton(text=WORDS["mark_paid"], tone="success", size_hint=(1, None), height=dp(60))
        button.font_size = self.screen.row_font if self.screen is not None else button.font_size
        button.bind(on_release=lambda *_: self.screen.mark_paid(self.job_id))
        self.ids.action.add_widget(button)


class TotalCard(BoxLayout):
    """Today's, this week's or this month's totals."""

    label = StringProperty("")
    amount = StringProperty("")
    detail = StringProperty("")


class ExportPopup(Popup):
    """Where to save the CSV: every mounted USB stick, then the kiosk's own folder."""

    screen: Any = ObjectProperty(None)
    note = StringProperty("")

    def add_folder(self, label: str, folder: Path) -> None:
        from kiosk.ui.widgets import BigButton

        button = BigButton(text=label, tone="plain", font_size=self.screen.row_font)
        button.bind(on_release=lambda *_: self.pick(folder))
        self.ids.folders.add_widget(button)

    def pick(self, folder: Path) -> None:
        self.dismiss()
        self.screen.export_to(folder)


class DayBookScreen(Screen):
    """The day book: totals, the list, Mark paid, Export CSV."""

    W = WORDS
    cards: Any = ListProperty([])
    status = StringProperty("")
    status_tone = StringProperty("muted")
    unpaid_only = BooleanProperty(False)
    empty_text = StringProperty("")
    retention_text = StringProperty("")
    row_font = ObjectProperty(None)
    media_roots: tuple[Path, ...] | None = None  # tests point this at their own folders

    def on_pre_enter(self, *_: Any) -> None:
        self.status = ""
        self.refresh()

    def _book(self) -> Any:
        return App.get_running_app().core.daybook()

    def refresh(self) -> None:
        """Re-read the totals and the list."""
        rows = self.ids.rows
        rows.clear_widgets()
        try:
            book = self._book()
        except KioskError as exc:
            self.status = WORDS["cannot_open"].format(reason=fmt.plain(str(exc), "damaged"))
            self.status_tone = "warning"
            self.cards = []
            return
        periods = (("today", "day"), ("week", "week"), ("month", "month"))
        self.cards = [totals_lines(WORDS[word], book.totals(period)) for word, period in periods]
        tz = book.clock().tzinfo
        entries = book.unpaid() if self.unpaid_only else book.entries()
        for entry in entries:
            first, second = entry_lines(entry, tz)
            rows.add_widget(
                DayRow(
                    job_id=entry.job_id,
                    first=first,
                    second=second,
                    price=entry_price(entry),
                    paid=entry.paid,
                    screen=self,
                )
            )
        self.empty_text = "" if entries else WORDS["empty_unpaid" if self.unpaid_only else "empty"]
        self.retention_text = WORDS["retention"].format(days=book.retention_days)

    def show_unpaid(self, only: bool) -> None:
        self.unpaid_only = only
        self.refresh()

    def mark_paid(self, job_id: str, paid: bool = True) -> None:
        try:
            App.get_running_app().core.mark_paid(job_id, paid)
        except KioskError as exc:
            self.status = fmt.plain(str(exc), "That did not work. Try again.")
            self.status_tone = "warning"
        self.refresh()

    # -- retention ------------------------------------------------------------------
    def ask_retention(self) -> None:
        """The keypad for the retention in days; a shorter one asks before deleting lines."""
        from kiosk.ui.widgets import ConfirmPopup, NumberPad

        core = App.get_running_app().core

        def apply(text: str) -> None:
            if not text.isdigit() or not 1 <= int(text) <= 3660:
                raise ValueError("Type a number from 1 to 3660.")
            days = int(text)
            if days < core.settings.daybook_retention_days:
                ConfirmPopup(
                    lambda: self.set_retention(days),
                    title=WORDS["retention_shorter_title"],
                    confirm_text=WORDS["retention_delete"],
                    message=WORDS["retention_shorter"].format(days=days),
                ).open()
            else:
                self.set_retention(days)

        pad = NumberPad(apply, title=WORDS["retention_title"], hint=WORDS["retention_hint"], max_length=4)
        pad.value = str(core.settings.daybook_retention_days)
        pad.open()

    def set_retention(self, days: int) -> None:
        core = App.get_running_app().core
        try:
            core.save_settings(core.settings.replace(daybook_retention_days=days))
        except KioskError as exc:
            self.status = fmt.plain(str(exc), "That did not work. Try again.")
            self.status_tone = "warning"
        self.refresh()

    # -- export ---------------------------------------------------------------------
    def ask_export(self) -> None:
        popup = ExportPopup(screen=self, title=WORDS["export_title"])
        sticks = removable_folders(self.media_roots) if self.media_roots is not None else removable_folders()
        for stick in sticks:
            popup.add_folder(f"USB: {stick.name}", stick)
        if not sticks:
            popup.note = WORDS["export_none"]
        core = App.get_running_app().core
        popup.add_folder("This kiosk's folder", Path(getattr(core, "data_dir", Path.home())) / "exports")
        popup.open()

    def export_to(self, folder: Path) -> None:
        self.status = "Saving..."
        self.status_tone = "muted"

        def run() -> Path:
            if folder.name == "exports":
                folder.mkdir(mode=0o700, exist_ok=True)
            return self._book().export_csv(folder)  # type: ignore[no-any-return]

        run_async(run, on_done=self._exported, on_error=self._export_failed)

    def _exported(self, path: Path) -> None:
        self.status = WORDS["exported"].format(path=path)
        self.status_tone = "success"

    def _export_failed(self, exc: BaseException) -> None:
        self.status = fmt.plain(str(exc), "The file could not be saved.")
        self.status_tone = "warning"


class PaymentBox(BoxLayout):
    """In the job view: the amount due and the Paid button (cash or card at the till)."""

    due = StringProperty("")
    paid = BooleanProperty(False)
    paid_text = StringProperty(WORDS["paid_button"])
    live = BooleanProperty(False)
    job_id = ""

    def refresh(self, job: Any) -> None:
        """Show ``job``'s amount due and whether it is paid (quiet when the core cannot say)."""
        core = App.get_running_app().core
        self.job_id = job.job_id if job is not None else ""
        if job is None or not hasattr(core, "amount_due"):
            self.due, self.live = "", False
            return
        try:
            price = core.amount_due(job.job_id)
            paid_at = core.paid_at(job.job_id)
        except KioskError:
            price, paid_at = None, None
        if price is not None:
            self.due = WORDS["due"].format(amount=fmt.price_text(price))
        else:
            self.due = WORDS["due_unknown"] if not job.page_count else WORDS["due_at_counter"]
        self.paid = paid_at is not None
        when = fmt.clock_text(_from_epoch(paid_at)) if paid_at is not None else ""
        self.paid_text = WORDS["paid_done"].format(time=when) if self.paid else WORDS["paid_button"]
        self.live = not job.is_terminal

    def toggle(self) -> None:
        app = App.get_running_app()
        try:
            app.core.mark_paid(self.job_id, not self.paid)
        except KioskError as exc:
            log.info("paid mark not kept: %s", type(exc).__name__)
        try:
            self.refresh(app.core.job(self.job_id))
        except KioskError:
            pass

    def complete_note(self) -> str:
        """What Complete will write in the day book (for the confirmation)."""
        return WORDS["complete_paid"] if self.paid else WORDS["complete_unpaid"]


def _from_epoch(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)
