"""Details for the customer, sealed to the page's reply key (docs/envelope.md §5.1 and §5.2).

The relay keeps a fixed reason code in clear; what only the customer may read
(which file and which page a reject is about, each file's page count as the
kiosk counted it, the amount due, a note from the shopkeeper) travels as a
small JSON document sealed with :func:`envelope.seal_reply` to the reply key
the page put in the manifest. The relay stores and forwards the sealed bytes
(``KioskStatement.sealed_detail``) without reading them. Domain only: no grpc.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import envelope
from cloudtab_rpc.rejects import RejectCode

VERSION = 1
MAX_SEALED = 4096  # KioskStatement.sealed_detail limit at the relay
OVERHEAD = 65 + 16  # HPKE enc + AES-GCM tag
MAX_NOTE = 500
MAX_FILES = 100


class DetailError(ValueError):
    """A sealed-detail document that does not follow the schema."""


@dataclass(frozen=True)
class FilePages:
    """Pages of one file as the kiosk counted them; ``converted`` for an Office file it turned into PDF."""

    pages: int
    converted: bool = False


@dataclass(frozen=True)
class Detail:
    """One sealed detail (schema version 1). Every field is optional.

    ``file`` and ``page`` are 1-based (the customer's numbering), ``file_pages``
    the number of pages that file has; ``files`` each file's page count in
    manifest order; ``amount_due`` (minor units, ISO 4217 code).
    """

    reason: RejectCode | None = None
    file: int | None = None
    page: int | None = None
    file_pages: int | None = None
    files: tuple[FilePages, ...] = ()
    amount_due: tuple[int, str] | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        return self == Detail()

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, keys in schema order, absent fields left out."""
        data: dict[str, Any] = {"v": VERSION}
        if self.reason is not None:
            data["reason"] = self.reason.value
        for key in ("file", "page", "file_pages"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.files:
            data["files"] = [{"pages": f.pages, **({"converted": True} if f.converted else {})} for f in self.files]
        if self.amount_due is not None:
            data["amount_due"] = {"cents": self.amount_due[0], "currency": self.amount_due[1]}
        if self.note:
            data["note"] = self.note
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _count(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not int or not 0 <= value < 2**31:
        raise DetailError(f"'{key}' is not a count")
    return value


def parse(plaintext: bytes) -> Detail:
    """The Detail in an opened reply (what the page does; here for tests and tools).

    Raises:
        DetailError: not JSON, another version, or a field of the wrong type.
    """
    try:
        data = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DetailError("not UTF-8 JSON") from None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise DetailError("not a version-1 detail")
    reason = data.get("reason")
    code = None
    if reason is not None:
        try:
            code = RejectCode(reason)
        except ValueError:
            raise DetailError("'reason' is not a reject code") from None
    files_data = data.get("files", [])
    if not isinstance(files_data, list) or len(files_data) > MAX_FILES:
        raise DetailError("'files' is not a list")
    files = []
    for entry in files_data:
        if not isinstance(entry, dict) or _count(entry, "pages") is None:
            raise DetailError("'files' entry without pages")
        files.append(FilePages(entry["pages"], entry.get("converted") is True))
    amount = data.get("amount_due")
    due = None
    if amount is not None:
        if not isinstance(amount, dict) or not isinstance(amount.get("currency"), str):
            raise DetailError("'amount_due' is not an amount")
        cents = _count(amount, "cents")
        due = (cents if cents is not None else 0, amount["currency"])
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise DetailError("'note' is not a short text")
    return Detail(code, _count(data, "file"), _count(data, "page"), _count(data, "file_pages"), tuple(files), due, note)


def located(exc: BaseException) -> Detail:
    """Which file and page an error is about, from what the kiosk core attached to it.

    The core sets ``file_number`` (1-based), ``page`` and ``page_count`` on the
    errors it raises for one file or one page (``kiosk.core.errors.locate``).
    """
    return Detail(
        file=getattr(exc, "file_number", None),
        page=getattr(exc, "page", None),
        file_pages=getattr(exc, "page_count", None),
    )


def file_pages(counts: Sequence[int], converted: Sequence[bool]) -> tuple[FilePages, ...]:
    """Each file's page count, marking the files the kiosk converted (Office documents)."""
    return tuple(FilePages(n, bool(c)) for n, c in zip(counts, converted, strict=True))[:MAX_FILES]


def seal(detail: Detail, reply_key: bytes | None, job_id: str) -> bytes:
    """The sealed detail for ``KioskStatement.sealed_detail``; b"" with no reply key or nothing to say.

    Kept within :data:`MAX_SEALED`: the note is shortened, then the per-file
    counts are dropped when the document would not fit.

    Raises:
        envelope.InvalidKeyError: the reply key is not a P-256 point.
    """
    if reply_key is None or detail.empty:
        return b""
    detail = replace(detail, note=" ".join(detail.note.split())[:MAX_NOTE])
    plaintext = detail.to_json()
    if len(plaintext) + OVERHEAD > MAX_SEALED:
        plaintext = replace(detail, files=()).to_json()
    return envelope.seal_reply(reply_key, job_id, plaintext)
