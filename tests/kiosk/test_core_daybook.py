"""The day book: totals of a scripted day/week/month, retention, encryption at rest, CSV, Paid.

Domain tests with an injected clock; one test goes through KioskCore's real
complete path against an in-process relay.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.core.daybook import DayBook, DayBookError, DayEntry, period_start, removable_folders, totals_of
from kiosk.core.daybook_key import daybook_key
from kiosk.core.keystore import KeyStore

TZ = timezone(timedelta(hours=1))  # the shop's local time: days begin at local midnight


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def line(job_id: str, at: datetime, cents: int | None, *, paid: bool = False, sheets: int = 1) -> DayEntry:
    return DayEntry(
        job_id=job_id,
        time=at.timestamp(),
        job_code=f"K{job_id.upper():0>5}"[:6],
        files=2,
        pages=sheets * 2,
        sheets=sheets,
        colour=cents is not None and cents >= 50,
        paper="A4",
        printer="Laser by the door",
        price_cents=cents,
        currency="EUR",
        paid_at=at.timestamp() if paid else None,
    )


# Wednesday 2026-12-16, 15:00 local. Week starts Monday 14th; month starts 1st.
NOW = datetime(2026, 12, 16, 15, 0, tzinfo=TZ)
DAY = [
    # (job, when, cents, paid)
    ("old", NOW - timedelta(days=91), 555, True),  # written 91 days ago: past the 90-day retention today
    ("a1", datetime(2026, 12, 16, 0, 0, 5, tzinfo=TZ), 120, True),  # today, just after midnight
    ("a2", datetime(2026, 12, 16, 9, 30, tzinfo=TZ), 250, False),  # today, unpaid
    ("a3", datetime(2026, 12, 16, 14, 59, tzinfo=TZ), None, False),  # today, priced at the counter
    ("b1", datetime(2026, 12, 15, 23, 59, 59, tzinfo=TZ), 40, True),  # yesterday (this week)
    ("b2", datetime(2026, 12, 14, 8, 0, tzinfo=TZ), 300, True),  # Monday (this week)
    ("c1", datetime(2026, 12, 13, 22, 0, tzinfo=TZ), 700, False),  # Sunday: last week, this month
    ("c2", datetime(2026, 12, 1, 0, 0, tzinfo=TZ), 90, True),  # first of the month
    ("d1", datetime(2026, 11, 30, 23, 59, tzinfo=TZ), 1000, True),  # last month
]


def scripted_book(path: Path, key: bytes, clock: FakeClock) -> DayBook:
    book = DayBook.open(path, key, clock)
    for job, when, cents, paid in DAY:
        clock.now = when
        book.append(line(job, when, cents, paid=paid, sheets=2 if job.startswith("b") else 1))
    clock.now = NOW
    return book


def test_totals_of_a_scripted_day_week_and_month(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    key = os.urandom(32)
    book = scripted_book(tmp_path / "daybook.bin", key, clock)
    assert period_start(NOW, "week") == datetime(2026, 12, 14, tzinfo=TZ)
    today, week, month = (book.totals(p) for p in ("day", "week", "month"))
    assert (today.jobs, today.amount, today.paid, today.unpaid) == (
        3,
        (("EUR", 370),),
        (("EUR", 120),),
        (("EUR", 250),),
    )
    assert (today.unpaid_jobs, today.unpriced_jobs, today.sheets) == (2, 1, 3)
    assert (week.jobs, week.amount, week.paid) == (5, (("EUR", 710),), (("EUR", 460),))
    assert week.sheets == 3 + 2 + 2
    assert (month.jobs, month.amount, month.unpaid, month.unpaid_jobs) == (7, (("EUR", 1500),), (("EUR", 950),), 3)
    # The old line went when a newer one was added after it; the one of last month stays.
    assert [e.job_id for e in book.entries()] == ["a3", "a2", "a1", "b1", "b2", "c1", "c2", "d1"]
    assert [e.job_id for e in book.unpaid()] == ["a3", "a2", "c1"]
    # Paid later: the unpaid job of Sunday moves from unpaid to paid, totals follow.
    book.mark_paid("c1")
    assert book.totals("month").unpaid == (("EUR", 250),) and book.get("c1").paid  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        book.mark_paid("nope")
    # Reopened the next month with a shorter retention: only what is younger than 20 days is kept.
    clock.now = datetime(2027, 1, 4, 10, 0, tzinfo=TZ)
    again = DayBook.open(tmp_path / "daybook.bin", key, clock, retention_days=20)
    assert {e.job_id for e in again.entries()} == {"a1", "a2", "a3", "b1"}
    assert again.totals("month") == totals_of([])
    assert again.get("c1") is None and DayBook.open(tmp_path / "daybook.bin", key, clock).get("b2") is None


def test_the_file_holds_no_field_in_clear_and_needs_the_key(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    key = os.urandom(32)
    path = tmp_path / "daybook.bin"
    book = scripted_book(path, key, clock)
    blob = path.read_bytes()
    assert (path.stat().st_mode & 0o777) == 0o600
    plain = book._aead.decrypt(blob[5:17], blob[17:], blob[:5])  # what the file would say in clear
    needles = [e.job_code.encode() for e in book.entries()]
    needles += [b'"price_cents": 250', b"Laser by the door", b'"EUR"', b'"A4"', b"job_code", b"paid_at"]
    for needle in needles:
        assert needle in plain and needle not in blob, needle
    assert len(DayBook.open(path, key, clock).entries()) == 8
    with pytest.raises(DayBookError):
        DayBook.open(path, os.urandom(32), clock)
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(DayBookError):
        DayBook.open(path, key, clock)


def test_csv_export_to_a_chosen_folder(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    book = scripted_book(tmp_path / "daybook.bin", os.urandom(32), clock)
    book.append(dataclasses.replace(line("x9", NOW, 80), printer="=HYPERLINK(1)"))
    stick = tmp_path / "media" / "USBSTICK"
    stick.mkdir(parents=True)
    written = book.export_csv(stick)
    assert written == stick / "cloudtab-daybook-2026-12-16.csv"
    rows = list(csv.reader(io.StringIO(written.read_text(encoding="utf-8"))))
    assert rows[0][:4] == ["date", "time", "job code", "files"]
    assert len(rows) == 1 + 9
    first, last = rows[1], rows[-1]
    assert first[:2] == ["2026-11-30", "23:59"] and first[9:12] == ["10.00", "EUR", "yes"]
    assert last[:2] == ["2026-12-16", "15:00"] and last[11] == "no" and last[9] == "0.80"
    assert last[8] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    priced_at_counter = next(r for r in rows if r[2] == book.get("a3").job_code)  # type: ignore[union-attr]
    assert priced_at_counter[9] == "" and priced_at_counter[6] == "black-and-white"
    assert not list(stick.glob(".*"))  # no temporary file left
    with pytest.raises(DayBookError):
        book.export_csv(tmp_path / "unplugged")


def test_removable_media_are_mount_points_under_media(tmp_path: Path) -> None:
    (tmp_path / "media" / "ada" / "not-mounted").mkdir(parents=True)
    assert removable_folders([tmp_path / "media", tmp_path / "absent"]) == []
    assert Path("/proc") in removable_folders([Path("/")])  # a mount point one level down


def test_day_book_key_is_wrapped_by_the_kiosk_key_and_survives_rotation(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, passphrase="open sesame")
    first = store.generate()
    store.set_current(first)
    key = daybook_key(store)
    assert key not in (tmp_path / "keys" / "daybook.key").read_bytes()
    assert daybook_key(KeyStore(tmp_path, passphrase="open sesame")) == key
    second = store.generate()
    store.set_current(second)
    assert daybook_key(store) == key  # re-wrapped under the new key
    store.prune([], retention_seconds=0, now=time.time() + 3600)  # the old key is gone
    assert store.fingerprints() == [second]
    assert daybook_key(KeyStore(tmp_path, passphrase="open sesame")) == key


def test_completed_jobs_land_in_the_day_book_paid_or_unpaid(inproc_relay, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Through KioskCore's real print/complete path: the amount due, Paid before and after completion."""
    from kiosk.core.demo import sample_pdf
    from kiosk.core.jobs import LocalState
    from kiosk.core.printing import PdfFolderPrinter, PrintState
    from kiosk.core.service import KioskCore
    from tests.fixtures.faults import Customer, PlainFile
    from tests.kiosk.test_core_relay import job_in, wait_for

    slug, code = inproc_relay.add_shop("Counter Copy")
    customer = Customer(inproc_relay.channel())
    core = KioskCore(tmp_path / "kiosk", printer=PdfFolderPrinter(tmp_path / "out"), print_timeout=30.0)
    clock = FakeClock(NOW)
    core.daybook_clock = clock
    try:
        core.enroll(inproc_relay.address, code)
        core.start()
        sent = [
            customer.send(slug, [PlainFile("a.pdf", "application/pdf", sample_pdf(3), copies=2)], name="Ada"),
            customer.send(slug, [PlainFile("b.pdf", "application/pdf", sample_pdf(1))], name="Bob"),
        ]
        for job in sent:
            wait_for(job_in(core, job.job_id, LocalState.READY), what="job ready")
            core.open_job(job.job_id)
        due = core.amount_due(sent[0].job_id)
        assert due is not None and (due.sheets, due.total_cents, due.currency) == (6, 60, "EUR")  # 10 cents a sheet
        assert core.print_job(sent[0].job_id).state is PrintState.COMPLETED
        core.mark_paid(sent[0].job_id)  # cash at the till, before Complete
        assert core.paid_at(sent[0].job_id) == NOW.timestamp()
        core.complete(sent[0].job_id)
        clock.now = NOW + timedelta(minutes=5)
        core.complete(sent[1].job_id)  # never paid
        book = core.daybook()
        first, second = book.get(sent[0].job_id), book.get(sent[1].job_id)
        assert first is not None and second is not None
        assert (first.job_code, first.files, first.pages, first.sheets, first.price_cents, first.paid) == (
            sent[0].job_code,
            1,
            3,
            6,
            60,
            True,
        )
        assert first.printer and first.paper == "A4" and not first.colour
        assert (second.price_cents, second.paid) == (10, False)
        assert [e.job_id for e in book.unpaid()] == [sent[1].job_id]
        assert book.totals("day").amount == (("EUR", 70),) and book.totals("day").unpaid == (("EUR", 10),)
        core.mark_paid(sent[1].job_id)  # paid later, from the day book
        assert core.daybook().unpaid() == []
        blob = (core.data_dir / "daybook.bin").read_bytes()
        for job in sent:
            assert job.job_code.encode() not in blob and job.job_id.encode() not in blob
        assert b"Ada" not in blob and b"a.pdf" not in blob
    finally:
        core.stop()
    reopened = KioskCore(tmp_path / "kiosk")
    reopened.daybook_clock = clock
    assert [e.job_code for e in reopened.daybook().entries()] == [sent[1].job_code, sent[0].job_code]
    # A damaged book is kept aside and a new one started: completions are not lost from then on.
    blob = (tmp_path / "kiosk" / "daybook.bin").read_bytes()
    (tmp_path / "kiosk" / "daybook.bin").write_bytes(blob[:-3])
    damaged = KioskCore(tmp_path / "kiosk")
    assert damaged.daybook().entries() == []
    [aside] = (tmp_path / "kiosk").glob("daybook.bin.unreadable-*")
    assert aside.read_bytes() == blob[:-3]
