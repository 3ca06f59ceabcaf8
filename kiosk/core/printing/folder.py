"""The demo printer: writes each job's PDF and its options (JSON) to a folder.

A real backend for trying CloudTab without paper (``cloudtab up --headless``).
It is the only place decrypted bytes reach the disk, as a print spool would,
and like a spool it does not keep them: :meth:`PdfFolderPrinter.sweep` deletes
output older than ``keep_seconds`` (the core runs it every housekeeping
minute) and everything at the kiosk's start.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
import time
from pathlib import Path

from kiosk.core.errors import PrinterError
from kiosk.core.options import PrintOptions
from kiosk.core.printing.base import (
    PrinterInfo,
    PrintJobHandle,
    PrintState,
    PrintStatus,
)
from kiosk.core.printing.ipp_printer import ipp_attributes

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
KEEP_SECONDS = 600.0


class PdfFolderPrinter:
    """Prints by writing ``NNNN-<job>.pdf`` and ``NNNN-<job>.json`` into ``folder``."""

    def __init__(self, folder: Path, keep_seconds: float = KEEP_SECONDS) -> None:
        self.folder = Path(folder)
        self.name = f"Demo printer ({self.folder})"
        self.keep_seconds = keep_seconds
        self._lock = threading.Lock()

    def print_pdf(self, pdf: bytes | bytearray, options: PrintOptions, job_name: str) -> PrintJobHandle:
        """Write the PDF and options.

        Raises:
            PrinterError: the folder cannot be written, or options are invalid.
        """
        try:
            attrs = ipp_attributes(options)
        except ValueError as exc:
            raise PrinterError(f"invalid print options: {exc}") from None
        stem_name = _SAFE.sub("_", job_name)[:60] or "job"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._lock:
                numbers = [int(p.name[:4]) for p in self.folder.glob("*.pdf") if p.name[:4].isdigit()]
                number = max(numbers, default=0) + 1
                stem = f"{number:04d}-{stem_name}"
                pdf_path = self.folder / f"{stem}.pdf"
                fd = os.open(pdf_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pdf)
            meta = {
                "job_name": job_name,
                "options": dataclasses.asdict(options),
                "ipp": attrs,
                "bytes": len(pdf),
                "time": time.time(),
            }
            (self.folder / f"{stem}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        except OSError as exc:
            raise PrinterError(f"the demo printer cannot write to {self.folder}: {exc.strerror}") from None
        return PrintJobHandle(printer=self.name, job_id=stem, uri=str(pdf_path))

    def status(self, handle: PrintJobHandle) -> PrintStatus:
        """Completed once the file is there."""
        if Path(handle.uri).exists():
            return PrintStatus(PrintState.COMPLETED, f"saved as {Path(handle.uri).name}")
        return PrintStatus(PrintState.FAILED, "the output file is gone")

    def cancel(self, handle: PrintJobHandle) -> None:
        """Nothing to stop: the file is written at once."""

    def purge(self, handle: PrintJobHandle) -> bool:
        """The demo output stays for ``keep_seconds`` so it can be looked at; :meth:`sweep` removes it."""
        return False

    def sweep(self, everything: bool = False, now: float | None = None) -> int:
        """Delete output older than ``keep_seconds`` (all of it with ``everything``); returns files removed."""
        if not self.folder.is_dir():
            return 0
        cutoff = (now if now is not None else time.time()) - self.keep_seconds
        removed = 0
        with self._lock:
            for path in self.folder.iterdir():
                if path.suffix not in (".pdf", ".json") or not path.is_file():
                    continue
                try:
                    if everything or path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError:
                    continue
        return removed

    def list_printers(self) -> list[PrinterInfo]:
        return [
            PrinterInfo(
                name="Demo printer",
                uri=self.folder.as_uri() if self.folder.is_absolute() else str(self.folder),
                state="idle",
                info="writes PDFs to a folder",
            )
        ]
