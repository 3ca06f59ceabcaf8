"""A decrypted job in memory: its documents, pages across files, and the PDF to print.

Built from the ciphertexts by :func:`open_ciphertexts` (decrypt -> verify ->
prepare in a document worker). The kiosk keeps only each file's rewritten PDF
(kiosk.core.sanitize) and page sizes; every render and the print merge run in
the worker pool (kiosk.core.workers), never in this process.
:meth:`OpenedJob.wipe` zeroes the kept bytes and drops the workers' copies.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from collections.abc import Callable
from itertools import count

from kiosk.core import worker_tasks as tasks
from kiosk.core.decrypt import JobManifest, decrypt_file
from kiosk.core.errors import DocumentError, JobError, KioskError, locate
from kiosk.core.formats import office_kind
from kiosk.core.intake import to_printable
from kiosk.core.render import RenderedPage, wipe_buffer
from kiosk.core.workers import WorkerPool, default_pool

log = logging.getLogger(__name__)
_serial = count(1)


class Document:
    """One prepared file: its rewritten PDF (wipeable) and page sizes; pages drawn by workers."""

    def __init__(
        self, pool: WorkerPool, pdf: bytearray, sizes: list[tuple[float, float]], source_type: str = "application/pdf"
    ) -> None:
        if not sizes:
            raise DocumentError("this PDF has no pages")
        self.pool = pool
        self.key = f"doc-{next(_serial)}"
        self._buffer = pdf
        self.sizes = sizes
        self.page_count = len(sizes)
        self.source_type = source_type
        self._closed = False

    def _check(self, index: int) -> None:
        if self._closed:
            raise DocumentError("the document is closed")
        if not 0 <= index < self.page_count:
            raise DocumentError(f"page {index + 1} does not exist")

    def page_size(self, index: int) -> tuple[float, float]:
        """(width, height) in points. Raises: DocumentError."""
        self._check(index)
        return self.sizes[index]

    def render(self, index: int, scale: float = 1.0) -> RenderedPage:
        """Render a page at 72 dpi x ``scale`` in a worker (within its caps and page time limit).

        Raises:
            DocumentError (WorkLimitExceeded when a limit is hit).
        """
        self._check(index)
        if not scale > 0:
            raise DocumentError("the render scale must be positive")
        rgba, width, height = self.pool.run(
            tasks.RENDER, index, scale, timeout=self.pool.limits.page_seconds, doc=(self.key, self._buffer)
        )
        return RenderedPage(rgba, width, height)

    def render_fit(self, index: int, max_width: int, max_height: int) -> RenderedPage:
        """Render a page as large as fits in max_width x max_height pixels. Raises: DocumentError."""
        width, height = self.page_size(index)
        return self.render(index, max(min(max_width / width, max_height / height), 0.01))

    def pdf_copy(self) -> bytearray:
        """A wipeable copy of the rewritten PDF. Raises: DocumentError (closed)."""
        if self._closed:
            raise DocumentError("the document is closed")
        return bytearray(self._buffer)

    def close(self, wipe: bool = True) -> None:
        """Zero the kept PDF and drop the workers' copies."""
        if self._closed:
            return
        self._closed = True
        try:
            self.pool.forget([self.key])
        except KioskError:
            pass
        if wipe:
            wipe_buffer(self._buffer)


