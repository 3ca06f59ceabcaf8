"""A decrypted job in memory: its documents, pages across files, and the PDF to print.

Built from the ciphertexts by :func:`open_ciphertexts` (decrypt -> verify ->
open); :meth:`OpenedJob.wipe` closes every document and zeroes its buffer.
"""

from __future__ import annotations

import io
import logging
import threading
from bisect import bisect_right

import pypdfium2 as pdfium

from kiosk.core.decrypt import JobManifest, decrypt_file
from kiosk.core.errors import DocumentError, JobError, KioskError
from kiosk.core.intake import to_printable
from kiosk.core.render import (
    PDFIUM_LOCK,
    Document,
    RenderedPage,
    open_document,
    wipe_buffer,
)

log = logging.getLogger(__name__)


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
        """One PDF of all pages; caller wipes it.

        A job of one well-formed PDF is sent as its original bytes; several
        files, or a PDF whose header is not at the start, are re-written by pdfium.

        Raises:
            DocumentError: merging failed or wiped.
        """
        if self._wiped:
            raise JobError("the job's documents were wiped")
        if len(self.documents) == 1:
            original = self.documents[0].pdf_copy()
            if original[:5] == b"%PDF-":
                return original
            wipe_buffer(original)
        with PDFIUM_LOCK:
            merged = pdfium.PdfDocument.new()
            try:
                for doc in self.documents:
                    merged.import_pages(doc._pdf)
                out = io.BytesIO()
                merged.save(out)
            except pdfium.PdfiumError:
                raise DocumentError("the files cannot be put together for printing") from None
            finally:
                merged.close()
        view = out.getbuffer()
        result = bytearray(view)
        view[:] = bytes(len(view))  # why: BytesIO keeps its own copy of the plaintext
        view.release()
        return result

    @property
    def file_page_counts(self) -> list[int]:
        """Pages of each file, in job order."""
        return [doc.page_count for doc in self.documents]

    def file_pdf(self, index: int) -> bytearray:
        """File ``index`` alone as a PDF to print (its own print job); caller wipes it.

        Raises:
            DocumentError: bad index, re-writing failed or wiped.
        """
        if self._wiped:
            raise JobError("the job's documents were wiped")
        if not 0 <= index < len(self.documents):
            raise DocumentError(f"the job has no file {index + 1}")
        doc = self.documents[index]
        original = doc.pdf_copy()
        if original[:5] == b"%PDF-":
            return original
        wipe_buffer(original)
        with PDFIUM_LOCK:
            single = pdfium.PdfDocument.new()
            try:
                single.import_pages(doc._pdf)
                out = io.BytesIO()
                single.save(out)
            except pdfium.PdfiumError:
                raise DocumentError(f"file {index + 1} cannot be prepared for printing") from None
            finally:
                single.close()
        view = out.getbuffer()
        result = bytearray(view)
        view[:] = bytes(len(view))  # why: BytesIO keeps its own copy of the plaintext
        view.release()
        return result

    def wipe(self) -> None:
        """Close every document and zero its bytes (idempotent)."""
        with self._lock:
            if self._wiped:
                return
            self._wiped = True
        for doc in self.documents:
            doc.close(wipe=True)


def open_ciphertexts(job_id: str, manifest: JobManifest, ciphertexts: list[bytearray], paper: str) -> OpenedJob:
    """Decrypt, verify and open every file; on any failure nothing decrypted survives.

    Raises:
        DecryptError, DocumentError (and subclasses).
    """
    documents: list[Document] = []
    try:
        for index, ciphertext in enumerate(ciphertexts):
            plain = decrypt_file(manifest, index, ciphertext)
            info = manifest.files[index]
            try:
                printable, media_type = to_printable(plain, info.media_type, info.name, paper)
                if printable is not plain:  # a converted document: the original is not kept
                    wipe_buffer(plain)
                    plain = printable
                doc = open_document(plain, media_type, paper)
            except KioskError as exc:
                wipe_buffer(plain)
                if len(ciphertexts) > 1:
                    raise type(exc)(f"file {index + 1} ({manifest.files[index].name}): {exc}") from None
                raise
            if doc._buffer is not plain:
                wipe_buffer(plain)
            documents.append(doc)
        return OpenedJob(job_id, manifest, documents)
    except BaseException:
        for doc in documents:
            doc.close(wipe=True)
        raise
