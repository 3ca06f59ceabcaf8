"""One real job through every real part, on the production backends.

PostgreSQL and the GCS emulator behind TWO relay processes; the bridge
(`cloudtab-bridge serve`) talks to relay A; the kiosk core, subscribed to relay B,
prints to `ippeveprinter`. A customer in headless Chromium on a phone sends a PDF
and a PNG with options; the kiosk receives the job through the other relay
(LISTEN/NOTIFY), decrypts, renders, prints, completes; the phone shows done; then
neither the bucket nor any table holds anything of the job but its bare outline
(ids, states, sizes, times), and no byte of the sealed manifest or the documents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.bridge_proc import BridgeProcess
from tests.e2e.customer import Options, Phone, Upload, make_pdf, make_png, wait_until

MARKER = "CLOUDTAB-E2E-MARKER-9d41"


@pytest.fixture
def bridge_factory(tmp_path: Path) -> Iterator[Callable[[str], BridgeProcess]]:
    made: list[BridgeProcess] = []

    def make(relay_address: str) -> BridgeProcess:
        made.append(BridgeProcess(relay_address, tmp_path / f"bridge{len(made)}.log"))
        return made[-1]

    yield make
    for bridge in made:
        bridge.stop()


def _db_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the public schema."""
    import psycopg

    out: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(url, connect_timeout=5) as conn:
        tables = [
            r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        ]
        for table in tables:
            out[table] = list(conn.execute(f'SELECT * FROM "{table}"'))
    return out


def _columns(url: str, table: str) -> list[str]:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode()


def _bucket_objects(bucket: str) -> list[str]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials())
    return [blob.name for blob in client.list_blobs(bucket)]


def _colours(rgba: bytes) -> int:
    """Distinct colours among a sample of the pixels."""
    return len({rgba[i : i + 4] for i in range(0, len(rgba) - 3, 4 * 97)})


def _page_text(pdf: bytes, index: int) -> str:
    import pypdfium2 as pdfium

    from kiosk.core.render import PDFIUM_LOCK

    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            page = doc[index]
            text = page.get_textpage().get_text_range()
            return f"{len(doc)}:{text}"
        finally:
            doc.close()


