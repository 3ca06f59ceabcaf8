"""Open a job's envelope in memory: the sealed manifest, then each file record by record.

Plaintext goes into ``bytearray`` buffers sized from the manifest, so they
can be overwritten when the job is done (:func:`kiosk.core.render.wipe_buffer`).
Every failure is a :class:`DecryptError` naming what failed, never why in
cryptographic detail.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from dataclasses import dataclass

import envelope
from kiosk.core.errors import DecryptError
from kiosk.core.jobs import FileInfo
from kiosk.core.options import PrintOptions
from kiosk.core.render import wipe_buffer

log = logging.getLogger(__name__)

MAX_JOB_PLAINTEXT = 1 << 30  # 1 GiB in memory at most


@dataclass(frozen=True)
class JobManifest:
    """What the kiosk keeps of an opened manifest. ``content_key`` never appears in repr.

    ``options`` are the job's options; ``file_options`` (format 2) are each
    file's own, with its copies and page ranges in its own page numbers.
    A format-1 manifest has no ``file_options``: its page ranges count across
    all files (``options.page_ranges``).
    """

    customer_name: str
    note: str
    files: tuple[FileInfo, ...]
    digests: tuple[str, ...]
    options: PrintOptions
    content_key: bytes
    file_options: tuple[PrintOptions, ...] | None = None
    reply_key: bytes | None = None
    version: int = envelope.manifest.VERSION

    def __repr__(self) -> str:
        return f"JobManifest(files={len(self.files)}, options={self.options!r})"


def options_from_manifest(manifest: envelope.Manifest) -> tuple[PrintOptions, tuple[PrintOptions, ...] | None]:
    """The job's PrintOptions and, for format 2, each file's.

    Format 1: the job's copies and its page ranges across all files.
    Format 2: a single file's copies and pages are also the job's; with
    several files the job has all pages, and the files' copies when they agree (else 1).
    """
    o = manifest.options
    job = PrintOptions(
        color=o.color,
        sides=o.sides,
        media=o.media,
        pages_per_sheet=o.pages_per_sheet,
        orientation=o.orientation,
        photo_fit=o.photo_fit,
        photo_size=o.photo_size,
        photos_per_sheet=o.photos_per_sheet,
    )
    files = manifest.files
    if manifest.version == 1:
        return dataclasses.replace(job, copies=files[0].copies, page_ranges=manifest.job_page_ranges), None
    per_file = tuple(dataclasses.replace(job, copies=f.copies, page_ranges=f.page_ranges) for f in files)
    if len(per_file) == 1:
        return per_file[0], per_file
    copies = {f.copies for f in files}
    return dataclasses.replace(job, copies=copies.pop() if len(copies) == 1 else 1), per_file


def file_print_options(manifest: JobManifest, options: PrintOptions) -> list[PrintOptions] | None:
    """Each file's options for printing a several-file format-2 job with the job's current options.

    The job's options (the customer's, or the shop's edits) give colour, sides,
    paper, pages per sheet and orientation; each file keeps its own copies and
    pages until the shop changes the job's copies or pages, which then apply to
    the whole job (None: print with ``options`` alone).
    """
    own = manifest.file_options
    if own is None or len(own) < 2:
        return None
    if (options.copies, options.page_ranges) != (manifest.options.copies, manifest.options.page_ranges):
        return None
    return [dataclasses.replace(options, copies=f.copies, page_ranges=f.page_ranges) for f in own]


def open_job_manifest(sealed: bytes, private_key: envelope.keys.PrivateKey, job_id: str) -> JobManifest:
    """HPKE-open and validate the sealed manifest bound to ``job_id``.

    Raises:
        DecryptError: wrong key, another job's manifest, altered, or invalid.
    """
    if not sealed:
        raise DecryptError("the job has no manifest")
    try:
        manifest = envelope.open_manifest(sealed, private_key, job_id)
    except envelope.WrongKeyError:
        raise DecryptError("the job does not open with this kiosk's key (altered or sealed for another job)") from None
    except envelope.EnvelopeError:
        raise DecryptError("the job's manifest is not valid") from None
    total = sum(f.size for f in manifest.files)
    if total > MAX_JOB_PLAINTEXT:
        raise DecryptError("the job is too large for this kiosk's memory")
    # Names come from the customer: show one plain component, never a path,
    # control sequence or bidi override (see docs/security.md).
    names = envelope.unique_names([f.name for f in manifest.files])
    options, file_options = options_from_manifest(manifest)
    files = tuple(
        FileInfo(name=name, media_type=f.type, size=f.size) for name, f in zip(names, manifest.files, strict=True)
    )
    return JobManifest(
        customer_name=envelope.display_text(manifest.customer.name, 200),
        note=envelope.display_text(manifest.customer.note, 2000),
        files=files,
        digests=tuple(f.sha256 for f in manifest.files),
        options=options,
        content_key=manifest.content_key,
        file_options=file_options,
        reply_key=manifest.reply_key,
        version=manifest.version,
    )


def decrypt_file(manifest: JobManifest, index: int, ciphertext: bytes | bytearray) -> bytearray:
    """Open file ``index`` record by record into a new bytearray and verify size and SHA-256.

    On failure nothing decrypted survives (the partial buffer is wiped).

    Raises:
        DecryptError: tampered, truncated, wrong size or digest, bad index.
    """
    if not 0 <= index < len(manifest.files):
        raise DecryptError(f"the job has no file {index + 1}")
    size = manifest.files[index].size
    if envelope.ciphertext_size(size) != len(ciphertext):
        raise DecryptError(f"file {index + 1} does not have the size the manifest says")
    out = bytearray(size)
    digest = hashlib.sha256()
    pos = 0
    try:
        key = envelope.file_key(manifest.content_key, index)
        for record in envelope.open_records(key, ciphertext):
            end = pos + len(record)
            if end > size:
                raise DecryptError(f"file {index + 1} is longer than the manifest says")
            out[pos:end] = record
            digest.update(record)
            pos = end
        if pos != size:
            raise DecryptError(f"file {index + 1} is shorter than the manifest says")
        if not hmac.compare_digest(digest.hexdigest(), manifest.digests[index]):
            raise DecryptError(f"file {index + 1} does not match its checksum (altered)")
    except envelope.EnvelopeError:
        wipe_buffer(out)
        raise DecryptError(f"file {index + 1} failed authentication (altered or truncated)") from None
    except (DecryptError, ValueError) as exc:
        wipe_buffer(out)
        if isinstance(exc, DecryptError):
            raise
        raise DecryptError(f"file {index + 1} cannot be decrypted") from None
    return out
