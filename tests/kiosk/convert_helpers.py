"""Helpers shared by the conversion tests: page counts, text, and leftover checks."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pypdfium2 as pdfium

from kiosk.core import convert


def pages(pdf: bytes | bytearray) -> int:
    doc = pdfium.PdfDocument(bytes(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def text_and_images(pdf: bytes | bytearray) -> tuple[str, int]:
    """All text of the PDF and how many image objects its pages hold."""
    doc = pdfium.PdfDocument(bytes(pdf))
    try:
        text, images = [], 0
        for page in doc:
            text.append(page.get_textpage().get_text_range())
            images += sum(1 for obj in page.get_objects(max_depth=3) if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
        return "\n".join(text), images
    finally:
        doc.close()


def work_parent() -> Path:
    box = convert.sandbox()
    assert box is not None
    return convert.work_parent(box)


def converter_processes() -> list[str]:
    """Command lines of running processes that belong to a kiosk conversion."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if str(work_parent()) in cmdline:
            found.append(cmdline)
    return found


def assert_nothing_left() -> None:
    """No work folder and no converter process left, checked while holding the conversions'
    machine-wide lock (so a conversion running in another process right now is not mistaken
    for a leftover)."""
    parent = work_parent()
    if not parent.exists():
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert list(parent.iterdir()) == [], f"left in {parent}: {list(parent.iterdir())}"
        assert converter_processes() == []
    finally:
        os.close(fd)
