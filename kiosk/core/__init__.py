"""The kiosk's domain core: enrollment, key store, relay connection, job queue,
decrypt, render, price and print. No Kivy import anywhere in this package.

The UI (kiosk/ui, kiosk/app.py) and the headless mode (``cloudtab-kiosk
--headless``) both drive one :class:`kiosk.core.service.KioskCore`.

Threading contract
------------------
* Calls marked **[blocking]** do network, crypto or printer I/O: call them on a
  worker thread (``threading.Thread`` / a small executor), never on the Kivy
  main thread.
* State changes are pushed to listeners registered with
  ``core.add_listener(fn)``; ``fn(event: CoreEvent)`` is called **from a core
  worker thread** (the subscription thread, or whatever thread called the
  blocking method). The UI must marshal with ``Clock.schedule_once`` and then
  re-read state (``core.jobs()``, ``core.job(job_id)``, ``core.connection``).
  Listeners must be quick and must not raise (exceptions are logged, ignored).
* Every public getter returns immutable snapshots (frozen dataclasses), safe
  to read from any thread.
* A job's documents are parsed, rendered, rewritten for print and merged in
  document worker processes (``kiosk.core.workers``: memory, time and bitmap
  limits, no lock shared across jobs); ``OpenedJob.render*`` block while a
  worker draws the page. In this process pypdfium2 is only used by
  ``kiosk.core.render`` directly (tests, poster, test page), under
  ``kiosk.core.render.PDFIUM_LOCK``.

Errors
------
``kiosk.core.errors``: every failure the core reports is a ``KioskError``
subclass with a human ``str(exc)`` fit to show on screen:
``ConfigError``, ``KeyStoreError`` (``WrongPassphrase``), ``EnrollmentError``,
``RelayError`` (``.code`` = gRPC status name; ``NotAuthorized``, ``UpdateNeeded``),
``JobError`` (``JobNotFound``,
``DecryptError``, ``DocumentError`` -> ``PasswordProtected``,
``DocumentTooLarge``, ``UnsupportedMedia``), ``PageRangeError``,
``PrinterError``. A failing job never blocks the others: its error is stored
on the job (``KioskJob.error``) and an event is emitted.

Public API (module: signatures)
-------------------------------
kiosk.core.config::

    default_data_dir() -> Path     # ~/.local/share/cloudtab/kiosk; %LOCALAPPDATA%/CloudTab/kiosk
    @dataclass(frozen) PriceTable(bw_cents: int = 10, colour_cents: int = 50, currency: str = "EUR",
        sheets: tuple[(media, color, duplex, cents), ...] = ())   # exceptions by paper/colour/sides
    @dataclass(frozen) Offer(media=("A4",), color, sides, pages_per_sheet)   # what the page may offer
        .format(cents: int) -> str                    # "EUR 1.20"
    @dataclass(frozen) PrinterSettings(kind: str = "folder",   # "folder" | "ipp" | "cups"
        uri: str = "",            # kind=ipp: ipp://host:631/ipp/print
        queue: str = "",          # kind=cups: queue name
        cups_server: str = "localhost:631",
        folder: str = "")         # kind=folder: output dir ("" = <data_dir>/demo-printer)
    @dataclass(frozen) Settings(relay_address: str = "", bridge_url: str = "",
        printer: PrinterSettings, prices: PriceTable, offer: Offer, sound: bool = True,
        default_media: str = "A4")
    load_settings(data_dir: Path) -> Settings; save_settings(data_dir, settings) -> None

kiosk.core.enrollment::

    @dataclass(frozen) ShopProfile(shop_id: str, slug: str, display_name: str,
        public_key: bytes, fingerprint: bytes, fingerprint_display: str,
        retention_seconds: int, min_kiosk_version: str,
        accepted_media_types: tuple[str, ...], relay_address: str, keyset_fingerprint: bytes)
        .keyset_digest / .keyset_param (#f=) / .keyset_display / .keyset_words   # envelope.md §2.1

kiosk.core.options::   # the one option vocabulary (manifest v2, capabilities, bridge, JS)

    PAPER_SIZES = {"A4": ..., "Letter": ..., "A3": ..., "Legal": ...}   # points (w, h)
    @dataclass(frozen) PrintOptions(copies: int = 1, sides: str = "one-sided",
        color: str = "monochrome", page_ranges: str = "", media: str = "A4",
        pages_per_sheet: int = 1, orientation: str = "portrait",
        photo_fit: str = "fit", photo_size: str = "page", photos_per_sheet: int = 1)
        # photo_*: photos only (fit | fill ; page | 10x15 | 4x6 ; 1 | 2 | 4); .photo_layout -> tuple
        # sides: one-sided | two-sided-long-edge | two-sided-short-edge
        # color: monochrome | color ; page_ranges: "" (all) or "1-3,5"
        # pages_per_sheet: 1 | 2 | 4 ; orientation: portrait | landscape
        .with_(**changes) -> PrintOptions              # dataclasses.replace + validate
        .validate() -> None   raises ValueError ; .duplex -> bool
    parse_page_ranges(spec: str, page_count: int) -> list[int]   # 0-based; raises PageRangeError
    page_range_spans(spec, page_count | None) ; count_pages(spec, page_count) ; check_page_ranges(spec)

kiosk.core.jobs::

    class LocalState(str, Enum): NEW (seen, not fetched; error set while retrying),
        FETCHING, READY (decrypted, received at relay), PRINTING, PRINTED (printer
        said completed: offer Complete), COMPLETED, REJECTED, CANCELLED, EXPIRED,
        FAILED (cannot be opened: error says why; offer Reject)
        .terminal -> bool
    @dataclass(frozen) FileInfo(name: str, media_type: str, size: int)
    @dataclass(frozen) KioskJob(job_id, job_code, state: LocalState,
        received_time: datetime, customer_name: str, note: str,
        files: tuple[FileInfo, ...], options: PrintOptions (the customer's request
        until print_job stores edited ones), page_count: int | None,
        price: Price | None, expire_time: datetime | None, submit_time,
        key_fingerprint: bytes, error: str | None,
        print_status: PrintStatus | None, reason: str, sequence: int,
        printed_at: datetime | None,   # survives a restart (kiosk.core.journal)
        stalled: bool)   # the print has not finished within settings.stalled_after_seconds
        .time_left(now: datetime | None = None) -> timedelta   # >= 0
        .is_terminal -> bool ; .expired -> bool

kiosk.core.pricing::

    @dataclass(frozen) Price(pages: int, sheets: int, copies: int, colour: bool,
        per_sheet_cents: int, total_cents: int, currency: str) ; .display -> str
    compute_price(page_count: int, options: PrintOptions, table: PriceTable | PriceList) -> Price
    # the rules shared with web_bridge/static/js/pricing.js (tests/data/pricing_cases.json):
    @dataclass(frozen) SheetPrice(media, color, duplex: bool, amount: int) ; PriceList(currency, sheets)
        .per_sheet(media, color, duplex) -> int  raises NotOffered ; PriceList.from_table(table, media)
    price_file(page_count | None, options, prices) -> PriceLine(pages, sheets, amount)  # None: at the counter
    quote([(page_count | None, options)], prices) -> Quote(lines, total, currency) ; .complete -> bool

kiosk.core.capabilities::   # published to the relay on connect and on save_settings

    shop_capabilities(settings, media_types=formats.accepted_media_types) -> Capabilities(media, color,
        sides, pages_per_sheet, prices: PriceList, accepted_media_types)

kiosk.core.intake / formats / convert / images (documents and photos into PDFs)::

    to_printable(plain: bytearray, media_type, name="", paper="A4", *, limits=None, layout=None)
        -> (bytearray, media_type)
        # Office/text -> PDF (convert), HEIC/WebP/GIF/TIFF -> PDF (images; JPEG/PNG too with a
        # chosen PhotoLayout), else unchanged
    find_soffice(environ=None, configured=None) ; configure_soffice(path)   # settings "soffice"
    accepted_media_types() -> tuple[str, ...]   # what this kiosk prints (Office only with LibreOffice)
    convert_to_pdf(data, kind: "docx"|"doc"|"odt"|"rtf"|"txt"|"xlsx"|"ods"|"pptx"|"odp",
                   limits: ConvertLimits | None = None) -> bytearray   # sandboxed LibreOffice
        raises ConversionError / ConversionTimeout / ConversionTooLarge / NotThatKind / ...
    photos_to_pdf(data, media_type, paper="A4", layout: PhotoLayout | None = None) -> bytes

kiosk.core.workers::

    @dataclass(frozen) Limits(memory_bytes=1.5 GiB, page_seconds=20, document_seconds=60,
        max_width=10_000, max_height=10_000, max_pixels=16_000_000)
    class WorkerPool(size=3 | $CLOUDTAB_KIOSK_DOCUMENT_WORKERS, limits=Limits())
        run(task: "kiosk.core.<module>:<function>", *args, timeout: float,
            doc: tuple[key, bytes] | None = None) -> Any   # in a worker process [blocking]
            # raises WorkLimitExceeded (DocumentTooLarge; .limit "time"|"memory") or the task's KioskError
        forget(keys) ; close()
    # KioskCore.documents is the kiosk's pool; kiosk.core.worker_tasks: prepare, render_page, merge

kiosk.core.sanitize::

    rewrite_pdf(source: pdfium.PdfDocument) -> bytes   # pages as XObjects on new pages: no actions,
        # scripts, annotations, attachments or trailing data; "page N is damaged" (runs in a worker)

kiosk.core.reasons::

    RejectReason = cloudtab_rpc.rejects.RejectCode ; WORDING: dict[RejectReason, str] ; MANUAL
    reason_for(exc) -> RejectReason
    # the only reasons the kiosk sends (the relay refuses other text); WORDING is the shop's sentence

kiosk.core.reply::

    @dataclass(frozen) Detail(reason=None, file=None, page=None, file_pages=None,
                              files: tuple[FilePages, ...] = (), amount_due: (cents, currency) | None, note="")
    seal(detail, reply_key: bytes | None, job_id) -> bytes   # b"" without a key or detail; <= 4096 B
    parse(plaintext) -> Detail ; located(exc) -> Detail     # file/page from errors.locate()
    # schema: docs/envelope.md §5.3; sent as KioskStatement.sealed_detail

kiosk.core.render::

    class Document:           # one opened file (PDF or image made into a PDF page)
        page_count: int
        page_size(index: int) -> tuple[float, float]      # points
        render(index: int, scale: float = 1.0) -> RenderedPage   # 72 dpi * scale
        render_fit(index: int, max_w: int, max_h: int) -> RenderedPage
        close() -> None
    @dataclass(frozen) RenderedPage(rgba: bytes, width: int, height: int)
        # top row first (flip vertically for a Kivy texture); capped at
        # MAX_RENDER_PIXELS (16 MP) by lowering the scale
    open_document(data: bytes | bytearray, media_type: str, paper: str = "A4") -> Document
        raises DocumentError / PasswordProtected / DocumentTooLarge / UnsupportedMedia
    image_to_pdf(data: bytes, media_type: str, paper: str = "A4") -> bytes

kiosk.core.service (the one object the UI uses)::

    class KioskCore:
        __init__(data_dir: Path | None = None, *, passphrase: str | None = None,
                 printer: PrinterBackend | None = None,   # overrides settings.printer
                 auto_accept: bool = False,               # headless: print + complete / reject
                 print_timeout: float = 600.0, idle_timeout: float = 45.0,
                 memory_budget: int | None = None)   # bytes for open jobs; default
                 # CLOUDTAB_KIOSK_MEMORY_BUDGET_MB or 2048 MiB (kiosk.core.budget)
        needs_passphrase -> bool ; unlock(passphrase: str) -> None   # raises WrongPassphrase
        enrolled -> bool
        shop -> ShopProfile | None
        settings -> Settings ; save_settings(settings: Settings) -> None
        connection -> ConnectionState(online: bool, status: str, message: str,
                                      update_needed: bool, since: datetime)
        add_listener(fn: Callable[[CoreEvent], None]) -> None ; remove_listener(fn)
        start() -> None            # non-blocking: starts the subscription thread
                                   # raises ConfigError (not enrolled), WrongPassphrase
        stop() -> None             # [blocking, < ~2 s]
        enroll(relay_address: str, code: str) -> ShopProfile          [blocking]
        rotate_key() -> ShopProfile                                   [blocking]
        jobs() -> list[KioskJob]   # newest first (terminal ones included until dismissed)
        job(job_id: str) -> KioskJob                                  # raises JobNotFound
        open_job(job_id: str) -> OpenedJob                            [blocking]
            # downloads (if not yet), decrypts, verifies sha256, opens documents
        price(job_id: str, options: PrintOptions) -> Price            # raises PageRangeError
        print_plan(job_id, options) -> PrintPlan   # per-file options and price lines + total
        edit_options(job_id, options) -> Price | None   # the shop's edits, kept in the journal
        print_job(job_id: str, options: PrintOptions) -> PrintStatus  [blocking]
            # UpdateJob(PRINTING), sends each file as its own print job, follows
            # status until completed/failed or timeout ("print_status" events),
            # then purges the print system's copy (Cancel-Job purge-job)
        cancel_print(job_id: str) -> bool   # stop a print in progress
        complete(job_id: str) -> None                                 [blocking]
            # CompleteJob at the relay, wipes decrypted buffers
        reject(job_id: str, reason: RejectReason | str, note: str = "",
               detail: reply.Detail | None = None) -> None             [blocking]
            # reason: a fixed code; note/detail only sealed to the page's reply key
        dismiss(job_id: str) -> None   # drop a terminal job from the list
        printer() -> PrinterBackend   # the default (first) printer; raises PrinterError for incomplete settings
        printer_names() -> list[str]  # labels in settings order (settings.all_printers())
        printer_health() -> list[PrinterHealth]   # last poll: .state, .reasons, .markers, .words, .stopped
        printer_caps() -> dict[str, PrinterCaps | None]   # read from each printer (None: not yet)
        job_printer(job_id, options=None) -> str   # the shop's choice, else the routing rules
        choose_printer(job_id, name | None) -> None   # None: back to the rules; raises JobError
        poll_printers() -> list[PrinterHealth]   [blocking; the health thread calls it every 5 s]
        list_printers() -> list[PrinterInfo]                          [blocking]
        test_print() -> PrintStatus                                   [blocking]
        print_poster() -> PrintStatus                                 [blocking]
        last_sequence() -> int     # persisted cursor of the subscription
        poster_url() -> str ; poster_png(scale: int = 10) -> bytes ; poster_pdf() -> bytes
    @dataclass(frozen) CoreEvent(kind: str, job_id: str | None = None, message: str = "")
        # kind (constants in kiosk.core.events):
        #       "job_added" (new job arrived: play sound / flash), "job_updated",
        #       "job_removed", "connection" (online/offline changed),
        #       "print_status", "enrolled", "settings",
        #       "printers" (a printer's health changed), "printer_stopped" (message: its label; chime)
    class OpenedJob:            # kiosk.core.opened
        job_id: str ; page_count: int ; wiped: bool   # (no .job: use core.job(job_id))
        page_size(index: int) -> tuple[float, float]
        render(index: int, scale: float = 1.0) -> RenderedPage   # global page index over all files
        render_fit(index: int, max_w: int, max_h: int) -> RenderedPage

kiosk.core.daybook (one encrypted line per completed job; injected clock)::

    @dataclass(frozen) DayEntry(job_id, time: float, job_code, files, pages | None, sheets | None,
        colour: bool, paper, printer, price_cents | None, currency, paid_at: float | None) ; .paid
    DayBook.open(path, key: bytes, clock=local_now, retention_days=90) -> DayBook   raises DayBookError
        .entries() / .unpaid() / .get(job_id) / .totals("day" | "week" | "month") -> Totals
        .append(entry) ; .mark_paid(job_id, paid=True) ; .set_retention(days) ; .export_csv(folder) -> Path
    removable_folders(roots=(/media, /run/media)) -> list[Path]   # mounted USB sticks
    kiosk.core.daybook_key.daybook_key(keystore) -> bytes   # wrapped under the current private key

KioskCore (kiosk.core.counter_payments)::

    amount_due(job_id) -> Price | None ; mark_paid(job_id, paid=True) ; paid_at(job_id) -> float | None
    daybook() -> DayBook   # complete() writes the job's line (paid or not)

kiosk.core.printing::

    class PrintState(str, Enum): PENDING, PROCESSING, COMPLETED, FAILED
    @dataclass(frozen) PrintStatus(state: PrintState, message: str = "", reasons: tuple[str, ...] = ())
        # message in plain words (printing/words.py); reasons: the IPP keywords
    @dataclass(frozen) PrintJobHandle(printer: str, job_id: int | str, uri: str = "")
    @dataclass(frozen) PrinterInfo(name: str, uri: str, state: str, info: str = "")
    class PrinterBackend(Protocol):
        name: str
        print_pdf(pdf: bytes, options: PrintOptions, job_name: str) -> PrintJobHandle  [blocking]
        status(handle: PrintJobHandle) -> PrintStatus                                 [blocking]
        list_printers() -> list[PrinterInfo]                                          [blocking]
        cancel(handle) -> None ; purge(handle) -> bool   # purge: nothing left in the spool  [blocking]
    IppPrinter(uri: str, timeout: float = 10.0) ; CupsPrinter(queue: str, server: str = "localhost:631")
    PdfFolderPrinter(folder: Path, keep_seconds=600)   # the "demo printer"; sweep() deletes old output
    make_printer(settings: PrinterSettings, data_dir: Path) -> PrinterBackend
    # several printers (issue 19): printing/caps.py PrinterCaps(media, color, sides, pages_per_sheet,
    #   finishings).supports(options), caps_from_attributes(attrs), union(caps);
    # printing/routing.py route(options, names, caps, rules) -> name; printing/health.py
    #   PrinterHealth(name, state, reasons, markers).words/.stopped/.stopping_reason -> WaitReason;
    # printing/fleet.py PrinterFleet (backends by label, poll()); printing/wait.py WaitReason
    ipp_attributes(options: PrintOptions) -> dict[str, object]   # the IPP mapping

kiosk.core.poster::

    shop_url(bridge_url: str, slug: str, value: str, param: str = "k") -> str   # "f": key set
    qr_png(url: str, scale: int = 10) -> bytes
    poster_pdf(shop_name: str, url: str, fingerprint_display: str, words=()) -> bytes   # A4

kiosk.core.demo (tests, benchmarks, demos)::

    seal_job(public_key: bytes, job_id, files: list[(name, media_type, bytes)],
             options: envelope.JobOptions | None = None, customer="Ada", note="",
             copies=1, page_ranges="", reply_key: bytes | None = None) -> SealedJob   # format 2
    sample_pdf(pages=3, size=(595, 842)) -> bytes ; sample_image("PNG"|"JPEG", size) -> bytes

kiosk.core.version::

    KIOSK_VERSION = "0.1.0" ; update_needed(min_version: str, current: str = KIOSK_VERSION) -> bool
"""