class OpenedJob:
    """The pages of every file of a job, numbered 0..page_count-1 across files."""

    def __init__(self, job_id: str, manifest: JobManifest, documents: list[Document]) -> None:
        if not documents:
            raise DocumentError("the job has no files")
        self.job_id = job_id
        self.manifest = manifest
        self.documents = documents
        self._starts: list[int] = []
        total = 0
        for doc in documents:
            self._starts.append(total)
            total += doc.page_count
        self.page_count = total
        self._lock = threading.Lock()
        self._wiped = False

    @property
    def wiped(self) -> bool:
        return self._wiped

    def locate(self, index: int) -> tuple[Document, int]:
        """(document, page in it) for a job-wide page index.

        Raises:
            DocumentError: out of range or wiped.
        """
        if self._wiped:
            raise JobError("the job's documents were wiped")
        if not 0 <= index < self.page_count:
            raise DocumentError(f"page {index + 1} does not exist")
        n = bisect_right(self._starts, index) - 1
        return self.documents[n], index - self._starts[n]

    def page_size(self, index: int) -> tuple[float, float]:
        """Page size in points. Raises: DocumentError."""
        doc, page = self.locate(index)
        return doc.page_size(page)

    def render(self, index: int, scale: float = 1.0) -> RenderedPage:
        """Render a job-wide page. Raises: DocumentError."""
        doc, page = self.locate(index)
        return doc.render(page, scale)

    def render_fit(self, index: int, max_width: int, max_height: int) -> RenderedPage:
        """Render a job-wide page to fit a box. Raises: DocumentError."""
        doc, page = self.locate(index)
        return doc.render_fit(page, max_width, max_height)

    def print_pdf(self) -> bytearray:
        """The rewritten PDF of all pages to send to the printer; caller wipes it.

        Never the customer's original bytes: each file was rewritten by
        kiosk.core.sanitize when it was opened; several files are joined in a worker.

        Raises:
            DocumentError: merging failed (or a worker limit); JobError: wiped.
        """
        if self._wiped:
            raise JobError("the job's documents were wiped")
        if len(self.documents) == 1:
            return self.documents[0].pdf_copy()
        pool = self.documents[0].pool
        merged = pool.run(tasks.MERGE, [doc._buffer for doc in self.documents], timeout=pool.limits.document_seconds)
        return bytearray(merged)

    @property
    def file_page_counts(self) -> list[int]:
        """Pages of each file, in job order."""
        return [doc.page_count for doc in self.documents]

    def file_pdf(self, index: int) -> bytearray:
        """File ``index`` alone as a PDF to print (its own print job), as rewritten; caller wipes it.

        Raises:
            DocumentError: bad index or wiped.
        """
        if self._wiped:
            raise JobError("the job's documents were wiped")
        if not 0 <= index < len(self.documents):
            raise DocumentError(f"the job has no file {index + 1}")
        # Already rewritten when opened (kiosk.core.sanitize): never the customer's bytes.
        return self.documents[index].pdf_copy()

    def wipe(self) -> None:
        """Close every document and zero its bytes (idempotent)."""
        with self._lock:
            if self._wiped:
                return
            self._wiped = True
        for doc in self.documents:
            doc.close(wipe=True)


def open_ciphertexts(
    job_id: str,
    manifest: JobManifest,
    ciphertexts: list[bytearray],
    paper: str,
    pool: WorkerPool | None = None,
    grow: Callable[[int], None] | None = None,
    layout: tuple[str, str, int] | None = None,
) -> OpenedJob:
    """Decrypt, verify and prepare every file; on any failure nothing decrypted survives here.

    ``grow(n)`` is told the bytes a file became beyond what the job reserved for it
    (a converted PDF, a photo laid out on pages; kiosk.core.budget); it may raise
    DocumentTooLarge. ``layout`` is the job's photo layout (PrintOptions.photo_layout),
    applied to photo files only.

    Raises:
        DecryptError, DocumentError (and subclasses; WorkLimitExceeded for a limit hit).
    """
    pool = pool or default_pool()
    documents: list[Document] = []
    try:
        for index, ciphertext in enumerate(ciphertexts):
            plain = decrypt_file(manifest, index, ciphertext)
            info = manifest.files[index]
            try:
                media_type = info.media_type
                if office_kind(info.media_type, info.name) is not None:
                    # LibreOffice runs in its own sandbox with its own limits (kiosk.core.convert).
                    printable, media_type = to_printable(plain, info.media_type, info.name, paper)
                    if printable is not plain:
                        if grow is not None:
                            grow(len(printable))  # held with the original until that is wiped, then kept
                        wipe_buffer(plain)
                        plain = printable
                before = len(plain)
                # Photos are laid out (kiosk.core.intake) and everything is parsed in a worker.
                pdf, sizes, actual = pool.run(
                    tasks.PREPARE, plain, media_type, paper, info.name, layout, timeout=pool.limits.document_seconds
                )
            except KioskError as exc:
                locate(exc, file_number=index + 1)
                if len(ciphertexts) > 1:
                    exc.args = (f"file {index + 1}: {exc}",)  # the number only: names stay on the kiosk's screen
                raise
            finally:
                wipe_buffer(plain)
            if grow is not None and len(pdf) > before:
                grow(len(pdf) - before)  # the kept PDF is larger than the file it was made from
            documents.append(Document(pool, bytearray(pdf), sizes, actual))
            del pdf
        return OpenedJob(job_id, manifest, documents)
    except BaseException:
        for doc in documents:
            doc.close(wipe=True)
        raise