def test_job_through_every_real_part(
    make_pg_database: Callable[[], str],
    gcs_bucket: str,
    relay_factory: Any,
    bridge_factory: Callable[[str], BridgeProcess],
    ipp_printer: Any,
    chromium_browser: Any,
    tmp_path: Path,
) -> None:
    from kiosk.core.jobs import LocalState
    from kiosk.core.printing import IppPrinter, PrintState
    from kiosk.core.service import KioskCore

    started = time.monotonic()
    database = make_pg_database()
    relay_a = relay_factory(name="relay-a", database_url=database, gcs_bucket=gcs_bucket)
    relay_b = relay_factory(name="relay-b", database_url=database, gcs_bucket=gcs_bucket)
    slug, code = relay_a.add_shop("Corner Copy")
    bridge = bridge_factory(relay_a.address)

    core = KioskCore(tmp_path / "kiosk", printer=IppPrinter(ipp_printer.uri), auto_accept=False)
    core.enroll(relay_b.address, code)
    core.save_settings(core.settings.replace(bridge_url=bridge.url))
    url = core.poster_url()
    assert url.startswith(f"{bridge.url}/s/{slug}#f=")  # the key set fingerprint (docs/envelope.md §2.1)
    core.start()
    phone = Phone(chromium_browser, "journey")
    try:
        assert wait_until(lambda: core.connection.online, timeout=15), core.connection
        pdf = make_pdf(MARKER, pages=3)
        png = make_png()
        job_id = phone.send(
            url,
            [Upload("thesis.pdf", "application/pdf", pdf), Upload("photo.png", "image/png", png)],
            Options(copies=2, color="color", duplex="long", pages="1-2", paper="A4"),
            customer="Ada L.",
        )
        phone.shot("sent")

        # The kiosk hears of it through relay B (the bridge created it on relay A).
        ready = wait_until(
            lambda: (
                job_id in {j.job_id for j in core.jobs()}
                and core.job(job_id).state in (LocalState.READY, LocalState.FAILED)
            ),
            timeout=30,
        )
        assert ready, f"kiosk never got the job: {core.jobs()}\n{relay_b.log_tail()}"
        job = core.job(job_id)
        assert job.state is LocalState.READY, job.error
        # (streams are logged when they end: the fetch shows who served whom)
        assert "method=CreateJob" in relay_a.log_text() and "method=CreateJob" not in relay_b.log_text()
        assert "method=DownloadFile" in relay_b.log_text() and "method=DownloadFile" not in relay_a.log_text()
        assert (job.customer_name, [f.name for f in job.files]) == ("Ada L.", ["thesis.pdf", "photo.png"])
        assert (
            job.options.copies,
            job.options.color,
            job.options.sides,
            job.options.page_ranges,
            job.options.media,
        ) == (2, "color", "two-sided-long-edge", "", "A4")  # pages are per file
        sealed_rows = _db_rows(database)["jobs"]
        sealed_col = _columns(database, "jobs").index("sealed_manifest")
        sealed = next(bytes(r[sealed_col]) for r in sealed_rows if job_id in r)
        assert len(sealed) > 100
        assert _bucket_objects(gcs_bucket), "no ciphertext in the bucket while the job waits?"

        # Decrypt and render: the kiosk keeps a rewritten copy of the customer's pages; pages are not blank.
        opened = core.open_job(job_id)
        assert opened.page_count == 4  # 3 PDF pages + the image as one page
        kept = bytes(opened.documents[0].pdf_copy())
        assert kept != pdf and all(_page_text(kept, i) == _page_text(pdf, i) for i in range(3))
        page = opened.render(0, scale=0.5)
        assert page.width > 100 and page.height > 100
        assert _colours(page.rgba) > 2, "blank render"
        image_page = opened.render(3, scale=0.5)
        assert _colours(image_page.rgba) > 2, "blank render of the image"

        status = core.print_job(job_id)
        assert status.state is PrintState.COMPLETED, status.message
        recorded = ipp_printer.wait_for_jobs(2, timeout=20)
        assert len(recorded) == 2  # one print job per file, each with its own pages and copies
        (first,) = [r for r in recorded if "IPP_PAGE_RANGES" in r.attributes]
        (second,) = [r for r in recorded if r is not first]
        attrs = first.attributes
        assert attrs.get("IPP_COPIES") == "2", attrs
        assert attrs.get("IPP_SIDES") == "two-sided-long-edge", attrs
        assert attrs.get("IPP_PRINT_COLOR_MODE") == "color", attrs
        assert attrs.get("IPP_PAGE_RANGES") == "1-2", attrs
        assert attrs.get("IPP_MEDIA") == "iso_a4_210x297mm", attrs
        assert second.attributes.get("IPP_COPIES") == "2", second.attributes
        # The PDF is sent rewritten (its own pages); the image as a one-page PDF of its own.
        spooled = first.document
        assert spooled.startswith(b"%PDF")
        for index in range(3):
            assert _page_text(spooled, index) == _page_text(pdf, index)
        assert second.document.startswith(b"%PDF") and MARKER not in _page_text(second.document, 0)
        assert MARKER in _page_text(spooled, 0)

        core.complete(job_id)
        assert core.job(job_id).state is LocalState.COMPLETED
        phone.wait_done()
        phone.shot("done")
        assert [p for p in phone.problems if "favicon" not in p] == []
    finally:
        core.stop()
        phone.close()

    # Nothing of the job is left: no object in the bucket, no sealed manifest, no document byte.
    assert wait_until(lambda: not _bucket_objects(gcs_bucket), timeout=10), _bucket_objects(gcs_bucket)
    rows = _db_rows(database)
    job_rows = {
        table: [r for r in table_rows if any(_as_bytes(v) == job_id.encode() for v in r)]
        for table, table_rows in rows.items()
    }
    job_cols = _columns(database, "jobs")
    (job_row,) = job_rows["jobs"]
    assert job_row[job_cols.index("sealed_manifest")] is None
    assert job_row[job_cols.index("state")] == "completed"
    kept = {table for table, found in job_rows.items() if found}
    assert kept <= {"jobs", "job_events", "job_files"}, kept  # the design keeps the outline only
    everything = b"".join(_as_bytes(v) for table_rows in rows.values() for r in table_rows for v in r)
    assert sealed not in everything and sealed[:64] not in everything
    assert MARKER.encode() not in everything and b"Ada L." not in everything and b"thesis" not in everything
    for relay in (relay_a, relay_b):
        assert MARKER not in relay.log_text() and "thesis" not in relay.log_text()
    assert time.monotonic() - started < 90
