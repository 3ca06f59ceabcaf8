"""The day book's and the Paid button's words on the kiosk, in one place (no Kivy here).

Kiosk strings are English; this module is their catalogue for the day book
screen and the job view's payment box, so a translation changes only here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.core.config import PriceTable

WORDS = {
    "title": "Day book",
    "back": "< Settings",
    "export": "Export CSV...",
    "today": "Today",
    "week": "This week",
    "month": "This month",
    "all": "All jobs",
    "unpaid_only": "Unpaid only",
    "empty": "No completed jobs yet. Each job you complete is written here: code, pages, price, paid or not.",
    "empty_unpaid": "Every completed job is paid.",
    "mark_paid": "Mark paid",
    "paid": "Paid",
    "unpaid": "Unpaid",
    "cannot_open": "The day book cannot be opened: {reason}",
    "export_title": "Export the day book",
    "export_where": "Save a CSV file (for a spreadsheet) to:",
    "export_none": "No USB stick found. Plug one in and tap Export again, or save to the kiosk's folder.",
    "exported": "Saved {path}",
    "retention": "Lines are kept for {days} days, encrypted with this kiosk's key.",
    "retention_button": "Keep for...",
    "retention_title": "Keep day book lines for (days)",
    "retention_hint": "1 to 3660 days",
    "retention_shorter_title": "Delete older lines?",
    "retention_shorter": "Lines older than {days} days are deleted now and cannot be brought back.",
    "retention_delete": "Delete them",
    "due": "Amount due: {amount}",
    "due_unknown": "Amount due: shown once the job is open",
    "due_at_counter": "Amount due: price it at the counter",
    "paid_button": "Paid (cash or card)",
    "paid_done": "Paid at {time} - undo",
    "complete_paid": " Recorded as paid in the day book.",
    "complete_unpaid": " Not paid yet: it goes into the day book as unpaid.",
}


def amounts_text(amounts: tuple[tuple[str, int], ...]) -> str:
    """'EUR 12.30' (several currencies joined with ' + '); 'EUR 0.00'-like '0.00' when none."""
    if not amounts:
        return "0.00"
    return " + ".join(PriceTable(currency=c).format(cents) for c, cents in amounts)


def totals_lines(label: str, totals: Any) -> tuple[str, str, str]:
    """(heading, amount, detail) of one totals card."""
    jobs = f"{totals.jobs} job" + ("" if totals.jobs == 1 else "s")
    sheets = f"{totals.sheets} sheet" + ("" if totals.sheets == 1 else "s")
    detail = f"{jobs}, {sheets}"
    if totals.unpaid_jobs:
        unpaid = amounts_text(totals.unpaid) if totals.unpaid else ""
        detail += f"\nUnpaid: {totals.unpaid_jobs}" + (f" ({unpaid})" if unpaid else "")
    else:
        detail += "\nAll paid" if totals.jobs else "\nNothing yet"
    return label, amounts_text(totals.amount), detail


def entry_lines(entry: Any, tz: Any = None) -> tuple[str, str]:
    """(first line, second line) of a day book row: when and code; what was printed."""
    at = datetime.fromtimestamp(entry.time, tz).astimezone(tz)
    when = at.strftime("%a %d %b  %H:%M")
    files = f"{entry.files} file" + ("" if entry.files == 1 else "s")
    pages = "" if entry.pages is None else f", {entry.pages} page" + ("" if entry.pages == 1 else "s")
    sheets = "" if entry.sheets is None else f", {entry.sheets} sheet" + ("" if entry.sheets == 1 else "s")
    what = f"{files}{pages}{sheets}  |  {'Colour' if entry.colour else 'B/W'} {entry.paper}"
    if entry.printer:
        what += f"  |  {entry.printer}"
    return f"{when}   {entry.job_code}", what


def entry_price(entry: Any) -> str:
    """'EUR 1.20', or 'no price' for a job priced at the counter."""
    if entry.price_cents is None:
        return "no price"
    return PriceTable(currency=entry.currency).format(entry.price_cents)
