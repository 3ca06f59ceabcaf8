"""A stand-in for KioskCore with canned jobs, for screenshot tests of the layout.

It uses the core's real types, pricing and renderer (pypdfium2 on a PDF made
here), so only the relay and the decryption are faked. The end-to-end test
(test_ui_app.py) drives the real KioskCore against a real relay.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from envelope.words import digest_words
from kiosk.core.config import PriceTable, PrinterSettings, RouteRule, Settings
from kiosk.core.daybook import DayBook, DayEntry
from kiosk.core.errors import DecryptError, JobNotFound, KioskError
from kiosk.core.jobs import FileInfo, KioskJob, LocalState, PrintOptions
from kiosk.core.pricing import compute_price
from kiosk.core.printing.base import PrinterInfo, PrintState, PrintStatus
from kiosk.core.render import open_document


def sample_pdf(pages: int = 3, label: str = "Sample") -> bytes:
    """A PDF with big page numbers and some boxes (drawn with Pillow)."""
    from PIL import Image, ImageDraw, ImageFont

    images = []
    for number in range(1, pages + 1):
        img = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(img)
        font = ImageFont.load_default(size=120)
        small = ImageFont.load_default(size=48)
        draw.text((100, 120), f"{label}", fill="black", font=font)
        draw.text((100, 320), f"Page {number} of {pages}", fill=(20, 60, 160), font=font)
        for row in range(8):
            draw.rectangle((100, 560 + row * 120, 1140, 620 + row * 120), fill=(200, 200 + row * 6, 220))
            draw.text((120, 565 + row * 120), f"Line {row + 1}: lorem ipsum dolor sit amet", fill="black", font=small)
        images.append(img)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


@dataclass(frozen=True)
class ShopProfile:
    """Same fields as kiosk.core.enrollment.ShopProfile."""

    shop_id: str
    slug: str
    display_name: str
    public_key: bytes
    fingerprint: bytes
    fingerprint_display: str
    retention_seconds: int
    min_kiosk_version: str
    accepted_media_types: tuple[str, ...]

    @property
    def keyset_display(self) -> str:
        return self.fingerprint_display

    @property
    def keyset_words(self) -> list[str]:
        return digest_words(hashlib.sha256(self.public_key).digest())


@dataclass
class ConnectionState:
    online: bool = True
    status: str = "online"
    message: str = ""
    update_needed: bool = False
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class CoreEvent:
    kind: str
    job_id: str | None = None
    message: str = ""


class FakeOpened:
    """OpenedJob over one real Document."""

    def __init__(self, job: KioskJob, pdf: bytes) -> None:
        self.job = job
        self._doc = open_document(bytearray(pdf), "application/pdf")
        self.page_count = self._doc.page_count

    def page_size(self, index: int) -> tuple[float, float]:
        return self._doc.page_size(index)

    def render(self, index: int, scale: float = 1.0) -> Any:
        return self._doc.render(index, scale)

    def render_fit(self, index: int, max_w: int, max_h: int) -> Any:
        return self._doc.render_fit(index, max_w, max_h)


class FakeCore:
    """Enough of KioskCore's API for the screens."""

    def __init__(self, enrolled: bool = True, online: bool = True, min_version: str = "") -> None:
        self._lock = threading.Lock()
        self._listeners: list[Any] = []
        self.settings = Settings(
            relay_address="relay.example.com:443",
            bridge_url="https://print.example.com",
            prices=PriceTable(bw_cents=10, colour_cents=50, currency="EUR"),
            printers=(PrinterSettings(kind="folder", name="Laser"), PrinterSettings(kind="folder", name="Colour")),
            routes=(RouteRule("Colour", color="color"), RouteRule("Laser", media="A3")),
        )
        self.connection = ConnectionState(
            online=online,
            status="online" if online else "offline",
            message="" if online else "relay unreachable, retrying in 4 s",
            update_needed=bool(min_version),
        )
        self._shop = ShopProfile(
            shop_id="shop-1",
            slug="corner-copy",
            display_name="Corner Copy Shop",
            public_key=b"\x04" + bytes(64),
            fingerprint=bytes(32),
            fingerprint_display="7KQ2-M9XD-4TZ1-PB8C",
            retention_seconds=1800,
            min_kiosk_version=min_version,
            accepted_media_types=("application/pdf",),
        )
        self.enrolled = enrolled
        self._pdfs: dict[str, bytes] = {}
        self._page_counts: dict[str, list[int]] = {}
        self._jobs: dict[str, KioskJob] = {}
        self.printed: list[tuple[str, PrintOptions]] = []
        self.completed: list[str] = []
        self.data_dir = Path(tempfile.mkdtemp(prefix="fake-kiosk-"))
        self._paid: dict[str, float] = {}
        self._book = DayBook(self.data_dir / "daybook.bin", os.urandom(32))
        for entry in sample_day(self._book.clock()):
            self._book.append(entry)
        # two printers (issue 19): a black-and-white A3 laser low on toner, a colour printer out of paper
        from kiosk.core.printing.caps import PrinterCaps
        from kiosk.core.printing.health import Marker, PrinterHealth

        self.printer_states = [
            PrinterHealth("Laser", "idle", markers=(Marker("Black toner", 6, 10),)),
            PrinterHealth("Colour", "idle", ("media-empty-report",)),
        ]
        self._printer_caps = {
            "Laser": PrinterCaps(media=("A4", "A3"), color=("monochrome",), sides=("one-sided",)),
            "Colour": PrinterCaps(media=("A4", "Letter")),
        }
        self._routes = self.settings.routes
        self._chosen: dict[str, str] = {}

    @property
    def shop(self) -> ShopProfile | None:
        return self._shop if self.enrolled else None

    def add_listener(self, listener: Any) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Any) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, kind: str, job_id: str | None = None) -> None:
        event = CoreEvent(kind, job_id)
        for fn in list(self._listeners):
            fn(event)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def enroll(self, relay_address: str, code: str) -> ShopProfile:
        self.enrolled = True
        self._emit("enrolled")
        return self._shop

    def add_job(
        self,
        code: str,
        customer: str,
        pages: int,
        options: PrintOptions,
        *,
        broken: bool = False,
        minutes_left: float = 25.0,
        files: tuple[str, ...] = ("report.pdf",),
        printed_at: datetime | None = None,
        taken_by: str = "",
    ) -> str:
        """Put a job in the queue (from any thread) and emit job_added; ``taken_by``: another counter has it."""
        job_id = f"job-{code}"
        now = datetime.now(UTC)
        pdf = sample_pdf(pages, f"{customer}'s document")
        job = KioskJob(
            job_id=job_id,
            job_code=code,
            state=LocalState.FAILED if broken else LocalState.READY,
            received_time=now,
            customer_name=customer,
            note="Please staple" if pages > 2 else "",
            files=tuple(FileInfo(name=name, media_type="application/pdf", size=len(pdf)) for name in files),
            printed_at=printed_at,
            options=options,
            page_count=None if broken else pages,
            price=None if broken else compute_price(pages, options, self.settings.prices),
            expire_time=now + timedelta(minutes=minutes_left),
            error="This job cannot be decrypted: it was tampered with or sealed to another key." if broken else None,
            taken_by=taken_by,
        )
        if printed_at is not None and not broken:
            job = job.replace(state=LocalState.PRINTED)
        with self._lock:
            self._jobs[job_id] = job
            self._pdfs[job_id] = pdf
            if len(files) > 1:
                self._page_counts[job_id] = [pages - 1] + [1] * (len(files) - 1)
        self._emit("job_added", job_id)
        return job_id

    def jobs(self) -> list[KioskJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.received_time, reverse=True)

    def job(self, job_id: str) -> KioskJob:
        with self._lock:
            try:
                return self._jobs[job_id]
            except KeyError:
                raise JobNotFound("this job is not in the queue") from None

    def open_job(self, job_id: str) -> FakeOpened:
        job = self.job(job_id)
        if job.error:
            raise DecryptError(job.error)
        return FakeOpened(job, self._pdfs[job_id])

    def price(self, job_id: str, options: PrintOptions) -> Any:
        return self.print_plan(job_id, options).total

    def print_plan(self, job_id: str, options: PrintOptions) -> Any:
        from kiosk.core.printing.plan import plan_print

        job = self.job(job_id)
        if not job.page_count:
            raise DecryptError("the job is not open")
        return plan_print(self._page_counts.get(job_id, [job.page_count]), options, self.settings.prices)

    def edit_options(self, job_id: str, options: PrintOptions) -> Any:
        options.validate()
        self._set(job_id, options=options)
        return None

    def cancel_print(self, job_id: str) -> bool:
        return False

    def _set(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = self._jobs[job_id].replace(**changes)
        self._emit("job_updated", job_id)

    def print_job(self, job_id: str, options: PrintOptions, *, override: bool = False) -> PrintStatus:
        self.printed.append((job_id, options))
        status = PrintStatus(PrintState.COMPLETED, "Printed")
        self._set(job_id, state=LocalState.PRINTED, print_status=status, options=options, printed_at=datetime.now(UTC))
        return status

    def complete(self, job_id: str) -> None:
        self.completed.append(job_id)
        job, price = self.job(job_id), self.amount_due(job_id)
        self._book.append(
            DayEntry(
                job_id,
                time.time(),
                job.job_code,
                len(job.files),
                price.pages if price else None,
                price.sheets if price else None,
                job.options.color == "color",
                job.options.media,
                "Laser (front)",
                price.total_cents if price else None,
                "EUR",
                self._paid.get(job_id),
            )
        )
        self._set(job_id, state=LocalState.COMPLETED)

    def reject(self, job_id: str, reason: str, note: str = "") -> None:
        self._set(job_id, state=LocalState.REJECTED, reason=reason)

    def dismiss(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
        self._emit("job_removed", job_id)

    def save_settings(self, settings: Settings) -> None:
        settings.validate()
        self.settings = settings

    def printer_names(self) -> list[str]:
        return [h.name for h in self.printer_states]

    def printer_health(self) -> list[Any]:
        return list(self.printer_states)

    def job_printer(self, job_id: str, options: PrintOptions | None = None) -> str:
        from kiosk.core.printing.routing import route

        if job_id in self._chosen:
            return self._chosen[job_id]
        return route(options or self.job(job_id).options, self.printer_names(), self._printer_caps, self._routes)

    def choose_printer(self, job_id: str, name: str | None) -> None:
        if name is None:
            self._chosen.pop(job_id, None)
        else:
            self._chosen[job_id] = name
        self._emit("job_updated", job_id)

    def list_printers(self) -> list[PrinterInfo]:
        return [PrinterInfo("demo", "ipp://localhost:631/ipp/print", "idle")]

    def test_print(self) -> PrintStatus:
        return PrintStatus(PrintState.COMPLETED, "Printed")

    def rotate_key(self) -> ShopProfile:
        return self._shop

    def poster_url(self) -> str:
        return "https://print.example.com/s/corner-copy#k=BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

    def poster_png(self, scale: int = 10) -> bytes:
        import segno

        out = io.BytesIO()
        segno.make(self.poster_url(), error="m").save(out, kind="png", scale=scale, border=2)
        return out.getvalue()

    def print_poster(self) -> PrintStatus:
        return PrintStatus(PrintState.COMPLETED, "Printed")

    def daybook(self) -> DayBook:
        return self._book

    def amount_due(self, job_id: str) -> Any:
        job = self.job(job_id)
        try:
            return self.print_plan(job_id, job.options).total
        except (KioskError, ValueError):
            return job.price

    def paid_at(self, job_id: str) -> float | None:
        line = self._book.get(job_id)
        return line.paid_at if line is not None else self._paid.get(job_id)

    def mark_paid(self, job_id: str, paid: bool = True) -> None:
        if self._book.get(job_id) is not None:
            self._book.mark_paid(job_id, paid)
        elif paid:
            self._paid[job_id] = time.time()
        else:
            self._paid.pop(job_id, None)
        self._emit("job_updated", job_id)


def sample_day(now: datetime) -> list[DayEntry]:
    """A shop's last days in the day book: paid and unpaid, colour and black-and-white."""
    rows = [
        ("Q1W2E3", timedelta(minutes=25), 2, 7, 7, False, 70, True),
        ("Z9X8C7", timedelta(hours=2), 1, 2, 2, True, 100, False),
        ("P0O9I8", timedelta(hours=3, minutes=10), 3, 24, 12, False, 120, True),
        ("L1K2J3", timedelta(days=1, hours=1), 1, 1, 1, False, None, False),
        ("M5N6B7", timedelta(days=3), 1, 40, 40, True, 2000, True),
        ("T4Y5U6", timedelta(days=12), 2, 10, 5, False, 50, True),
    ]
    return [
        DayEntry(
            f"old-{code}",
            (now - ago).timestamp(),
            code,
            files,
            pages,
            sheets,
            colour,
            "A4",
            "Laser (front)" if not colour else "Colour (back room)",
            cents,
            "EUR",
            (now - ago).timestamp() if paid else None,
        )
        for code, ago, files, pages, sheets, colour, cents, paid in rows
    ]
